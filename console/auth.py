"""API tokens and roles, and the FastAPI dependency every route uses. Reads no settings.

Roles are ordered: viewer (search, trends, events, alerts, export) < duty (+ ack and silence)
< admin (+ tokens). A route declares the least role it needs:

    from console.auth import Principal, require
    @router.get("/things")
    async def things(who: Principal = require("viewer")): ...

A token is 32 random bytes (url-safe text with the `sbt_` prefix), shown once at creation; the
store keeps only its SHA-256 (a fast hash is enough for a 256-bit random secret: there is
nothing to guess) as the document id, so looking a token up is one real-time GET.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from fastapi import Depends, HTTPException, Request

ROLES = ("viewer", "duty", "admin")
PREFIX = "sbt_"


@dataclass(frozen=True)
class Principal:
    token_id: str
    name: str
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_document(token: str, *, role: str, name: str, now: datetime, created_by: str = "") -> tuple[str, dict]:
    """(document id, document) for a new token; the id is the hash, token_id a short public handle."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    digest = token_hash(token)
    return digest, {"token_id": digest[:12], "name": name[:64], "role": role, "created_at": now.isoformat(),
                    "created_by": created_by[:64], "revoked_at": None}


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value.startswith(PREFIX) and len(value) < 200 else None


def _unauthorized() -> HTTPException:
    return HTTPException(401, detail={"error": "需要登录令牌 / a valid bearer token is required"},
                         headers={"WWW-Authenticate": "Bearer"})


async def authenticate(request: Request) -> Principal:
    token = bearer(request.headers.get("authorization"))
    if token is None:
        raise _unauthorized()
    doc = await request.app.state.store.token(token_hash(token))
    if doc is None or doc.get("revoked_at") or doc.get("role") not in ROLES:
        raise _unauthorized()
    return Principal(token_id=doc["token_id"], name=doc.get("name", ""), role=doc["role"])


def require(role: str):
    """A FastAPI dependency: the caller's Principal, 401 without a valid token, 403 below `role`."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(principal: Principal = Depends(authenticate)) -> Principal:
        if not principal.can(role):
            raise HTTPException(403, detail={"error": f"需要 {role} 权限 / this needs the {role} role"})
        return principal

    return Depends(dependency)
