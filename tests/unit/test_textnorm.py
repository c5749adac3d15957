"""Normalisation, clean-up, repost decorations, keywords and the IDF table."""
from __future__ import annotations

import pytest

from streams.keywords import IdfTable, build_idf, tfidf_keywords
from streams.textnorm import (MAX_ANALYSIS_CHARS, clean_for_analysis, content_hash, fingerprint_skips, normalise,
                              prepare, strip_emoticons)


def test_normalise_script_width_space_and_controls():
    assert normalise("這個醫院") == "这个医院"
    assert normalise("ＡＢＣ１２３！　ｘ") == "ABC123! x"
    assert normalise("  a\t\n b  ") == "a b"
    assert normalise("a\x00b\x07c\ud800d") == "abcd"
    assert normalise("化工\x80厂\x9f") == "化工厂"                                  # C1 controls
    assert normalise("化工厂\x85爆炸") == "化工厂 爆炸"                              # NEL is a line break


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u200e", "\u2060", "\ufeff", "\u00ad",
                                       "\ufe0f", "\u180e", "\u034f", "\U000e0041", "\u202e"])
def test_invisible_characters_inside_a_word_are_dropped(invisible):
    assert normalise(f"化工厂爆{invisible}炸 现场") == "化工厂爆炸 现场"
    assert clean_for_analysis("", f"化工厂爆&#{ord(invisible)};炸") == "化工厂爆炸"   # written as an entity too
    assert content_hash(f"化工厂爆{invisible}炸") == content_hash("化工厂爆炸")          # an exact copy


@pytest.mark.parametrize("text, cleaned", [
    ("<化工厂爆炸调查报告>今天发布", "<化工厂爆炸调查报告>今天发布"),   # typed for 《》
    ("气温<30度，化工厂爆炸，伤亡人数>10人", "气温<30度,化工厂爆炸,伤亡人数>10人"),
    ("1<2 化工厂爆炸 3>2", "1<2 化工厂爆炸 3>2"),
    ("<p class='a'>化工厂<a\nhref=x>爆炸</a></p><br/><!-- 注释 -->完<?xml x?>", "化工厂 爆炸 完"),
    ("<P CLASS=x>正文</P><o:p></o:p><!-- a < b -->完<my-widget>", "正文 完"),   # case, namespaces, a < in a comment
    ("<iPhone 15发布会>今天,<CCTV 新闻联播>", "<iPhone 15发布会>今天,<CCTV 新闻联播>"),   # not HTML tag names
])
def test_only_markup_is_stripped_not_text_between_angle_brackets(text, cleaned):
    assert clean_for_analysis("", text) == cleaned


def test_clean_for_analysis_drops_markup_links_and_handles():
    cleaned = clean_for_analysis("标题", "<div>正文&amp;内容</div> https://example.org/a?b=1 @张三 说")
    assert cleaned == "标题 正文&内容 说"


@pytest.mark.parametrize("text, cleaned", [
    ("@人民日报 说化工厂偷排", "说化工厂偷排"),                  # a space ends the handle
    ("@人民日报：化工厂偷排", ":化工厂偷排"),                    # so does a colon, full-width or not
    ("回复@小城故事:化工厂偷排//@新闻哥: 属实", "回复 :化工厂偷排// : 属实"),
    ("@甲@乙 化工厂偷排", "化工厂偷排"),                         # one handle right after another
    ("感谢@人民日报", "感谢"),                                   # the end of the text
    # the word run goes on to the comma: where the handle ends is unknown, only the @ goes
    ("我@了市长热线反映化工厂偷排废水，没人管", "我 了市长热线反映化工厂偷排废水,没人管"),
    ("视频见http://t.cn/A6x9Zq化工厂发生爆炸", "视频见 化工厂发生爆炸"),   # a link is ASCII only
    ("详见（https://example.org/a_b?c=1&d=%E4）现场", "详见( )现场"),
    ("扩散 http://t.cn/x//@新闻哥: 化工厂偷排", "扩散 // : 化工厂偷排"),     # the chain after a link stays
])
def test_handles_and_links_never_take_the_chinese_text_after_them(text, cleaned):
    assert clean_for_analysis("", text) == cleaned


def test_prepare_agrees_with_the_slow_path():
    for title, text in [("", "普通的一条微博，没有链接"), ("", "带链接 http://t.cn/x 的"), ("题", "正文"),
                        ("", "ＡＢＣ＠某人 全角"), ("", "很长" * 4000)]:
        cleaned, body = prepare(title, text)
        assert cleaned == clean_for_analysis(title, text)
        assert body == normalise(text)
    assert len(prepare("", "字" * 10_000)[0]) == MAX_ANALYSIS_CHARS
    assert prepare("", "ＡＢＣ＠某人 全角")[0] == "ABC 全角"       # a full-width handle goes too


def test_content_hash_is_stable_and_normalised():
    assert content_hash("臺灣 醫院") == content_hash("台湾  医院")
    assert content_hash("a") != content_hash("b")
    assert len(content_hash("")) == 32


def test_emoticon_codes_are_stripped_but_brackets_with_digits_stay():
    assert strip_emoticons("好[哈哈]棒[泪]").replace(" ", "") == "好棒"
    assert strip_emoticons("见附件[1]") == "见附件[1]"
    assert strip_emoticons("好[good][lxhx泪目][hold住]").replace(" ", "") == "好"   # Latin series codes


def test_a_long_chinese_bracket_is_a_headline_not_an_emoticon():
    assert strip_emoticons("[化工厂爆炸]现场浓烟滚滚[泪]").strip() == "[化工厂爆炸]现场浓烟滚滚"


@pytest.mark.parametrize("cleaned, content", [
    ("转发微博:某县化工厂昨夜爆炸", "某县化工厂昨夜爆炸"),
    ("#身边事#某县化工厂昨夜爆炸 全文", "某县化工厂昨夜爆炸"),
    ("太惨了// :某县化工厂昨夜爆炸造成三人死亡", "某县化工厂昨夜爆炸造成三人死亡"),
    ("某县化工厂昨夜爆炸 来源:本地论坛", "某县化工厂昨夜爆炸"),
    ("转眼又是一年", "转眼又是一年"),        # 转 inside a word is no marker
])
def test_fingerprint_skips_repost_decorations(cleaned, content):
    start, skips = fingerprint_skips(cleaned)
    kept = "".join(ch for i, ch in enumerate(cleaned) if i >= start and not any(a <= i < b for a, b in skips))
    assert kept.strip() == content


def test_idf_table_build_and_load(tmp_path):
    docs = [["医院", "投诉"], ["医院", "服务"], ["医院", "排队"], ["投诉", "排队"]]
    idf, n = build_idf(docs, min_df=2)
    assert n == 4 and set(idf) == {"医院", "投诉", "排队"}
    assert idf["医院"] < idf["投诉"]                   # the commoner word weighs less
    path = tmp_path / "idf.tsv"
    path.write_text("# header\n" + "".join(f"{w}\t{v}\n" for w, v in idf.items()), encoding="utf-8")
    table = IdfTable.load(path)
    assert table.get("投诉") == pytest.approx(idf["投诉"])
    assert table.get("没见过") == max(idf.values())   # unseen words count as rare
    path.write_text("医院\tnot-a-number\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        IdfTable.load(path)


def test_keywords_skip_function_words_numbers_and_stop_words():
    idf = IdfTable({"化工厂": 9.0, "爆炸": 8.0, "我们": 1.0, "2024": 9.5, "非常": 3.0}, 10.0)
    tags = {"我们": "r", "非常": "d", "化工厂": "n", "爆炸": "v"}
    tokens = ["我们", "化工厂", "爆炸", "2024", "非常", "化工厂", "的", "未知词"]
    assert tfidf_keywords(tokens, idf, tags, frozenset({"的"}), top_k=3) == ["化工厂", "未知词", "爆炸"]


def test_the_prepared_hash_is_the_content_hash_and_analysis_is_the_same_from_the_prepared_text():
    from streams.analysis import Resources, analyze
    from streams.textnorm import post_content_hash, prepared_content_hash

    resources = Resources.load()
    posts = [("", "县医院今天   回应了網友反映的問題"), ("【转】县医院回应", "<p>详见 https://x.example.cn/a?b=1 @某网友 ＡＢＣ</p>"),
             ("标题", "&lt;b&gt;转发微博&lt;/b&gt; //@某人: 好"), ("", ""), (" ", "\u3000\t")]
    for title, text in posts:
        digest, prepared = prepared_content_hash(title, text)
        assert digest == post_content_hash(title, text)
        assert analyze(title, text, resources, digest, prepared) == analyze(title, text, resources)
