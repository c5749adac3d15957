"""A local duty-channel endpoint for the demo and the end-to-end tests: receives the generic
webhook's JSON, checks its signature when given the secret, and keeps what arrived with the
arrival time. Behaves like a receiver should: 401 on a bad signature, 400 on a bad body."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    at: datetime
    payload: dict


@dataclass
class DutyReceiver:
    secret: str = ""
    on_alert: Callable[[Received], None] | None = None
    received: list[Received] = field(default_factory=list)
    rejected: int = 0
    sender_gone: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, port: int = 0) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._accept(self.headers, body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": %s}' % (b"true" if status == 200 else b"false"))
                except (BrokenPipeError, ConnectionResetError):
                    receiver.sender_gone += 1        # the sender timed out before the answer (faults bench)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="duty-receiver").start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/alerts"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _accept(self, headers, body: bytes) -> int:
        if self.secret:
            ts = headers.get("X-Shaobing-Timestamp", "")
            want = "sha256=" + hmac.new(self.secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, headers.get("X-Shaobing-Signature", "")):
                with self._lock:
                    self.rejected += 1
                return 401
        try:
            payload = json.loads(body)
        except ValueError:
            return 400
        item = Received(datetime.now(timezone.utc), payload)
        with self._lock:
            self.received.append(item)
        if self.on_alert:
            self.on_alert(item)
        return 200

    def alerts(self) -> list[dict]:
        """Every alert entry received, flattened out of the webhook groups."""
        with self._lock:
            return [a for r in self.received for a in r.payload.get("alerts", [])]
