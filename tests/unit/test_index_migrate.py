"""plan_migration: where `shaobing index migrate` starts, and the clear refusals."""
from __future__ import annotations

import pytest

from indexer.migrate import COPY, DONE, SWAPPED, MigrationError, Plan, plan_migration


def test_a_fresh_migration_copies_from_the_index_behind_the_alias():
    assert plan_migration("ns-posts", ["ns-posts-v1"], "ns-posts-v2", None) == Plan("ns-posts-v1", "ns-posts-v2", COPY)


def test_an_interrupted_copy_resumes_from_its_recorded_state():
    state = {"source": "ns-posts-v1", "phase": COPY, "after": ["s:9"], "copied": 9, "start_seq_no": [41]}
    assert plan_migration("ns-posts", ["ns-posts-v1"], "ns-posts-v2", state) == \
        Plan("ns-posts-v1", "ns-posts-v2", COPY, state)


@pytest.mark.parametrize("phase", [SWAPPED, DONE])
def test_after_the_swap_the_old_index_comes_from_the_state(phase):
    state = {"source": "ns-posts-v1", "phase": phase, "start_seq_no": [41]}
    assert plan_migration("ns-posts", ["ns-posts-v2"], "ns-posts-v2", state) == \
        Plan("ns-posts-v1", "ns-posts-v2", phase, state)


@pytest.mark.parametrize("indices, state, message", [
    ([], None, "alias 'ns-posts' does not exist"),
    (["ns-posts-v1", "ns-posts-old"], None, "names several indices"),
    (["ns-posts-v2"], {}, "already names ns-posts-v2"),                        # made by provision: nothing to do
    (["ns-posts-v2"], None, "already names ns-posts-v2"),
    (["ns-posts-v3"], None, "newer than this release's ns-posts-v2"),
    (["ns-posts-v1"], {}, "index ns-posts-v2 exists and is not a migration of ns-posts-v1"),
    (["ns-posts-v1"], {"source": "ns-posts-other", "phase": COPY}, "is not a migration of ns-posts-v1"),
])
def test_bad_states_are_refused_with_a_reason(indices, state, message):
    with pytest.raises(MigrationError, match=message):
        plan_migration("ns-posts", indices, "ns-posts-v2", state)


def test_stopped_after_the_swap_before_saving_it_goes_on_with_the_catch_up():
    state = {"source": "ns-posts-v1", "phase": COPY, "after": ["s:9"], "start_seq_no": [41]}
    assert plan_migration("ns-posts", ["ns-posts-v2"], "ns-posts-v2", state) == \
        Plan("ns-posts-v1", "ns-posts-v2", SWAPPED, {**state, "phase": SWAPPED})


def test_stopped_while_the_template_had_put_the_new_index_in_the_alias_it_resumes_the_copy():
    state = {"source": "ns-posts-v1", "phase": COPY, "after": None, "start_seq_no": [41]}
    assert plan_migration("ns-posts", ["ns-posts-v2", "ns-posts-v1"], "ns-posts-v2", state) == \
        Plan("ns-posts-v1", "ns-posts-v2", COPY, state)


def test_a_post_the_new_index_refuses_stops_the_copy_with_its_id_and_reason():
    import asyncio

    from indexer.migrate import PostsMigration

    class RefusingSink:
        async def write_documents(self, docs, updates, versions, superseded):
            assert versions == {"s:1": 7, "s:2": 9}         # each document keeps its own version
            return [("s:2", "elasticsearch 400: mapper_parsing_exception: bad date")]

    hits = [{"_id": "s:1", "_version": 7, "_source": {"post_id": "s:1"}},
            {"_id": "s:2", "_version": 9, "_source": {"post_id": "s:2"}}]
    migration = PostsMigration(es=None, sink=RefusingSink(), alias="ns-posts", template={})
    with pytest.raises(MigrationError, match=r"1 posts refused by the new index \(s:2: elasticsearch 400: mapper_parsing"):
        asyncio.run(migration._write(hits, {"copied": 0, "superseded": 0}))
