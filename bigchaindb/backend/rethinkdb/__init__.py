"""The cluster engine: BigchainDB storage on RethinkDB through the official driver.

``connection.RethinkDBConnection`` implements the storage interface;
``admin.set_shards`` and ``admin.set_replicas`` reconfigure a cluster.
"""
