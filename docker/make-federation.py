"""Write the configuration files of a test federation: one per node.

Each file gives its node a keypair of its own and a keyring naming every
other node's public key, which is what makes separate nodes one federation.
docker-compose.yml runs this once, in the node image, before any node
starts; the nodes then read their file with -c.  Everything else (database,
bind address, trusted proxies) comes from the BIGCHAINDB_* environment the
compose file sets, so the files hold only what differs between nodes.

A complete set of files is kept as it is, so that a restarted federation
keeps the identities its blocks and votes were signed with.

    python make-federation.py DIRECTORY [--nodes 3]
"""

import argparse
import os

from bigchaindb import config
from bigchaindb.common.crypto import generate_key_pair


def config_paths(directory, nodes):
    """DIRECTORY/node1.json ... DIRECTORY/nodeN.json."""
    return [os.path.join(directory, f"node{index}.json") for index in range(1, nodes + 1)]


def make_federation(directory, nodes=3):
    """Write (or keep) the nodes' configuration files; return their paths and whether they were written."""
    paths = config_paths(directory, nodes)
    if all(os.path.exists(path) for path in paths):
        return paths, False
    keypairs = [generate_key_pair() for _ in paths]
    for path, own in zip(paths, keypairs):
        config.write_file({
            "keypair": {"public": own.public_key, "private": own.private_key},
            "keyring": [other.public_key for other in keypairs if other is not own],
        }, path)
    return paths, True


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write the configuration files of a test federation.")
    parser.add_argument("directory", help="where node1.json, node2.json, ... go")
    parser.add_argument("--nodes", type=int, default=3, help="how many nodes (default 3)")
    args = parser.parse_args(argv)
    if args.nodes < 1:
        parser.error("--nodes must be at least 1")
    paths, written = make_federation(args.directory, args.nodes)
    print(("wrote " if written else "kept the existing ") + ", ".join(paths))


if __name__ == "__main__":
    main()
