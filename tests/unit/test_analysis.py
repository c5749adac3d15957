"""analyze(): one segmentation feeding every derivation, on fixtures written for these tests."""
from __future__ import annotations

import random

import pytest

from streams.analysis import MAX_ANALYSIS_CHARS, Analysis, Resources, analyze, hamming, normalise
from streams.textnorm import clean_for_analysis

NEWS = ("某县化工厂爆炸", "某县化工厂昨夜发生爆炸，造成三人死亡。北京市公安局民警王小明在河北省石家庄市调查，"
        "新华社记者李华报道。")


@pytest.fixture(scope="module")
def resources() -> Resources:
    return Resources.load()


def test_one_pass_derives_everything(resources):
    a = analyze(*NEWS, resources)
    assert isinstance(a, Analysis)
    assert "化工厂" in a.tokens and "，" not in a.tokens
    assert a.subjects == ["安全事故"] and "爆炸" in a.watch_terms
    assert "王小明" in a.entities["PER"] and "李华" in a.entities["PER"]
    assert "河北省" in a.entities["LOC"]
    assert "北京市公安局" in a.entities["ORG"] and "新华社" in a.entities["ORG"]
    assert "化工厂" in a.keywords and len(a.keywords) <= 8
    assert a.sentiment_label == "negative" and 0.0 <= a.sentiment < 0.4
    assert 0 < a.simhash < 2**64
    assert len(a.content_hash) == 32


def test_traditional_and_full_width_text_analyses_like_simplified(resources):
    trad = analyze("", "臺灣的醫院發生火災，ＡＢＣ公司回應", resources)
    simp = analyze("", "台湾的医院发生火灾,abc公司回应", resources)
    assert trad.tokens == simp.tokens
    assert trad.simhash == simp.simhash and trad.subjects == simp.subjects == ["安全事故"]
    assert normalise("臺灣　ＡＢＣ，  x") == "台湾 ABC, x"


def test_html_remnants_urls_and_handles_are_not_tokens(resources):
    a = analyze("", "<p>市医院&nbsp;门口<b>聚集</b></p> http://t.cn/AbC9 @某网友 看到", resources)
    assert not {"p", "b", "nbsp", "http", "t", "cn", "abc9", "某网友"} & set(a.tokens)
    assert "聚集" in a.watch_terms and a.subjects == ["群体事件"]


def test_watch_terms_across_two_words_are_not_hits(resources):
    # 早起|火车站 and 网上|访问 hold 起火 and 上访 only as characters; the real words still hit
    assert analyze("", "今天早起火车站人很多，本站网上访问量大增", resources).subjects == []
    assert analyze("", "开展食品安全检查后，群众到市政府上访", resources).subjects == ["群体事件", "公共卫生"]


@pytest.mark.parametrize("text", ["<某县化工厂爆炸调查报告>今天发布", "伤亡人数>10人，某县化工厂爆炸", "某县化工厂爆\u200b炸",
                                  "某县化工厂爆\u2060炸\ufe0f"])
def test_a_watch_term_between_angle_brackets_or_split_by_an_invisible_character_still_hits(resources, text):
    a = analyze("", text, resources)
    assert a.subjects == ["安全事故"] and "爆炸" in a.watch_terms


def test_excluded_term_suppresses_a_subject(resources):
    assert analyze("", "今天学校举行消防演练，模拟起火", resources).subjects == []
    assert analyze("", "今天学校起火", resources).subjects == ["安全事故"]


def test_mixed_english_is_lower_cased(resources):
    a = analyze("", "iPhone 15 在 Apple Store 起火", resources)
    assert {"iphone", "apple", "store"} <= set(a.tokens)


@pytest.mark.parametrize("text", ["", "   ", "😀🎉🔥", "[哈哈][泪]", "！？。，", "\u200b\u3000"])
def test_empty_or_emoji_only_text_has_a_defined_result(resources, text):
    a = analyze("", text, resources)
    assert (a.tokens, a.keywords, a.watch_terms, a.subjects) == ([], [], [], [])
    assert a.entities == {"PER": [], "LOC": [], "ORG": []}
    assert (a.sentiment, a.sentiment_label, a.simhash) == (0.5, "neutral", 0)


def test_very_long_text_is_truncated_for_analysis(resources):
    long_text = "市民反映河道污染严重。" * 2000
    assert len(clean_for_analysis("", long_text)) == MAX_ANALYSIS_CHARS
    a = analyze("", long_text, resources)
    assert sum(len(t) for t in a.tokens) <= MAX_ANALYSIS_CHARS
    assert a.subjects == ["环境污染"]


def test_content_hash_ignores_width_script_and_spacing_but_not_words(resources):
    one = analyze("標題", "臺灣  醫院", resources).content_hash
    assert one == analyze("标题", "台湾 医院", resources).content_hash
    assert one != analyze("标题", "台湾 学校", resources).content_hash
    # a copy re-titled 【转】 is a repost to cluster, not the same content
    assert one != analyze("【转】标题", "台湾 医院", resources).content_hash


def test_content_hash_is_the_one_post_definition(resources):
    from crawlers.state import fingerprint
    from streams.textnorm import post_content_hash

    for title, text in (("", "台湾 医院"), ("標題", "臺灣  醫院\n第二段"), ("标题", "")):
        assert analyze(title, text, resources).content_hash == post_content_hash(title, text) == fingerprint(title, text)


def test_near_duplicates_are_close_and_unrelated_posts_far(resources):
    base = "某县化工厂昨夜发生爆炸，造成三人死亡，十余人受伤，当地已成立事故调查组，伤者正在医院救治。"
    repost = "转发：" + base.replace("，", ",") + " #化工厂爆炸#"
    other = "今天天气很好，和朋友去公园散步，晚上一起吃了火锅，非常开心。"
    a, b, c = (analyze("", t, resources).simhash for t in (base, repost, other))
    assert hamming(a, b) <= 3 < hamming(a, c)


def test_a_short_post_with_an_inserted_comment_keeps_a_resembling_sketch(resources):
    from streams import dedup

    base = "小区门口的垃圾三天没人清理，气味很大，物业电话一直打不通，希望街道管一管。"
    commented = "小区门口的垃圾三天没人清理，太过分了！气味很大，物业电话一直打不通，希望街道管一管。"
    other = "周末带孩子去公园看花展，人很多，天气也好，拍了不少照片，心情愉快。"
    a, b, c = (dedup.parse_sketch(analyze("", t, resources).sketch) for t in (base, commented, other))
    assert len(a) >= 8
    assert dedup.resemblance(a, b) >= dedup.MIN_RESEMBLANCE > dedup.resemblance(a, c)


def test_a_repost_that_cuts_or_comments_inside_a_chain_keeps_a_resembling_sketch(resources):
    from streams import dedup

    chain = "这家店的服务真的很差，等了一个小时还没上菜 //@吃货小王: 同感，上次也是这样，再也不去了 //@本地美食:转发微博"
    reposts = ("顶！" + chain[:-8] + "…全文", chain.replace("同感，", "同感，大家看看！"))
    a = dedup.parse_sketch(analyze("", chain, resources).sketch)
    for repost in reposts:
        assert dedup.resemblance(a, dedup.parse_sketch(analyze("", repost, resources).sketch)) >= dedup.MIN_RESEMBLANCE


def test_analyze_never_raises_on_arbitrary_unicode(resources):
    rng = random.Random(20240601)
    alphabet = [chr(c) for c in (*range(0x20, 0x7F), *range(0x4E00, 0x4E80), *range(0xD800, 0xD810),
                                 0x0, 0x7, 0x200B, 0x3000, 0xFEFF, 0xFF01, 0x1F600, 0x10FFFF, ord("["), ord("]"))]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        a = analyze(text[:10], text, resources)
        assert a.sentiment_label in ("positive", "neutral", "negative")
        assert 0 <= a.simhash < 2**64 and 0.0 <= a.sentiment <= 1.0
        for token in a.tokens:
            token.encode("utf-8")


def test_analyze_scores_sentiment_as_the_model_does_negation_and_cues_included(resources):
    from dataclasses import replace

    from streams import sentiment
    from streams.wordfacts import WordFacts

    docs = [(1, "服务 很 好".split()), (0, "服务 不 好".split()), (1, "环境 满意".split()),
            (0, "环境 没有 让 人 满意".split()), (0, "环境 满意 但是 服务 有点 差".split()),
            (1, "虽然 贵 不过 非常 满意".split()), (0, "可惜 不 太 干净".split())] * 10
    texts = ("服务不好，环境满意", "环境没有让人满意。服务很好", "不 好", "好！不", "", "环境满意，但是服务有点差",
             "虽然贵，不过非常满意！", "可惜不很干净", "很，好", "但是不太好", "有点非常差", "就是很不满意")
    for scope, cues, bigrams in ((0, False, False), (sentiment.NEGATION_SCOPE, False, False), (0, True, False),
                                 (sentiment.NEGATION_SCOPE, True, False), (sentiment.NEGATION_SCOPE, True, True),
                                 (0, False, True)):
        model = sentiment.train_logistic(docs, negation_scope=scope, cues=cues, bigrams=bigrams)
        words = WordFacts(resources.idf, resources.segmenter.tags, resources.stopwords, model.weights,
                          resources.entities.compute)
        local = replace(resources, sentiment=model, words=words)
        for text in texts:
            expected = model.score(resources.segmenter.segment("", text)[1])
            assert analyze("", text, local).sentiment == pytest.approx(expected)
        assert ("¬满意" in model.weights) == bool(scope)   # the negated path is exercised
        assert ("›差" in model.weights and "↓差" in model.weights and "↑满意" in model.weights) == cues
        assert ("›¬干净" in model.weights) == (cues and bool(scope))
        assert ("服务 很" in model.weights and "有点 差" in model.weights) == bigrams == model.bigrams


def test_analyze_adds_the_styled_weights_to_weibo_style_posts_as_the_model_does(resources):
    from dataclasses import replace

    from streams import sentiment
    from streams.textnorm import normalise
    from streams.wordfacts import WordFacts

    weibo = [(1, "服务 给力 满意".split()), (0, "服务 不 给力 无语".split()), (0, "太 差 了".split())] * 10
    reviews = [(1, "环境 满意 实惠".split()), (0, "服务 给力 个 啥".split()), (0, "可惜 不 干净".split())] * 10
    model = sentiment.train_logistic(weibo + reviews, domains=["weibo"] * 30 + ["reviews"] * 30, styled="weibo",
                                     bigrams=True)
    assert model.styled and model.meta["styled_bias"] and "服务 给力" in model.styled
    words = WordFacts(resources.idf, resources.segmenter.tags, resources.stopwords, model.weights,
                      resources.entities.compute)
    local = replace(resources, sentiment=model, words=words)
    texts = ("服务给力", "服务给力[哈哈]", "@小王 服务不给力", "#投诉# 可惜不干净", "环境满意，但是太差了",
             "回复@某人: 给力！", "给力＠我", "")
    styled_seen = 0
    for text in texts:
        styled = sentiment.weibo_style(normalise(text))
        styled_seen += styled
        expected = model.score(resources.segmenter.segment("", text)[1], styled)
        assert analyze("", text, local).sentiment == pytest.approx(expected)
    assert styled_seen == 5
    assert analyze("", "服务给力[哈哈]", local).sentiment != pytest.approx(analyze("", "服务给力", local).sentiment)
