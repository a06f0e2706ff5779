"""A local HTTP server on 127.0.0.1 for the download tests: serves bytes from memory, honours
``Range`` (or ignores it on request), can drop a connection half-way to test resumption and can leave
out ``Content-Length`` (so that a dropped connection looks like a complete response)."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.state.files``; honours ``Range`` unless told otherwise."""

    timeout = 5

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        state = self.server.state
        state.requests.append((self.path, self.headers.get("Range")))
        body = state.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        start = self._range_start(len(body), state)
        if start is None:
            return
        payload = body[start:]
        if self.path not in state.no_length:  # else the body ends where the connection closes
            self.send_header("Content-Length", str(len(payload)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if self.path in state.drop_once:  # announce everything (or nothing), send half, hang up
            state.drop_once.discard(self.path)
            self.wfile.write(payload[: len(payload) // 2])
            return
        self.wfile.write(payload)

    def _range_start(self, size, state):
        """Send the status line for a 200/206 answer and return the first byte (None after 416)."""
        match = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
        if not match or self.path in state.ignore_range:
            self.send_response(200)
            return 0
        start = int(match[1])
        if start >= size:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        return start


@pytest.fixture
def server():
    """A threaded HTTP server on 127.0.0.1; yields its state (files, requests, url())."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = SimpleNamespace(files={}, requests=[], drop_once=set(), ignore_range=set(), no_length=set())
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.state.url = lambda path: base + path
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd.state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
