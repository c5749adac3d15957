"""Who am I (GET /api/v1/me) and token administration (admin): list, create, revoke."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from console.auth import ROLES, Principal, new_token, require, token_document

router = APIRouter(prefix="/api/v1", tags=["tokens"])


@router.get("/me", summary="当前令牌 / the caller's name and role")
async def me(who: Principal = require("viewer")) -> dict:
    return {"name": who.name, "role": who.role, "token_id": who.token_id, "roles": list(ROLES)}


@router.get("/tokens", summary="令牌列表 / tokens (never their secret) (admin)")
async def tokens(request: Request, who: Principal = require("admin")) -> dict:
    return {"tokens": await request.app.state.store.list_tokens()}


class TokenIn(BaseModel):
    role: str = Field(pattern="^(viewer|duty|admin)$")
    name: str = Field("", max_length=64)


@router.post("/tokens", summary="新建令牌 / create a token; the secret is shown only in this answer (admin)")
async def create_token(body: TokenIn, request: Request, who: Principal = require("admin")) -> dict:
    token = new_token()
    doc_id, doc = token_document(token, role=body.role, name=body.name, now=request.app.state.clock(),
                                 created_by=who.name)
    await request.app.state.store.add_token(doc_id, doc)
    return {**doc, "token": token}


@router.delete("/tokens/{token_id}", summary="吊销令牌 / revoke a token (admin)")
async def revoke_token(token_id: str, request: Request, who: Principal = require("admin")) -> dict:
    if not await request.app.state.store.revoke_token(token_id, request.app.state.clock()):
        raise HTTPException(404, detail={"error": "没有这个有效令牌 / no such active token", "parameter": "token_id"})
    return {"revoked": token_id}
