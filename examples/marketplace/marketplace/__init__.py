"""A marketplace on a BigchainDB 0.8 ledger, speaking OpenBazaar-Server 1.x's REST API.

One server per participant (``python -m marketplace CONFIG.json``); see
README.md for the routes and ``server`` for how each one uses the ledger.
"""
