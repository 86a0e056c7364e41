"""The client's stream follower resumes from the last position it saw: after the node cuts
it off for falling behind, and after the connection drops (a stand-in server over real HTTP)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from bigchaindb.client import BigchainDB


def event(position):
    data = {"transaction_id": f"{position:064x}", "asset_id": None, "block_id": None, "position": str(position)}
    return f"id: {position}\ndata: {json.dumps(data)}\n\n"


class Node(BaseHTTPRequestHandler):
    """Links its stream; the stream's first connection sends 1 and 2 then a cut-off, the
    second 3 then drops, the third 4."""

    asked = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlparse(self.path)
        if url.path == "/api/v1/":
            body = json.dumps({"_links": {"streams": {"valid_transactions":
                                                      f"ws://127.0.0.1:{self.server.server_port}/s/valid"}}})
            self.answer("application/json", body)
            return
        self.asked.append(parse_qs(url.query))
        script = {1: ": heartbeat\n\n" + event(1) + event(2) + "event: cut-off\ndata: too far behind\n\n",
                  2: event(3), 3: event(4)}[len(self.asked)]
        self.answer("text/event-stream", script)

    def answer(self, content_type, body):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_the_stream_resumes_after_a_cut_off_and_a_dropped_connection():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Node)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        events = BigchainDB(f"http://127.0.0.1:{server.server_port}").streams.valid_transactions(
            since="0", public_key="alice")
        assert [next(events)["position"] for _ in range(4)] == ["1", "2", "3", "4"]
        events.close()
    finally:
        server.shutdown()
    assert [asked.get("since") for asked in Node.asked] == [["0"], ["2"], ["3"]]
    assert all(asked["public_key"] == ["alice"] for asked in Node.asked)
