"""A local stub HTTP server standing in for a geocoding provider (never the internet).

``stub`` fixture: a server on 127.0.0.1 and a free port, in a thread. Tests set ``stub.answer`` to a
function ``(path, params) -> (status, body, delay_s)``; ``body`` a dict (sent as JSON) or text.
``stub.requests`` lists each request as (path, params). ``stub.url`` is its base URL.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest


class Stub:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.answer: Callable[[str, dict[str, str]], tuple[int, Any, float]] = lambda path, params: (404, {}, 0)
        self.url = ""


def _handler(stub: Stub):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            stub.requests.append((parts.path, params))
            status, body, delay = stub.answer(parts.path, params)
            if delay:
                time.sleep(delay)
            data = (json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def stub():
    box = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    box.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()
