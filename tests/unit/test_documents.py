from datetime import datetime, timedelta, timezone

from indexer.documents import alert_document, bulk_action
from streams.records import EnrichedPost, SamplePost, Surge

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)


def _surge(status: str = "firing") -> Surge:
    sample = SamplePost(post_id="bbs:1", site="bbs", url="http://x/1", title="t", published_at=NOW)
    return Surge(subject="青石镇化工厂", rule="surge", severity="warning", status=status,
                 window_start=NOW - timedelta(minutes=5), window_end=NOW, count=30, baseline=2.5,
                 negative_share=0.8, samples=[sample], detected_at=NOW)


def test_alert_history_document_is_keyed_by_episode_and_status():
    doc_id, doc = alert_document(_surge(), "sb-1", ["duty-webhook"], [], NOW + timedelta(seconds=3))
    assert doc_id == f"sb-1:{int((NOW - timedelta(minutes=5)).timestamp())}:firing"
    assert doc["channel"] == ["duty-webhook"] and doc["status"] == "firing"
    assert doc["delivered_at"] == "2026-11-26T08:00:03+00:00"
    assert doc["sample_post_ids"] == ["bbs:1"]
    resolved_id, _ = alert_document(_surge("resolved"), "sb-1", ["duty-webhook"], [], NOW)
    assert resolved_id != doc_id


def test_an_undelivered_alert_is_recorded_as_failed():
    _, doc = alert_document(_surge(), "sb-1", [], ["dingtalk"], NOW)
    assert (doc["status"], doc["channel"], doc["delivered_at"]) == ("failed", ["dingtalk"], None)


def test_post_bulk_action_uses_post_id_as_document_id():
    post = EnrichedPost(post_id="bbs:9", site="bbs", source="s", kind="forum", url="http://x/9", text="正文",
                        published_at=NOW, crawled_at=NOW, tokens=["正文"], cluster_id="bbs:9")
    action = bulk_action(post, NOW, index="ns-posts")
    assert (action["_id"], action["_index"], action["_source"]["tokens"]) == ("bbs:9", "ns-posts", "正文")
