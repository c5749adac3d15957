"""Moving a deployment's posts to the current mapping without the reindex module: copy the index
behind the posts alias into `<alias>-v<current>` made from the current template, swap the alias
in one `update_aliases`, then copy what the live worker wrote to the old index meanwhile.
Reads no settings (the command passes the client, the sink, the alias and the template).

Every copy goes through PostSink.write_documents with the document's own `_version` as an
`external_gte` version (docs/architecture.md, "Newest version wins"), so a newer version written
to the new index by a live worker is never overwritten by an older copy. Progress is kept in the
new index's mapping `_meta.migration` (source, phase, last post id copied), so an interrupted run
is resumed by running the command again:

  copy     the old index is read on one point in time, sorted by post_id, a page at a time
  swapped  the alias names the new index; the old index's writes since the start (by _seq_no)
           are copied again until none arrive
  done     the old index is kept (outside the alias) unless deleted
"""
from __future__ import annotations

import logging
import re
import time
from contextlib import aclosing
from dataclasses import dataclass

from elasticsearch import NotFoundError

log = logging.getLogger(__name__)
PAGE = 1000
CHECKPOINT_PAGES = 10       # the copy's position is saved every this many pages (a mapping update each)
COPY, SWAPPED, DONE = "copy", "swapped", "done"


class MigrationError(Exception):
    """The migration cannot start or go on; the message says why and what to do."""


@dataclass(frozen=True)
class Plan:
    source: str                 # the old index
    target: str                 # the index the current template makes
    phase: str                  # where to (re)start: COPY, SWAPPED or DONE
    state: dict | None = None   # the target's _meta.migration when resuming


def _version_of(index: str) -> int | None:
    match = re.search(r"-v(\d+)$", index)
    return int(match.group(1)) if match else None


def plan_migration(alias: str, alias_indices: list[str], target: str, target_state: dict | None) -> Plan:
    """What to do, from the indices behind the alias and the target's recorded state (None: no
    target index; {}: a target made by something else than a migration). Pure."""
    state = target_state or {}
    if state.get("phase") == COPY and sorted(alias_indices) == sorted([state.get("source"), target]):
        alias_indices = [state["source"]]     # stopped as the template put the new index in the alias
    if not alias_indices:
        raise MigrationError(f"alias {alias!r} does not exist: nothing to migrate "
                             "(`shaobing stack up` creates it with the current mapping)")
    if len(alias_indices) > 1:
        raise MigrationError(f"alias {alias!r} names several indices ({', '.join(sorted(alias_indices))}); "
                             "leave it one index before migrating")
    (current,) = alias_indices
    if current == target:
        if state.get("phase") in (COPY, SWAPPED):     # COPY: stopped just after the swap
            return Plan(state["source"], target, SWAPPED, {**state, "phase": SWAPPED})
        if state.get("phase") == DONE:
            return Plan(state["source"], target, DONE, state)
        raise MigrationError(f"alias {alias!r} already names {target}, the current mapping: nothing to migrate")
    have, want = _version_of(current), _version_of(target)
    if have is not None and want is not None and have > want:
        raise MigrationError(f"alias {alias!r} names {current}, newer than this release's {target}: "
                             "upgrade shaobing instead")
    if target_state is None:
        return Plan(current, target, COPY)
    if state.get("source") == current and state.get("phase") == COPY:
        return Plan(current, target, COPY, state)
    raise MigrationError(f"index {target} exists and is not a migration of {current} in progress; "
                         f"inspect it and delete it (DELETE /{target}) before migrating")


class PostsMigration:
    """Runs a Plan on the node with `es` (an AsyncElasticsearch) and `sink` (a PostSink writing to
    plan.target). `echo` gets progress lines; `clock` is monotonic seconds (rates)."""

    def __init__(self, es, sink, alias: str, template: dict, *, page: int = PAGE, echo=print,
                 clock=time.monotonic):
        self.es, self.sink, self.alias, self.template = es, sink, alias, template
        self.page, self.echo, self.clock = page, echo, clock

    async def plan(self, target: str) -> Plan:
        try:
            indices = list((await self.es.indices.get_alias(name=self.alias)).body)
        except NotFoundError:
            indices = []
        state = None
        if (await self.es.indices.exists(index=target)).body:
            meta = (await self.es.indices.get_mapping(index=target)).body[target]["mappings"].get("_meta", {})
            state = meta.get("migration", {})
        return plan_migration(self.alias, indices, target, state)

    async def run(self, plan: Plan, *, delete_old: bool = False) -> dict:
        """Carry the plan to its end; returns counts (copied, superseded by a newer version)."""
        counts = {"copied": 0, "superseded": 0}
        state = dict(plan.state or {})
        if plan.phase == DONE:
            kept = await self._exists(plan.source)
            if not (delete_old and kept):
                raise MigrationError(f"alias {self.alias!r} already names {plan.target} (migrated from {plan.source}"
                                     + (", kept: --delete-old deletes it)" if kept else ", since deleted)")
                                     + ": nothing to migrate")
        if plan.phase == COPY:
            if state:
                await self._out_of_alias(plan.target)
            else:
                state = await self._create_target(plan)
            await self._copy_all(plan, state, counts)
            await self._catch_up(plan, state, counts, until_quiet=False)   # most of it, before the swap
            await self.es.indices.update_aliases(actions=[
                {"remove": {"index": plan.source, "alias": self.alias}},
                {"add": {"index": plan.target, "alias": self.alias}}])
            state["phase"] = SWAPPED
            await self._save(plan.target, state)
            self.echo(f"alias {self.alias} -> {plan.target} (was {plan.source})")
        if state["phase"] == SWAPPED:
            await self._catch_up(plan, state, counts, until_quiet=True)
            state["phase"] = DONE
            await self._save(plan.target, state)
        if await self._exists(plan.source):
            if delete_old:
                await self.es.indices.delete(index=plan.source)
                self.echo(f"deleted the old index {plan.source}")
            else:
                self.echo(f"the old index {plan.source} is kept outside the alias; delete it when satisfied "
                          "with `shaobing index migrate --delete-old` (or DELETE /" + plan.source + ")")
        return counts

    async def _exists(self, index: str) -> bool:
        return bool((await self.es.indices.exists(index=index)).body)

    async def _create_target(self, plan: Plan) -> dict:
        """The new index from the template, outside the alias. The old index is made the alias's
        write index first: a template that names the alias (the default namespace's) adds the new
        index to it on creation, and the live worker's writes must keep a single destination."""
        state = {"source": plan.source, "phase": COPY, "start_seq_no": await self._max_seq_nos(plan.source),
                 "after": None, "copied": 0}
        await self.es.indices.update_aliases(actions=[
            {"add": {"index": plan.source, "alias": self.alias, "is_write_index": True}}])
        tpl = self.template["template"]
        mappings = {**tpl["mappings"], "_meta": {**tpl["mappings"].get("_meta", {}), "migration": state}}
        await self.es.indices.create(index=plan.target, settings=tpl["settings"], mappings=mappings)
        await self._out_of_alias(plan.target)
        self.echo(f"created {plan.target} from template version {self.template['_meta']['template_version']}")
        return state

    async def _out_of_alias(self, index: str) -> None:
        if (await self.es.indices.exists_alias(name=self.alias, index=index)).body:
            await self.es.indices.update_aliases(actions=[{"remove": {"index": index, "alias": self.alias}}])

    async def _save(self, target: str, state: dict) -> None:
        meta = {**self.template["template"]["mappings"].get("_meta", {}), "migration": state}
        await self.es.indices.put_mapping(index=target, meta=meta)

    async def _max_seq_nos(self, index: str) -> list[int]:
        """Each shard's highest sequence number (every write, update included, raises it)."""
        stats = (await self.es.indices.stats(index=index, level="shards", metric="indexing")).body
        shards = next(iter(stats["indices"].values()))["shards"]
        return [copies[0]["seq_no"]["max_seq_no"] for _, copies in sorted(shards.items(), key=lambda s: int(s[0]))]

    async def _copy_all(self, plan: Plan, state: dict, counts: dict) -> None:
        await self.es.indices.refresh(index=plan.source)
        total = (await self.es.count(index=plan.source)).body["count"]
        started, done = self.clock(), state["copied"]
        self.echo(f"copying {total:,} posts {plan.source} -> {plan.target}"
                  + (f", resuming after {done:,}" if state["after"] else ""))
        pages = 0
        async with self.sink.backfill():
            async with aclosing(self._pages(plan.source, {"match_all": {}}, state["after"])) as pages_of_hits:
                async for hits in pages_of_hits:
                    await self._write(hits, counts)
                    state["after"], state["copied"] = hits[-1]["sort"], state["copied"] + len(hits)
                    pages += 1
                    if pages % CHECKPOINT_PAGES == 0:
                        await self._save(plan.target, state)
                        rate = (state["copied"] - done) / max(self.clock() - started, 1e-9)
                        self.echo(f"copied {state['copied']:,} / {total:,} ({rate:,.0f} posts/s)")
        await self._save(plan.target, state)
        self.echo(f"copied {state['copied']:,} / {total:,}")

    async def _catch_up(self, plan: Plan, state: dict, counts: dict, *, until_quiet: bool) -> None:
        """Copy again what the old index received since the start or the last catch-up (the live
        worker writes there until the swap; its bulk requests in flight may land just after it):
        one pass before the swap, so that the window in which the new index lacks a post the
        worker updates is short; after it, passes until one finds nothing new. An older copy
        never replaces a newer version written to the target meanwhile."""
        seen = state.get("caught_up_to") or state["start_seq_no"]
        while True:
            await self.es.indices.refresh(index=plan.source)
            now = await self._max_seq_nos(plan.source)
            if now == seen:
                break
            query = {"range": {"_seq_no": {"gt": min(seen), "lte": max(now)}}}
            n = 0
            async with aclosing(self._pages(plan.source, query, None)) as pages_of_hits:
                async for hits in pages_of_hits:
                    await self._write(hits, counts)
                    n += len(hits)
            self.echo(f"caught up {n:,} posts written to {plan.source} meanwhile")
            seen = state["caught_up_to"] = now
            await self._save(plan.target, state)
            if not until_quiet:
                break
        await self.es.indices.refresh(index=plan.target)

    async def _pages(self, index: str, query: dict, after: list | None):
        pit = (await self.es.open_point_in_time(index=index, keep_alive="5m")).body["id"]
        try:
            while True:
                resp = (await self.es.search(pit={"id": pit, "keep_alive": "5m"}, query=query, size=self.page,
                                             sort=[{"post_id": "asc"}], version=True, track_total_hits=False,
                                             **({"search_after": after} if after else {}))).body
                hits = resp["hits"]["hits"]
                if not hits:
                    return
                pit, after = resp.get("pit_id", pit), hits[-1]["sort"]
                yield hits
        finally:
            await self.es.close_point_in_time(id=pit)

    async def _write(self, hits: list[dict], counts: dict) -> None:
        superseded: list[str] = []
        docs = {h["_id"]: h["_source"] for h in hits}
        rejected = await self.sink.write_documents(docs, {}, {h["_id"]: h["_version"] for h in hits},
                                                   superseded=superseded)
        if rejected:
            shown = "; ".join(f"{pid}: {reason}" for pid, reason in rejected[:5])
            raise MigrationError(f"{len(rejected)} posts refused by the new index ({shown}); fix the cause "
                                 "and run the command again: it resumes where it stopped")
        counts["copied"] += len(docs) - len(superseded)
        counts["superseded"] += len(superseded)
