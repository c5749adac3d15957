"""infra.prune's choices: which namespaces are the project's own generated ones, which are old
enough to go, and everything that belongs to them (topics, Faust's topics, groups, indices)."""
from __future__ import annotations

import pytest

from infra.prune import generated, index_namespace, plan, topic_namespace
from shaobing.settings import load_settings

HOUR = 3600.0
NOW = 1_000_000.0


@pytest.mark.parametrize("ns", ["e2e-d649e3b2", "it-crawl-0a1b2c3d4e", "it-seen-write-0a1b2c3d4e", "cluster3-0a1b2c3d4e",
                                "it-console-1a2b3c4d", "bench-w1-a1b2c3", "bench-search-1a2b3c4d",
                                "bench-migrate-1a2b3c4d", "floor-raw-abc123", "demo-20261130162320"])
def test_the_names_runs_generate_are_candidates(ns):
    assert generated(ns)


@pytest.mark.parametrize("ns", ["", "demo", "county-a", "e2e", "it-ops", "bench-w1", "demo-2026113016",
                                "e2e-d649e3b2x", "my-e2e-d649e3b2", "e2e-D649E3B2",
                                # names people choose: dates and words are not a generator's suffix
                                "it-center-20250601", "bench-county-202501", "e2e-20250101", "it-ops-decade",
                                "bench-a-123456", "it-center-2025060112"])
def test_a_namespace_someone_named_is_never_a_candidate(ns):
    assert not generated(ns)


def test_indices_and_topics_name_their_namespace():
    assert index_namespace("it-console-1a2b3c4d-console_tokens-v1") == "it-console-1a2b3c4d"
    assert index_namespace("shaobing-posts-v1") is None
    assert index_namespace("county-a-posts-v2") is None
    assert topic_namespace("e2e-d649e3b2.posts.raw") == "e2e-d649e3b2"
    assert topic_namespace("shaobing-e2e-d649e3b2-seen_posts-changelog") is None    # matched per namespace
    assert topic_namespace("county-a.posts.raw") is None


def _plan(only=None):
    settings = load_settings(namespace="")
    indices = {"e2e-0000000c-posts-v1": NOW - 10 * HOUR,
               "e2e-0000000a-posts-v1": NOW - 10 * HOUR, "e2e-0000000a-alerts-v1": NOW - 9 * HOUR,
               "e2e-0000000b-posts-v1": NOW - 10 * HOUR,          # its topics were written a minute ago
               "e2e-0000000d-posts-v1": NOW - 1 * HOUR,           # a run of this hour
               "county-a-posts-v1": NOW - 100 * HOUR, "shaobing-posts-v1": NOW - 100 * HOUR}
    written = {"e2e-0000000a.posts.raw": NOW - 8 * HOUR, "e2e-0000000b.posts.raw": NOW - 60,
               "it-crawl-00000004ab.posts.raw": NOW - 30 * HOUR,    # topics only
               "it-crawl-00000005ab.posts.raw": None,               # on a broker this host does not run
               "e2e-0000000c.posts.raw": None}                      # and its index is old: age unknown
    topics = [*written, "shaobing-e2e-0000000a-seen_posts-changelog", "shaobing-e2e-0000000a-__assignor-__leader",
              "shaobing-e2e-0000000b-seen_posts-changelog", "county-a.posts.raw", "posts.raw",
              # someone's namespace that begins with a doomed one's name: its Faust topics are its own
              "e2e-0000000a-mine.posts.raw", "shaobing-e2e-0000000a-mine-seen_posts-changelog"]
    groups = ["shaobing-e2e-0000000a", "shaobing-e2e-0000000a-analyze", "shaobing-e2e-0000000b", "shaobing"]
    return plan(settings, indices, topics, written.get, groups, NOW, 6 * HOUR, only)


def test_only_old_generated_namespaces_go_with_everything_that_is_theirs():
    doomed = _plan()
    assert doomed.namespaces == ["it-crawl-00000004ab", "e2e-0000000a"]      # oldest first
    assert doomed.indices == ["e2e-0000000a-alerts-v1", "e2e-0000000a-posts-v1"]
    assert doomed.topics == ["e2e-0000000a.posts.raw", "it-crawl-00000004ab.posts.raw",
                             "shaobing-e2e-0000000a-__assignor-__leader", "shaobing-e2e-0000000a-seen_posts-changelog"]
    assert doomed.groups == ["shaobing-e2e-0000000a", "shaobing-e2e-0000000a-analyze"]


def test_only_limits_the_candidates():
    doomed = _plan(only={"e2e-0000000a", "e2e-0000000d"})
    assert doomed.namespaces == ["e2e-0000000a"]
    assert not any(t.startswith("it-crawl") for t in doomed.topics)


def test_a_namespace_owns_its_topics_but_not_a_longer_namespaces_faust_topics():
    # the live demo resets `demo`; `shaobing demo --once` runs live beside it as demo-<time>
    from infra.stack import namespace_groups, namespace_topics

    topics = ["demo.posts.raw", "shaobing-demo-seen_posts-changelog", "shaobing-demo-__assignor-__leader",
              "demo-20261130162320.posts.raw", "shaobing-demo-20261130162320-seen_posts-changelog",
              "demo2.posts.raw", "posts.raw", "shaobing-__assignor-__leader"]
    demo = load_settings(namespace="demo")
    assert namespace_topics(demo, topics) == ["demo.posts.raw", "shaobing-demo-seen_posts-changelog",
                                              "shaobing-demo-__assignor-__leader"]
    assert namespace_groups(demo) == {"shaobing-demo", "shaobing-demo-analyze"}
