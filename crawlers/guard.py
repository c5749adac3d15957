"""No crawl request reaches a private, loopback, link-local or otherwise internal address (SSRF
through a source's subdomains, a redirect or a link on a crawled page).

`blocked_reason(host, addresses, allowed_host)` is the pure decision; AddressGuardMiddleware
resolves the request's host (in a thread) and raises BlockedAddress before any connection. The
one exception is the source's own configured base host when it is itself such an address written
out (`http://127.0.0.1:8765`, `http://10.1.2.3`) or `localhost`: a user who points a source at an
internal host means it (the demo web runs on loopback). Only that exact host is allowed, not
other names that resolve there. Limit: the address is checked at request time; a DNS answer that
changes between this check and the connection (rebinding) is not caught.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

log = logging.getLogger(__name__)
BLOCKED = "shaobing/requests_blocked"


class BlockedAddress(IgnoreRequest):
    """A request whose host is, or resolves to, an internal address."""


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_internal_host(base_url: str) -> str | None:
    """The base URL's host when it is written as an internal address (or localhost), else None."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or (_literal(host) and is_internal(host)):
        return host
    return None


def blocked_reason(host: str, addresses: list[str], allowed_host: str | None) -> str | None:
    """Why a request to `host` (resolved to `addresses`) must not be sent, or None."""
    host = host.lower()
    if allowed_host and host == allowed_host:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is loopback"
    if not addresses:
        return None                       # unresolvable: the download fails on its own
    internal = [a for a in addresses if is_internal(a)]
    if internal:
        return f"{host} resolves to internal address {internal[0]}"
    return None


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


class AddressGuardMiddleware:
    def __init__(self, crawler, resolve=_resolve):
        self.crawler = crawler
        self.resolve = resolve
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        if not host:
            return None
        source = getattr(self.crawler.spider, "source", None)
        allowed = allowed_internal_host(source.base_url) if source is not None else None
        if host == allowed:
            return None
        if _literal(host):
            addresses = [host]
        else:
            if host not in self._cache:
                port = parts.port or (443 if parts.scheme == "https" else 80)
                self._cache[host] = await asyncio.to_thread(self.resolve, host, port)
            addresses = self._cache[host]
        reason = blocked_reason(host, addresses, allowed)
        if reason:
            self.crawler.stats.inc_value(BLOCKED)
            log.warning("拒绝访问内网地址 / request to an internal address blocked: %s (%s)", request.url[:200], reason)
            raise BlockedAddress(reason)
        return None
