"""Each answer's status line and headers go out in the same ``send()`` as its body's first bytes.

gunicorn's ``Response`` writes the headers (``send_headers``) and then
each piece of the body with one ``sendall`` each.  On a TCP connection every
send is a segment of its own, and on loopback (a client, a proxy or the
benchmarks on the same machine) the sender's system call also delivers it to
the receiver: half of a worker's sending went into the header segment of
an answer whose body followed at once (docs/performance.md, "Request path,
round three").  ``OneSendResponse`` holds the headers back until the first
body bytes and sends them together; everything else about the answer (its
bytes, its framing, when the connection closes) is gunicorn's.

gunicorn lets a response class be chosen for HTTP/2 (``wsgi.create``'s
``response_class``) but builds HTTP/1.1 ones from the module's ``Response``
with no setting for it, so ``use_one_send()`` puts the subclass there, in
the process that serves (the node's gunicorn master, before it forks its
workers).  The subclass leans on three of gunicorn's internals:
``write`` sends the headers through ``send_headers`` and the body through
``_emit_body`` (the hook gunicorn names for subclasses that frame bodies
differently), and ``headers_sent`` says whether the headers went out;
``tests/web/test_sending.py`` fails if any of that changes under it.
"""

from gunicorn import util
from gunicorn.http import wsgi


class OneSendResponse(wsgi.Response):
    """A gunicorn response whose headers travel with its body's first bytes.

    Only a body written with ``write`` is joined to the headers (every answer
    of the node's app); a chunked one keeps gunicorn's order of sends, as
    does one sent from a file.  Should the first ``write`` send nothing (an
    empty chunk, a HEAD request's body, an argument that is not bytes), the
    headers go out alone before it returns, as gunicorn sends them.
    """

    _held = b""  # the status line and headers, while they wait for the body

    def write(self, arg):
        if self.headers_sent or self.chunked:
            return super().write(arg)
        self._held = self.head()
        self.headers_sent = True
        try:
            super().write(arg)
        finally:
            if self._held:
                held, self._held = self._held, b""
                util.write(self.sock, held)

    def _emit_body(self, data):
        if self._held:
            data, self._held = self._held + data, b""
        super()._emit_body(data)

    def head(self):
        """The status line and headers as ``send_headers`` writes them."""
        lines = self.default_headers()
        lines.extend([f"{name}: {value}\r\n" for name, value in self.headers])
        return f"{''.join(lines)}\r\n".encode("latin-1")


def use_one_send():
    """Serve HTTP/1.x answers with ``OneSendResponse`` in this process and the workers it forks."""
    wsgi.Response = OneSendResponse
