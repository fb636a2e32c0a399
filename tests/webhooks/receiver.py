"""A tiny HTTP server on 127.0.0.1 in a thread that records what it receives."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, statuses: list[int] | None = None, redirect_to: str | None = None):
        self.requests: list[dict] = []
        self._statuses = list(statuses or [])  # answers in order; then 200
        self._redirect_to = redirect_to
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver._lock:
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                    if receiver._redirect_to:
                        status = 307
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "status": status,
                            "received_at": time.time(),
                        }
                    )
                self.send_response(status)
                if receiver._redirect_to:
                    self.send_header("Location", receiver._redirect_to)
                body = b"thanks" if status < 300 else b"nope"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
