"""A minimal SMTP server on loopback (asyncio): EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, QUIT.
Checks the password, records accepted messages, and can be scripted to answer 421 / 554."""
from __future__ import annotations

import asyncio
import base64
from email import message_from_bytes, policy


class FakeSMTP:
    def __init__(self, *, username: str = "duty@example.cn", password: str = "smtp-pass-123"):
        self.username, self.password = username, password
        self.messages = []
        self.script: list[str] = []        # replies to DATA instead of 250, e.g. "421 try later"
        self.server = None

    async def start(self) -> "FakeSMTP":
        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _session(self, reader, writer):
        def say(line: str):
            writer.write((line + "\r\n").encode())

        say("220 fake ESMTP")
        authed = False
        while True:
            raw = await reader.readline()
            if not raw:
                break
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                say("250-fake")
                say("250 AUTH PLAIN LOGIN")
            elif verb == "AUTH":
                parts = line.split(" ")
                if parts[1].upper() == "PLAIN":
                    _, user, pw = base64.b64decode(parts[2]).decode().split("\0")
                else:
                    say("334 VXNlcm5hbWU6")
                    user = base64.b64decode((await reader.readline()).strip()).decode()
                    say("334 UGFzc3dvcmQ6")
                    pw = base64.b64decode((await reader.readline()).strip()).decode()
                authed = (user, pw) == (self.username, self.password)
                say("235 ok" if authed else "535 authentication failed")
            elif verb in ("MAIL", "RCPT"):
                say("250 ok" if authed else "530 auth required")
            elif verb == "DATA":
                say("354 go ahead")
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                reply = self.script.pop(0) if self.script else "250 queued"
                if reply.startswith("250"):
                    self.messages.append(message_from_bytes(data, policy=policy.default))
                say(reply)
            elif verb == "QUIT":
                say("221 bye")
                await writer.drain()
                break
            else:
                say("250 ok")
            await writer.drain()
        writer.close()
