"""Calls from web pages of other origins (CORS), for the origins ``server.cors_origins`` names.

flask-cors does the protocol: it answers a preflight (``OPTIONS`` with
``Access-Control-Request-Method``) with the methods, headers and how long a
browser may keep the answer, and adds ``Access-Control-Allow-Origin`` to
every answer for an allowed origin, errors included.  This module only
chooses its options:

- ``"*"``: any page may call; the answer says ``*`` rather than echoing the
  page's ``Origin`` (no cookies or credentials are involved: the API has none);
- a list: each origin matches exactly (case aside), so an origin with
  characters that look like a regular expression (an IPv6 host's brackets)
  is still one origin; every answer then says ``Vary: Origin``, so that a
  cache never hands one origin's answer to another;
- no setting: no CORS header at all, and browsers keep other origins' pages
  from reading the answers.

The ``Origin`` header is only compared, never parsed, so a huge or malformed
one is just an origin that is not allowed.
"""

import re

from flask_cors import CORS

METHODS = ["GET", "HEAD", "POST", "OPTIONS"]
# what a page may send: JSON bodies, and its own request id to find its requests in the node's log
ALLOW_HEADERS = ["Content-Type", "Accept", "X-Request-ID"]
# what a page may read beyond the basic headers: links to the next page, where a
# posted transaction's status is, the request id, and a transaction's block time
EXPOSE_HEADERS = ["Link", "Location", "X-Request-ID", "X-BigchainDB-Timestamp"]
MAX_AGE = 3600  # seconds a browser may keep a preflight's answer (Chromium keeps at most 7200)


def allow_origins(app, origins):
    """Answer CORS for ``origins`` (the ``server.cors_origins`` setting) on every route of ``app``."""
    if not origins:
        return
    if origins == "*":
        allowed, wildcard = "*", True
    else:
        allowed = [re.compile(re.escape(origin) + r"\Z", re.IGNORECASE) for origin in origins]
        wildcard = False
        app.after_request(_vary_by_origin)
    CORS(app, origins=allowed, send_wildcard=wildcard, always_send=False, methods=METHODS,
         allow_headers=ALLOW_HEADERS, expose_headers=EXPOSE_HEADERS, max_age=MAX_AGE)


def _vary_by_origin(response):
    response.vary.add("Origin")
    return response
