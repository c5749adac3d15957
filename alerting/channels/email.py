"""Email over SMTP: one message with a plain-text and an HTML part (crawled text HTML-escaped).

SMTP runs in a worker thread (smtplib) so the event loop keeps going; the send waits for that thread
(a slow server is not abandoned and mailed twice). 4xx SMTP replies and
connection problems are retryable; authentication failures, refused recipients and 5xx replies are
permanent. The password never appears in outcomes, logs or repr. Reads no settings.
"""
from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import threading
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from alerting import escape, render
from alerting.channels.base import Channel, Outcome, digest_alerts
from alerting.model import Alert

SESSION_TIMEOUTS = 10        # a whole SMTP session may take this many socket timeouts


def _abort(smtp: smtplib.SMTP) -> None:
    """End a session from another thread: a shut-down socket makes the blocked read return, and the
    session fails as a disconnection (closing it instead would race smtplib's own use of it)."""
    sock = smtp.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class EmailChannel(Channel):
    kind = "email"
    max_bytes = 1_000_000

    def __init__(self, name: str, *, host: str, port: int = 465, security: str = "ssl", username: str = "",
                 password: str = "", sender: str, to: tuple[str, ...]):
        super().__init__(name)
        if not host or not sender or not to:
            from alerting.errors import ChannelConfigError
            raise ChannelConfigError(f"channel {name!r}: email needs smtp_host, sender and to")
        self.host, self.port, self.security = host, port, security
        self.username, self._password, self.sender, self.to = username, password, sender, tuple(to)

    def secrets(self) -> tuple[str, ...]:
        return (self._password,) if self._password else ()

    def build_group(self, alerts: list[Alert]) -> dict:
        return {"subject": render.group_headline(alerts, escape.plain, 240),
                "text": "\n\n".join(render.text(a) for a in alerts),
                "html": f"<html><body>{'<hr>'.join(render.html(a) for a in alerts)}</body></html>"}

    def build_digest(self, alerts: list[Alert]) -> dict:
        title, lines = digest_alerts(alerts, escape.plain)
        html_lines = "".join(f"<li>{line}</li>" for line in digest_alerts(alerts, escape.html_text)[1])
        return {"subject": title, "text": "\n".join([title, *lines]),
                "html": f"<html><body><h3>{title}</h3><ul>{html_lines}</ul></body></html>"}

    def classify(self, status: int, body: bytes) -> Outcome:
        if status == 250:
            return Outcome(True, False, "ok")
        return Outcome(False, 400 <= status < 500, f"smtp_{status}")

    def message(self, payload: dict, now: datetime) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = payload["subject"], self.sender, ", ".join(self.to)
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = make_msgid(domain="shaobing.local")
        msg.set_content(payload["text"])
        msg.add_alternative(payload["html"], subtype="html")
        return msg

    def _send_sync(self, msg: EmailMessage, timeout_s: float) -> None:
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout_s, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=timeout_s)
        # the socket timeout bounds each read and write; a server trickling its replies a byte at a
        # time would hold the session (and the group's channel) for hours: the session as a whole
        # gets SESSION_TIMEOUTS x timeout_s, then its socket is closed and the send fails (retried)
        watchdog = threading.Timer(SESSION_TIMEOUTS * timeout_s, _abort, (smtp,))
        watchdog.daemon = True
        watchdog.start()
        try:
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self._password)
                smtp.send_message(msg)
        finally:
            watchdog.cancel()

    async def send(self, payload: dict, *, client, now: datetime, timeout_s: float) -> Outcome:
        # No asyncio timeout around the thread: giving up on it does not stop the SMTP session, which
        # then delivers while the retry mails a second copy. smtplib's socket timeout (timeout_s for
        # each connect, read and write) bounds a dead server instead.
        try:
            await asyncio.to_thread(self._send_sync, self.message(payload, now), timeout_s)
        except smtplib.SMTPAuthenticationError as exc:
            return Outcome(False, False, "smtp_auth", f"{exc.smtp_code}")
        except smtplib.SMTPRecipientsRefused:
            return Outcome(False, False, "smtp_recipients")
        except smtplib.SMTPResponseException as exc:
            return self.classify(exc.smtp_code, b"")
        except TimeoutError:
            return Outcome(False, True, "timeout")
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome(False, True, "connect", type(exc).__name__)
        return Outcome(True, False, "ok")
