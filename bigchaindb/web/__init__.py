"""The node's HTTP API: a Flask app (``app.create_app``) served by gunicorn (``server.create_server``)."""
