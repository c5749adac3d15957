from streams import topics


def test_every_design_topic_is_defined_once():
    names = [t.name for t in topics.ALL_TOPICS]
    assert names == ["posts.raw", "posts.analyzed", "posts.enriched", "mentions", "surges", "posts.dlq",
                     "alerts.control"]
    assert len(set(names)) == len(names)


def test_streams_that_scale_have_several_partitions():
    for spec in (topics.POSTS_RAW, topics.POSTS_ENRICHED, topics.MENTIONS):
        assert spec.partitions >= 2, spec.name


def test_topic_config_is_broker_syntax():
    cfg = topics.topic_config(topics.POSTS_RAW)
    assert cfg["retention.ms"] == str(7 * 24 * 3600 * 1000)
    assert cfg["cleanup.policy"] == "delete"


def test_the_sequencers_have_exactly_one_partition():
    assert topics.POSTS_ANALYZED.partitions == 1
    assert topics.SURGES.partitions == 1


def test_the_control_topic_is_compacted_and_kept():
    cfg = topics.topic_config(topics.ALERT_CONTROL)
    assert cfg["cleanup.policy"] == "compact" and cfg["retention.ms"] == "-1"
