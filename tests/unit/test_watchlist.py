"""Watch lists: YAML validation that names file, subject and field; require / exclude logic."""
from __future__ import annotations

import pytest

from streams.watchlist import WatchlistError, WatchlistMatcher, load_subjects, parse_subjects


def matcher(subjects: dict) -> WatchlistMatcher:
    return WatchlistMatcher(parse_subjects({"subjects": subjects}, "test.yml"))


def test_any_term_require_all_and_exclude_none():
    m = matcher({"拆迁": {"terms": ["拆迁", "强拆"], "require": ["村"], "exclude": ["电视剧"]}})
    assert m.match("某村强拆民房") == (["拆迁"], ["强拆"])
    assert m.match("某地强拆民房") == ([], [])          # required 村 missing
    assert m.match("某村强拆的电视剧") == ([], [])       # excluded term present


def test_exclude_cancels_only_hits_in_its_own_sentence():
    m = matcher({"安全事故": {"terms": ["爆炸", "起火"], "exclude": ["演练"]},
                 "拆迁": {"terms": ["强拆"], "exclude": ["电视剧"]}})
    assert m.match("消防演练现场模拟仓库起火") == ([], [])                  # the drill itself
    assert m.match("仓库突然起火。上月刚组织过消防演练") == (["安全事故"], ["起火"])
    assert m.match("上周演练；今天仓库起火！") == (["安全事故"], ["起火"])
    assert m.match("演练中模拟爆炸？仓库真的起火了") == (["安全事故"], ["起火"])  # 爆炸 vetoed, 起火 kept
    assert m.match("演练模拟起火。演练结束后又模拟起火") == ([], [])          # every hit vetoed
    assert m.match("起火的演练视频\n仓库爆炸") == (["安全事故"], ["爆炸"])     # a line break ends a sentence
    assert m.match("电视剧里演强拆。仓库起火") == (["安全事故"], ["起火"])     # one subject's exclude only


def test_shipped_watchlist_keeps_accident_reports_that_mention_the_plan():
    from streams.analysis import DEFAULT_WATCHLIST

    m = WatchlistMatcher(load_subjects(DEFAULT_WATCHLIST))
    assert "安全事故" in m.match("城东化工厂发生爆炸，造成3人死亡，当地已第一时间启动应急预案")[0]
    assert "安全事故" in m.match("化工厂车间起火。当地今年曾组织消防演练")[0]
    assert "安全事故" not in m.match("化工厂组织消防演练，模拟车间起火")[0]


def test_with_tokens_a_term_across_a_boundary_with_neither_end_on_one_is_no_hit():
    m = matcher({"安全事故": {"terms": ["起火"], "exclude": ["演练"]},
                 "群体事件": {"terms": ["上访", "堵路"]},
                 "公共卫生": {"terms": ["食品安全"]},
                 "干部作风": {"terms": ["受贿"], "require": ["法院"]}})
    assert m.match("早起火车站人多") == (["安全事故"], ["起火"])           # without tokens: every occurrence
    assert m.match("早起火车站人多", ["早起", "火车站", "人", "多"]) == ([], [])
    assert m.match("网上访问量大增", ["网上", "访问量", "大增"]) == ([], [])
    assert m.match("绕过拥堵路段", ["绕过", "拥堵", "路段"]) == ([], [])
    assert m.match("群众上访", ["群众", "上访"]) == (["群体事件"], ["上访"])
    assert m.match("食品安全检查", ["食品", "安全检查"]) == (["公共卫生"], ["食品安全"])   # one end on a boundary
    assert m.match("食品安全检查", ["食", "品安全检", "查"]) == (["公共卫生"], ["食品安全"])  # the other end
    assert m.match("法院称其收受贿赂", ["法院", "称", "其", "收受贿赂"]) == (["干部作风"], ["受贿"])  # inside one token
    # one good occurrence is enough; require and exclude terms obey the same rule
    assert m.match("一起火车事故后仓库起火", ["一起", "火车", "事故", "后", "仓库", "起火"]) == (["安全事故"], ["起火"])
    assert m.match("受贿案由法院审理", ["受贿", "案", "由", "法院", "审理"])[0] == ["干部作风"]
    assert m.match("受贿案由司法院长过问", ["受贿", "案", "由", "司法", "院长", "过问"])[0] == []  # 法院 across 司法|院长
    assert m.match("表演练习时仓库起火", ["表演", "练习", "时", "仓库", "起火"])[0] == ["安全事故"]
    assert m.match("演练时仓库起火", ["演练", "时", "仓库", "起火"])[0] == []


def test_tokens_that_do_not_cover_the_text_are_refused():
    m = matcher({"安全事故": {"terms": ["起火"]}})
    with pytest.raises(ValueError, match="cover 7 characters of a 8-character text"):
        m.match("啊，工厂起火严重", ["啊", "工厂", "起火", "严重"])      # words only: the comma is missing
    assert m.match("啊，工厂起火严重", ["啊", "，", "工厂", "起火", "严重"]) == (["安全事故"], ["起火"])


def test_token_offsets_follow_the_lowered_text():
    # U+0130 lowers to two characters: offsets after it shift by one in the matched text
    m = matcher({"群体事件": {"terms": ["上访"]}})
    assert m.match("İ网上访问量", ["İ", "网上", "访问量"]) == ([], [])
    assert m.match("İ群众上访", ["İ", "群众", "上访"]) == (["群体事件"], ["上访"])


def test_plus_and_bang_prefixes_inside_terms():
    m = matcher({"欠薪": {"terms": ["讨薪", "+工地", "!演员"]}})
    assert m.subjects[0].require == ("工地",) and m.subjects[0].exclude == ("演员",)
    assert m.match("工地工人讨薪")[0] == ["欠薪"]
    assert m.match("演员在工地讨薪")[0] == []


def test_terms_are_normalised_and_case_insensitive():
    m = matcher({"品牌": {"terms": ["ＡＢＣ公司", "醫院"]}})
    assert m.match("abc公司 和 医院") == (["品牌"], ["abc公司", "医院"])


def test_overlapping_terms_all_hit():
    m = matcher({"a": {"terms": ["化工厂"]}, "b": {"terms": ["工厂爆炸"]}})
    assert m.match("化工厂爆炸")[0] == ["a", "b"]


@pytest.mark.parametrize("body, field", [
    ({"terms": "爆炸"}, "terms"),
    ({"terms": ["爆炸", 3]}, "terms"),
    ({"terms": ["爆炸"], "require": "x"}, "require"),
    ({"terms": ["爆炸"], "exclude": [""]}, "exclude"),
    ({"terms": ["+只有必需"]}, "terms"),
    ({"terms": ["爆炸"], "colour": "red"}, "colour"),
])
def test_invalid_subject_names_file_subject_and_field(body, field):
    with pytest.raises(WatchlistError) as err:
        parse_subjects({"subjects": {"安全事故": body}}, "mine.yml")
    assert "mine.yml" in str(err.value) and "'安全事故'" in str(err.value) and f"'{field}'" in str(err.value)


def test_load_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("subjects: [unclosed", encoding="utf-8")
    with pytest.raises(WatchlistError, match="bad.yml"):
        load_subjects(bad)
    with pytest.raises(WatchlistError, match="subjects"):
        parse_subjects({"topics": {}}, "x.yml")
    with pytest.raises(WatchlistError, match="missing.yml"):
        load_subjects(tmp_path / "missing.yml")


def test_shipped_default_watchlist_loads():
    from streams.analysis import DEFAULT_WATCHLIST

    names = [s.name for s in load_subjects(DEFAULT_WATCHLIST)]
    assert {"安全事故", "环境污染", "群体事件", "涉法涉诉", "公共卫生", "交通事故"} <= set(names)
