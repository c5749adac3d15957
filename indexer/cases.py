"""舆情档案 (cases): an alert, an event (subject + time window) or hand-picked posts become a case
with a status, an owner, a notes timeline and FROZEN copies of the linked posts, so a post
deleted from the posts index (or at the source) remains as evidence.

Pure part: new_case / add_note / set_status (dicts in, dicts out, clocks passed in).
CaseStore: the one Elasticsearch edge for cases (the namespace's `cases` alias). Every edit is
conditional on the version read (if_seq_no / if_primary_term): a stale edit raises CaseConflict
naming the case instead of silently overwriting someone else's change.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from elasticsearch import ConflictError, NotFoundError

from indexer.console import SHANGHAI
from indexer.queries import SearchRequest, build_query

CASES_ALIAS = "cases"
STATUSES = ("新发现", "跟踪中", "已处置", "已归档")
OPEN_STATUSES = STATUSES[:2]
FROZEN_FIELDS = ("post_id", "site", "url", "title", "text", "published_at", "cluster_id", "sentiment_label")
MAX_POSTS = 200
MAX_NOTE = 2000


class CaseError(ValueError):
    """Bad input for a case (unknown status, empty note, nothing to freeze)."""


class CaseNotFound(LookupError):
    def __init__(self, case_id: str):
        super().__init__(f"没有这个档案 / no such case: {case_id}")
        self.case_id = case_id


class CaseConflict(Exception):
    """The case changed since it was read: reload and edit again."""

    def __init__(self, case_id: str):
        super().__init__(f"档案 {case_id} 已被他人修改，请刷新后重试 / "
                         f"case {case_id} was changed by someone else; reload it")
        self.case_id = case_id


def version_of(seq_no: int, primary_term: int) -> str:
    return f"{seq_no}:{primary_term}"


def parse_version(version: str) -> tuple[int, int]:
    try:
        seq, term = version.split(":")
        return int(seq), int(term)
    except ValueError:
        raise CaseError(f"version must look like 12:1 (from the case you read), not {version[:40]!r}") from None


def freeze(post: dict) -> dict:
    """The evidence copy of one post: text, URL and time as they were when the case was made."""
    return {k: post.get(k) for k in FROZEN_FIELDS}


def new_case(*, title: str, subjects: list[str], posts: list[dict], source: dict, owner: str, by: str,
             now: datetime, case_id: str | None = None) -> dict:
    if not title.strip():
        raise CaseError("a case needs a title")
    frozen = sorted((freeze(p) for p in posts), key=lambda p: (p["published_at"] or "", p["post_id"]))[:MAX_POSTS]
    at = now.isoformat()
    return {
        "case_id": case_id or f"C{now.strftime('%Y%m%d')}-{secrets.token_hex(3)}",
        "title": title.strip()[:200], "subjects": sorted(set(subjects)), "status": STATUSES[0],
        "owner": owner[:64], "created_at": at, "updated_at": at, "created_by": by[:64], "source": source,
        "post_ids": [p["post_id"] for p in frozen], "cluster_ids": sorted({p["cluster_id"] or p["post_id"] for p in frozen}),
        "posts": frozen, "notes": [{"at": at, "by": by[:64], "text": f"立档（{len(frozen)} 条信息存证）"}],
    }


def add_note(case: dict, *, text: str, by: str, now: datetime) -> dict:
    if not text.strip():
        raise CaseError("a note needs text")
    at = now.isoformat()
    return {**case, "updated_at": at, "notes": [*case["notes"], {"at": at, "by": by[:64], "text": text.strip()[:MAX_NOTE]}]}


def set_status(case: dict, *, status: str, by: str, now: datetime, owner: str | None = None) -> dict:
    if status not in STATUSES:
        raise CaseError(f"status must be one of {' / '.join(STATUSES)}, not {status!r}")
    at = now.isoformat()
    change = f"状态：{case['status']} → {status}" + (f"；负责人：{owner}" if owner else "")
    return {**case, "status": status, "owner": (owner if owner is not None else case["owner"])[:64], "updated_at": at,
            "notes": [*case["notes"], {"at": at, "by": by[:64], "text": change}]}


def alert_posts_query(alert: dict, size: int = MAX_POSTS) -> dict:
    """The posts behind an alert: its subject inside its window (earliest first)."""
    return event_posts_query(alert["subject"], datetime.fromisoformat(alert["window_start"]),
                             datetime.fromisoformat(alert["window_end"]), size)


def event_posts_query(subject: str, since: datetime, until: datetime, size: int = MAX_POSTS) -> dict:
    since, until = (t if t.tzinfo else t.replace(tzinfo=SHANGHAI) for t in (since, until))    # naive = Beijing time
    if until <= since:
        raise CaseError("an event's until must be after its since")
    if until - since > timedelta(days=31):
        raise CaseError("an event spans at most 31 days")
    req = SearchRequest("", subjects=(subject,), since=since, until=until)
    return {"size": size, "query": build_query(req), "sort": [{"published_at": "asc"}, {"post_id": "asc"}],
            "_source": list(FROZEN_FIELDS)}


class CaseStore:
    """Cases in Elasticsearch through an AsyncElasticsearch client the caller owns."""

    def __init__(self, es, *, cases: str, posts: str, alerts: str):
        self.es, self.index, self.posts, self.alerts = es, cases, posts, alerts

    async def _posts(self, body: dict) -> list[dict]:
        return [h["_source"] for h in (await self.es.search(index=self.posts, **body)).body["hits"]["hits"]]

    async def open(self, *, by: str, now: datetime, owner: str = "", title: str = "", alert_id: str | None = None,
                   subject: str | None = None, since: datetime | None = None, until: datetime | None = None,
                   post_ids: list[str] | None = None) -> dict:
        """A new case from exactly one of: an alert, an event (subject + since + until), post ids."""
        if sum(x is not None for x in (alert_id, subject, post_ids)) != 1:
            raise CaseError("open a case from exactly one of: alert_id, subject (+ since, until), post_ids")
        if alert_id is not None:
            resp = await self.es.search(index=self.alerts, size=1, query={"term": {"alert_id": alert_id}})
            hits = resp.body["hits"]["hits"]
            if not hits:
                raise CaseError(f"no such alert: {alert_id}")
            alert = hits[0]["_source"]
            posts = await self._posts(alert_posts_query(alert))
            subjects, source = [alert["subject"]], {"kind": "alert", "ref": alert_id}
            title = title or f"{alert['subject']}：{alert.get('summary', '')}"
        elif subject is not None:
            if since is None or until is None:
                raise CaseError("an event case needs since and until")
            posts = await self._posts(event_posts_query(subject, since, until))
            subjects, source = [subject], {"kind": "event", "ref": f"{subject} {since.isoformat()}/{until.isoformat()}"}
            title = title or subject
        else:
            ids = list(dict.fromkeys(post_ids or []))[:MAX_POSTS]
            docs = []
            if ids:
                resp = await self.es.mget(index=self.posts, ids=ids, source_includes=[*FROZEN_FIELDS, "subjects"])
                docs = resp.body["docs"]
            posts = [d["_source"] for d in docs if d.get("found")]
            missing = sorted(set(ids) - {p["post_id"] for p in posts})
            if missing:
                raise CaseError(f"posts not found: {', '.join(missing[:10])}")
            subjects = sorted({s for p in posts for s in p.pop("subjects", [])})
            source = {"kind": "posts", "ref": ",".join(ids[:20])}
        if not posts:
            raise CaseError("nothing to freeze: no posts matched")
        if not await self.es.indices.exists_alias(name=self.index):     # never let a write create an unmapped index
            raise CaseError(f"index {self.index} is missing: run `shaobing stack up` (it applies the index templates)")
        case = new_case(title=title or posts[0].get("title") or "舆情档案", subjects=subjects, posts=posts, source=source,
                        owner=owner, by=by, now=now)
        await self.es.index(index=self.index, id=case["case_id"], document=case, op_type="create", refresh="wait_for")
        return case

    async def get(self, case_id: str) -> tuple[dict, str]:
        """(case, version): pass the version back with an edit."""
        try:
            resp = (await self.es.get(index=self.index, id=case_id)).body
        except NotFoundError:
            raise CaseNotFound(case_id) from None
        return resp["_source"], version_of(resp["_seq_no"], resp["_primary_term"])

    async def save(self, case: dict, version: str) -> str:
        """Write an edited case if nobody changed it since `version`; returns the new version."""
        seq_no, term = parse_version(version)
        try:
            resp = (await self.es.index(index=self.index, id=case["case_id"], document=case, if_seq_no=seq_no,
                                        if_primary_term=term, refresh="wait_for")).body
        except ConflictError:
            raise CaseConflict(case["case_id"]) from None
        return version_of(resp["_seq_no"], resp["_primary_term"])

    async def list(self, status: tuple[str, ...] = (), size: int = 100) -> list[dict]:
        query = {"bool": {"filter": [{"terms": {"status": list(status)}}] if status else []}}
        resp = await self.es.search(index=self.index, size=size, query=query, sort=[{"updated_at": "desc"}, {"case_id": "asc"}],
                                    source_excludes=["posts", "notes"])
        return [h["_source"] for h in resp.body["hits"]["hits"]]
