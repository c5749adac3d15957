"""`shaobing case open|note|status|list|show`: 舆情档案 from the command line (indexer/cases.py).
Every edit reads the case and writes it back conditionally: a concurrent edit is refused with
the case named, never overwritten. Reads Settings (Elasticsearch URL, namespace)."""
from __future__ import annotations

import asyncio
import getpass
import sys
from datetime import datetime, timezone


def register(sub) -> None:
    p = sub.add_parser("case", help="舆情档案 / cases: open, note, status, list, show")
    act = p.add_subparsers(dest="action", required=True)
    op = act.add_parser("open", help="立档 / open a case from an alert, an event or posts")
    src = op.add_mutually_exclusive_group(required=True)
    src.add_argument("--alert", help="alert id (from `shaobing alerts` or the console)")
    src.add_argument("--subject", help="event: this subject between --since and --until")
    src.add_argument("--post", action="append", help="post id (repeatable)")
    op.add_argument("--since", type=datetime.fromisoformat)
    op.add_argument("--until", type=datetime.fromisoformat)
    op.add_argument("--title", default="")
    op.add_argument("--owner", default="")
    note = act.add_parser("note", help="处置记录 / add a note to a case")
    note.add_argument("case_id")
    note.add_argument("text")
    st = act.add_parser("status", help="改状态 / set a case's status")
    st.add_argument("case_id")
    st.add_argument("status", choices=["新发现", "跟踪中", "已处置", "已归档"])
    st.add_argument("--owner")
    ls = act.add_parser("list", help="档案列表 / list cases")
    ls.add_argument("--status", action="append", default=[])
    show = act.add_parser("show", help="档案详情 / one case with its notes and frozen posts")
    show.add_argument("case_id")
    p.add_argument("--by", default=None, help="who acts (default: the login name)")
    p.set_defaults(func=run)


def _local(dt: datetime | None) -> datetime | None:
    from indexer.reports.model import SHANGHAI

    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=SHANGHAI)


def _show(case: dict) -> str:
    from alerting.escape import plain

    lines = [f"{case['case_id']}  [{case['status']}]  {plain(case['title'])}",
             f"主题 subjects: {', '.join(plain(s) for s in case['subjects'])}   负责人 owner: {plain(case['owner']) or '-'}",
             "处置记录 notes:"]
    lines += [f"  {n['at']}  {plain(n['by'])}: {plain(n['text'], 500)}" for n in case.get("notes", [])]
    lines.append(f"存证 frozen posts ({len(case.get('posts', []))}):")
    lines += [f"  {p['published_at']}  {plain(p['site'])}  {plain(p.get('title') or p.get('text') or '', 60)}  {plain(p['url'])}"
              for p in case.get("posts", [])]
    return "\n".join(lines)


async def _run(args, settings) -> int:
    from alerting.escape import plain
    from indexer.cases import CASES_ALIAS, CaseStore, add_note, set_status
    from indexer.documents import ALERTS_ALIAS, POSTS_ALIAS
    from shaobing.connections import async_es_client

    es = async_es_client(settings)
    store = CaseStore(es, cases=settings.alias(CASES_ALIAS), posts=settings.alias(POSTS_ALIAS),
                      alerts=settings.alias(ALERTS_ALIAS))
    by, now = args.by or getpass.getuser(), datetime.now(timezone.utc)
    try:
        if args.action == "open":
            case = await store.open(by=by, now=now, owner=args.owner, title=args.title, alert_id=args.alert,
                                    subject=args.subject, since=_local(args.since), until=_local(args.until),
                                    post_ids=args.post)
            print(f"已立档 / opened {case['case_id']} ({len(case['posts'])} 条存证)")
        elif args.action in ("note", "status"):
            case, version = await store.get(args.case_id)
            if args.action == "note":
                case = add_note(case, text=args.text, by=by, now=now)
            else:
                case = set_status(case, status=args.status, by=by, now=now, owner=args.owner)
            await store.save(case, version)
            print(f"已更新 / updated {case['case_id']} [{case['status']}]")
        elif args.action == "list":
            for c in await store.list(tuple(args.status)):
                print(f"{c['case_id']}  [{c['status']}]  {c['updated_at']}  {plain(c['owner']) or '-'}  {plain(c['title'])}")
        else:
            print(_show((await store.get(args.case_id))[0]))
        return 0
    finally:
        await es.close()


def run(args, settings) -> int:
    from elasticsearch import ApiError, TransportError

    from indexer.cases import CaseConflict, CaseError, CaseNotFound

    try:
        return asyncio.run(_run(args, settings))
    except (CaseError, CaseNotFound, CaseConflict) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 1
    except (ApiError, TransportError) as exc:
        print(f"错误 / error: {settings.elasticsearch_url}: {exc}", file=sys.stderr)
        return 1
