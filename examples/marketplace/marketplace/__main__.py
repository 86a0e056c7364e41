"""Run one participant's marketplace server: ``python -m marketplace CONFIG.json``.

The configuration is a JSON object: ``username`` and ``password`` (what
``/login`` checks), ``keypair`` (``public`` and ``private``, base58: the
participant's guid is its public key), ``node`` (the node's URL),
``currency`` (the asset id of the currency it pays with), ``host`` and
``port`` to listen on, ``public_url`` (how other servers reach it; default
``http://host:port``), and ``profile`` (name, handle, moderator, ... for the
first profile).  Before serving, the server makes sure its profile on the
ledger names its address, so other servers find it by its guid.
"""

import json
import sys

from werkzeug.serving import make_server

from marketplace.server import create_app


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: python -m marketplace CONFIG.json")
    with open(argv[1]) as config_file:
        config = json.load(config_file)
    config.setdefault("public_url", f"http://{config['host']}:{config['port']}")
    app = create_app(config)
    app.extensions["market"].ensure_profile(config.get("profile", {}))
    # a thread per request: a server waits for the ledger, and for peers who wait for it too
    server = make_server(config["host"], config["port"], app, threaded=True)
    print(f"marketplace server of {config['username']} on {config['public_url']}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
