"""A portal served over real HTTP on 127.0.0.1, for tests that talk to it as a client would.

Schemathesis sends its requests with ``requests`` to a URL: the app runs in a background
thread of the test process behind werkzeug's threaded server, on a port the system picks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """No line per request on stderr: the portal's own access log is enough."""

    def log_request(self, code="-", size="-") -> None:
        pass


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port while the block runs; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    # A client's idle keep-alive connection must not hold the shutdown up.
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
