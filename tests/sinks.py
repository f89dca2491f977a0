"""Real HTTP servers on 127.0.0.1 standing in for destination tools."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Endpoint overrides may name only a tool's own hosts; tests add the sinks' hosts the way an
# operator adds a proxy (SEGAPP_ENDPOINT_EXTRA_HOSTS), in-process and for the processes they start.
SINK_HOSTS = "127.0.0.1,localhost"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Sink:
    """Records every request; answers with ``replies`` in turn, then with ``default``."""

    def __init__(self):
        self.received: list[Received] = []
        self.replies: list[Reply] = []
        self.default = Reply()
        self.in_flight = self.most_in_flight = 0  # requests being answered at once
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The status line and headers, then the body, go out in two writes: without this,
            # Nagle's algorithm holds the body until the client's delayed ACK, 40 ms later.
            disable_nagle_algorithm = True

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the sender went away mid-request: nothing arrived
                    self.close_connection = True
                    return
                with sink._lock:
                    sink.received.append(
                        Received(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.time(),
                        )
                    )
                    reply = sink.replies.pop(0) if sink.replies else sink.default
                    sink.in_flight += 1
                    sink.most_in_flight = max(sink.most_in_flight, sink.in_flight)
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                finally:
                    with sink._lock:
                        sink.in_flight -= 1

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
