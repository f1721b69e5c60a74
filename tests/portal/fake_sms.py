"""A local stand-in for Mobizon's HTTP API: it records each request and answers as told."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "kz-test-key-0123456789"


class FakeMobizon(ThreadingHTTPServer):
    """Answers ``POST /service/message/sendsmsmessage`` like Mobizon; ``answers`` is a queue.

    Each answer is (HTTP status, JSON body); when none are queued the message is accepted.
    """

    daemon_threads = True

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/service/message/sendsmsmessage"

    def __enter__(self):
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        parsed = urllib.parse.urlsplit(self.path)
        self.server.requests.append(
            {
                "path": parsed.path,
                "query": dict(urllib.parse.parse_qsl(parsed.query)),
                "form": dict(urllib.parse.parse_qsl(body)),
                "content_type": self.headers.get("Content-Type", ""),
            }
        )
        if self.server.answers:
            status, answer = self.server.answers.pop(0)
        else:
            n = len(self.server.requests)
            status, answer = (
                200,
                {
                    "code": 0,
                    "data": {"campaignId": str(9000 + n), "messageId": str(5000 + n), "status": 1},
                    "message": "",
                },
            )
        raw = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass
