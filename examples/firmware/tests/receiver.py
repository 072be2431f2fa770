"""A local HTTP server that records what it receives: the Fleet's webhooks, and the
device's HTTP reports."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class Receiver:
    def __init__(self):
        self.requests = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._changed:
                    receiver.requests.append((self.path, dict(self.headers), body))
                    receiver._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, path, containing=b"", timeout=30):
        """The first request to `path` whose body holds `containing` (waiting for it, at
        most `timeout` seconds): its headers and body."""

        def matching():
            return [r for r in self.requests if r[0].split("?")[0] == path and containing in r[2]]

        with self._changed:
            found = self._changed.wait_for(matching, timeout)
        assert found, "nothing reached " + path
        path, headers, body = found[0]
        return headers, body

    @staticmethod
    def form(body):
        return dict(parse_qsl(body.decode(), keep_blank_values=True))

    def close(self):
        self.server.shutdown()
        self.server.server_close()
