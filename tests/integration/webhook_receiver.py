"""A storefront's webhook endpoint for tests: a real HTTP server on 127.0.0.1, in a thread.

It verifies each request as a storefront developer would, with nothing but the secret and the
standard library's ``hmac`` and ``hashlib`` (none of the platform's code), and answers what the
test scripted: a status, headers, a delay; or an answer held until the test releases it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0
    hold: threading.Event | None = None  # answer only once it is set (60 s at most)
    arrived: threading.Event | None = None  # set when this request arrives


HOLD_BOUND_SECONDS = 60.0  # a held answer is sent at last after this: a bound, not a wait


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool  # the signature matched the secret the receiver holds at that time

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]


def verify(secret: str, body: bytes, signature_header: str) -> bool:
    """What a storefront writes: HMAC-SHA256 of the raw body with the secret, compared in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_header)


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.received: list[Received] = []
        self._script: list[Answer] = []
        self.default = Answer()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            headers, body, verify(receiver.secret, body, headers.get("webhook-signature", ""))
                        )
                    )
                    answer = receiver._script.pop(0) if receiver._script else receiver.default
                if answer.arrived is not None:
                    answer.arrived.set()
                if answer.hold is not None:
                    answer.hold.wait(HOLD_BOUND_SECONDS)
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:  # the sender gave up waiting (a timeout test)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/orders"

    def answer(self, *answers: Answer) -> None:
        """The next requests get these answers, in order; then the default (200)."""
        with self._lock:
            self._script.extend(answers)

    def count(self) -> int:
        with self._lock:
            return len(self.received)


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(
        target=receiver.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(timeout=5)
