"""Live streams of the ledger: valid transactions, decided blocks and votes, resumable.

``events`` says what the streams carry and reads it from the store in the
ledger's order; ``hub`` shares one reader among every subscriber and lets a
client catch up from a position; ``server`` serves them as WebSocket and
server-sent events, in a process of its own (docs/api.md, "Event streams").
"""
