"""Query parameters -> indexer requests, and the 400s that name the parameter."""
from datetime import datetime, timezone

import pytest

from console import params as P
from indexer.queries import SearchRequest


def parse(items, allowed=P.SEARCH_PARAMS):
    return P.parse_search(P.collect(items, allowed))


def test_filters_become_one_search_request_with_shanghai_times():
    req, offset = parse([("q", " 化工厂 "), ("site", "bbs"), ("site", "news"), ("kind", "forum"), ("sentiment", "negative"),
                         ("since", "2026-11-26T08:00"), ("until", "2026-11-27"), ("first_only", "true"),
                         ("subject", "青石镇"), ("entity", "张三"), ("sort", "time"), ("size", "50")])
    assert offset == 0
    assert req == SearchRequest(text="化工厂", sites=("bbs", "news"), kinds=("forum",), sentiment="negative",
                                since=datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc),
                                until=datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc), reposts=False,
                                subjects=("青石镇",), entity="张三", sort="time", size=50)


def test_cursor_round_trips_and_spread_pages_by_offset():
    after = ["2026-11-26T00:00:00Z", "bbs:1"]
    req, _ = parse([("cursor", P.encode_cursor(after))])
    assert req.search_after == tuple(after)
    req, offset = parse([("sort", "spread"), ("size", "10"), ("cursor", P.encode_cursor(20))])
    assert (req.sort, offset, req.search_after) == ("spread", 20, ())


@pytest.mark.parametrize(("items", "parameter"), [
    ([("since", "2026-13-01")], "since"),
    ([("until", "tomorrow")], "until"),
    ([("size", "101")], "size"),
    ([("size", "ten")], "size"),
    ([("page", "2")], "page"),
    ([("sentiment", "angry")], "sentiment"),
    ([("kind", "tv")], "kind"),
    ([("mode", "regex")], "mode"),
    ([("first_only", "maybe")], "first_only"),
    ([("sort", "time"), ("sort", "relevance")], "sort"),
    ([("cursor", P.encode_cursor(5))], "cursor"),                        # an offset where a list belongs
    ([("sort", "spread"), ("cursor", P.encode_cursor(5000))], "cursor"),
    ([("q", "长" * 201)], "q"),
    ([("since", "2026-11-27"), ("until", "2026-11-26")], "until"),
])
def test_bad_parameters_are_named(items, parameter):
    with pytest.raises(P.BadParameter) as err:
        parse(items)
    assert err.value.parameter == parameter and err.value.message


def test_trend_export_and_alert_parameters():
    req, interval = P.parse_trend(P.collect([("interval", "day"), ("q", "菜价")], P.TREND_PARAMS))
    assert (interval, req.text) == ("day", "菜价")
    with pytest.raises(P.BadParameter, match="interval"):
        P.parse_trend(P.collect([("since", "2026-01-01"), ("until", "2026-06-01")], P.TREND_PARAMS))
    req, limit = P.parse_export(P.collect([("limit", "100000")], P.EXPORT_PARAMS))
    assert (limit, req.sort, req.highlight) == (100_000, "time", False)
    with pytest.raises(P.BadParameter, match="limit"):
        P.parse_export(P.collect([("limit", "100001")], P.EXPORT_PARAMS))
    with pytest.raises(P.BadParameter, match="cursor"):      # search's own parameters are unknown to export
        P.parse_export(P.collect([("cursor", "x")], P.EXPORT_PARAMS))
    assert P.parse_alerts(P.collect([("status", "firing")], P.ALERT_PARAMS))["status"] == "firing"


def test_every_allowed_parameter_is_documented():
    for names in (P.SEARCH_PARAMS, P.TREND_PARAMS, P.FACET_PARAMS, P.EXPORT_PARAMS, P.ALERT_PARAMS):
        documented = [p["name"] for p in P.openapi_parameters(names)["parameters"]]
        assert documented == list(names)
