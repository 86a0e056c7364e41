"""Long-running stages of a node, each run in its own process by ``processes``.

block     this node's backlog entries → signed blocks
vote      every new block → this node's signed vote
election  every new vote → requeue the transactions of a block decided INVALID
stale     backlog entries nobody picked up in time → another node
"""
