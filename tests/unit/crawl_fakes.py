"""A fake kafka-python producer for crawler tests: records sends, acknowledges or fails them;
and `serve_routes`, a small loopback aiohttp site (with an allow-all robots.txt) for crawl tests."""
from __future__ import annotations

from kafka.errors import KafkaTimeoutError


class FakeFuture:
    def __init__(self, error: Exception | None):
        self.error = error

    def add_callback(self, fn, *args):
        if self.error is None:
            fn(*args, "metadata")
        return self

    def add_errback(self, fn, *args):
        if self.error is not None:
            fn(*args, self.error)
        return self


class FakeProducer:
    """`FakeProducer.factory()` returns a KAFKA_PRODUCER_FACTORY; every instance it builds
    appends to the same `sent` list. fail="send" raises like a broker that is down;
    fail="ack" accepts sends but never acknowledges them."""

    def __init__(self, sent: list, fail: str | None = None):
        self.sent = sent
        self.fail = fail
        self.closed = False
        self.send_calls = 0

    @classmethod
    def factory(cls, fail: str | None = None):
        sent: list = []
        built: list = []

        def build(settings):
            producer = cls(sent, fail)
            built.append(producer)
            return producer

        build.sent = sent
        build.built = built
        return build

    def send(self, topic, key=None, value=None):
        self.send_calls += 1
        if self.fail == "send":
            raise KafkaTimeoutError("Failed to update metadata after 10.0 secs.")
        self.sent.append((topic, key, value))
        return FakeFuture(KafkaTimeoutError("expired") if self.fail == "ack" else None)

    def flush(self, timeout=None):
        pass

    def close(self, timeout=None):
        self.closed = True


async def serve_routes(routes: dict, robots_txt: str = "User-agent: *\n"):
    """Serve {path: async handler} on 127.0.0.1 (any port); returns (base URL, runner to clean up)."""
    from aiohttp import web

    async def robots(request):
        return web.Response(text=robots_txt)

    app = web.Application()
    app.router.add_get("/robots.txt", robots)
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}", runner
