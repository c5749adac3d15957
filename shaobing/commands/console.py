"""`shaobing console`: serve the analysts' console (API + web pages), and manage its tokens:
`shaobing console token create --role viewer|duty|admin [--name N]` prints the new token last.
Reads Settings (Elasticsearch URL, namespace, state dir)."""
from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timezone


def register(sub) -> None:
    p = sub.add_parser("console", help="分析控制台 / the analysts' web console and its API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    act = p.add_subparsers(dest="action")
    tok = act.add_parser("token", help="控制台令牌 / console API tokens")
    tok_act = tok.add_subparsers(dest="token_action", required=True)
    create = tok_act.add_parser("create", help="新建令牌（最后一行输出令牌）/ create a token, printed on the last line")
    create.add_argument("--role", required=True, choices=["viewer", "duty", "admin"])
    create.add_argument("--name", default="")
    tok_act.add_parser("list", help="列出令牌 / list tokens")
    revoke = tok_act.add_parser("revoke", help="吊销令牌 / revoke a token by its id")
    revoke.add_argument("token_id")
    p.set_defaults(func=run)


async def _tokens(args, settings) -> int:
    from console.store import ConsoleStore, create_token

    if args.token_action == "create":
        token = await create_token(settings, args.role, args.name)
        print(f"新令牌（只显示这一次）/ new {args.role} token (shown once):")
        print(token)
        return 0
    store = ConsoleStore(settings)
    try:
        if args.token_action == "list":
            for t in await store.list_tokens():
                state = f"吊销于 revoked {t['revoked_at']}" if t.get("revoked_at") else "有效 active"
                print(f"{t['token_id']}  {t['role']:<6}  {t['name'] or '-':<16}  {t['created_at']}  {state}")
            return 0
        if not await store.revoke_token(args.token_id, datetime.now(timezone.utc)):
            print(f"没有这个有效令牌 / no such active token: {args.token_id}", file=sys.stderr)
            return 1
        print(f"已吊销 / revoked {args.token_id}")
        return 0
    finally:
        await store.close()


def run(args, settings) -> int:
    from console.store import StoreError
    from infra.stack import apply_index_templates
    from shaobing.connections import es_options

    try:
        apply_index_templates(settings.elasticsearch_url, settings.alias, es_options(settings))   # the tokens index, idempotent
        if args.action == "token":
            return asyncio.run(_tokens(args, settings))
    except StoreError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 1
    import uvicorn

    from console.app import create_app

    print(f"控制台 / console: http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
    return 0
