"""Entity rules on jieba tokens: dictionary tags, suffix rules, merges; no second posseg pass."""
from __future__ import annotations

import functools

import pytest

from streams.entities import EntityTagger, format_parts, group_entities, read_parts, token_type

# a tiny tag table written for these tests (the real one merges ours, newswire and jieba's)
TAGS = {"代表团": "n", "德国": "ns", "研究": "vn", "联合会": "n", "比尔": "O", "盖茨": "PER", "维克多": "O", "佩罗塔": "nrt", "楠杆": None, "镇": "n", "回来": "v",
        "北京市": "ns", "公安局": "nt", "新华社": "nt", "中国": "ns", "美": "j", "日": "j", "足协": "j",
        "江": "nr", "泽民": "nr", "顾客": "n", "县": "zg", "人民医院": "nt", "城市": "n", "十大": "j",
        "中": "j", "关系": "n", "指出": "v", "记者": "n", "在": "p", "回应": "v", "通报": "v", "说": "v",
        "西安": "ns", "汽车": "n", "用品": "n", "有限公司": "n", "新疆": "ns", "监狱": "n", "举行": "v",
        "会议": "n", "公司": "n", "的": "uj"}


def spans(tokens: list[str]) -> list[tuple[str, str]]:
    text = "".join(tokens)
    return [(text[a:b], kind) for a, b, kind in EntityTagger(TAGS).spans(tokens)]


def test_dictionary_tags_give_types():
    assert spans(["新华社", "记者", "在", "中国"]) == [("新华社", "ORG"), ("中国", "LOC")]


def test_place_run_before_a_unit_is_one_organisation():
    assert spans(["北京市", "公安局", "通报"]) == [("北京市公安局", "ORG")]
    assert spans(["中国", "足协", "回应"]) == [("中国足协", "ORG")]


def test_place_then_a_few_name_words_then_a_unit_head_is_one_organisation():
    # 海辰 is unknown to the table (jieba's HMM finds such names)
    assert spans(["西安", "海辰", "汽车", "用品", "有限公司", "回应"]) == [("西安海辰汽车用品有限公司", "ORG")]
    assert spans(["新疆", "监狱", "通报"]) == [("新疆监狱", "ORG")]
    # a verb, a particle or too many words in between: the place stays a place
    assert spans(["西安", "举行", "会议", "公司"]) == [("西安", "LOC")]
    assert spans(["西安", "的", "公司"]) == [("西安", "LOC")]
    assert spans(["西安", "索乔", "海辰", "汽车", "用品", "公司"]) == [("西安", "LOC")]


def test_unknown_tokens_are_typed_by_suffix_and_surname():
    assert token_type("青山镇", None) == "LOC"
    assert token_type("红星化工有限公司", None) == "ORG"
    assert token_type("王小明", None) == "PER"
    assert token_type("欧阳明", None) == "PER"
    assert token_type("发生爆炸", None) is None            # no surname, no suffix
    assert token_type("abc", None) is None and token_type("某", None) is None


def test_noisy_dictionary_tags_are_not_trusted_blindly():
    assert token_type("一亲芳泽", "nr") is None              # jieba tags idioms nr too
    assert token_type("顾客", "n") is None                   # a common word's own tag wins over the surname rule
    assert token_type("十大", "j") is None                   # a numeral abbreviation is no organisation


def test_split_names_abbreviations_and_honorifics():
    assert spans(["江", "泽民", "指出"]) == [("江泽民", "PER")]
    assert spans(["中美", "关系"]) == [("中", "LOC"), ("美", "LOC")]
    assert spans(["李老师", "说"]) == [("李", "PER")]
    assert spans(["5", "月", "3", "日"]) == []               # a date's 日 is not Japan


def test_spans_cover_the_joined_text_and_group_dedups():
    tokens = ["某", "县", "人民医院", "和", "北京市", "公安局", "与", "北京市", "公安局"]
    found = EntityTagger(TAGS).spans(tokens)
    grouped = group_entities("".join(tokens), found)
    # 县 + 人民医院: a lone county word starts the unit (session 17)
    assert grouped == {"PER": [], "LOC": [], "ORG": ["县人民医院", "北京市公安局"]}
    text = "".join(tokens)
    assert all(0 <= a < b <= len(text) for a, b, _ in found)


@pytest.mark.parametrize("tokens", [[], [""], [" ", "，"], ["😀"]])
def test_degenerate_token_lists(tokens):
    assert EntityTagger(TAGS).spans(tokens) == []


def test_learned_parts_type_entities_inside_one_token():
    parts = {"来京": ((1, 2, "LOC"),), "中华民族": ((0, 2, "LOC"),), "亚欧": ((0, 1, "LOC"), (1, 2, "LOC"))}
    tagger = EntityTagger(TAGS, parts)
    tokens = ["北京市", "记者", "来京", "回应", "中华民族", "亚欧", "会议"]
    text = "".join(tokens)
    assert [(text[a:b], k) for a, b, k in tagger.spans(tokens)] == [
        ("北京市", "LOC"), ("京", "LOC"), ("中华", "LOC"), ("亚", "LOC"), ("欧", "LOC")]
    # the place before a parts token is flushed, not merged into a unit across it
    assert [(("".join(["北京市", "来京"]))[a:b], k) for a, b, k in tagger.spans(["北京市", "来京"])] == [
        ("北京市", "LOC"), ("京", "LOC")]


def test_organisation_then_name_words_then_a_unit_head_is_one_organisation():
    assert spans(["新华社", "汽车", "用品", "中心", "通报"]) == [("新华社汽车用品中心", "ORG")]
    assert spans(["新华社", "举行", "会议", "中心"]) == [("新华社", "ORG")]     # a verb in between


def test_adjacent_organisations_are_one():
    assert spans(["新华社", "足协", "回应"]) == [("新华社足协", "ORG")]
    assert spans(["新华社", "和", "足协"]) == [("新华社", "ORG"), ("足协", "ORG")]


def test_parts_file_round_trip_and_errors(tmp_path):
    good = tmp_path / "parts.txt"
    good.write_text("# header\n中美 " + format_parts(((0, 1, "LOC"), (1, 2, "LOC"))) + "\n来京 1-2:LOC\n",
                    encoding="utf-8")
    assert read_parts(good) == {"中美": ((0, 1, "LOC"), (1, 2, "LOC")), "来京": ((1, 2, "LOC"),)}
    for bad in ("来京 1-3:LOC", "来京 1-2:XYZ", "来京 0-1LOC", "来京", "来京 2-1:LOC", "中美 1-2:LOC",
                "来京人 0-2:LOC,1-3:LOC"):
        path = tmp_path / "bad.txt"
        path.write_text("中美 0-1:LOC\n" + bad + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match=r"bad\.txt, line 2"):
            read_parts(path)


def test_names_split_at_a_joiner():
    assert spans(["比尔", "·", "盖茨", "说"]) == [("比尔·盖茨", "PER")]
    assert spans(["维克多", "·", "佩罗塔", "·", "比尔"]) == [("维克多·佩罗塔·比尔", "PER")]
    assert spans(["记者", "·", "回来"]) == []                       # neither side is a name
    assert spans(["楠杆", "镇", "通报"]) == [("楠杆镇", "LOC")]
    assert spans(["回来", "镇"]) == []                              # a verb is no place name


def test_parts_never_start_or_join_a_unit():
    tagger = EntityTagger(TAGS, {"访华": ((1, 2, "LOC"),), "国共": ((0, 1, "ORG"), (1, 2, "ORG"))})
    found = tagger.spans(["访华", "代表团"])
    assert found == [(1, 2, "LOC")]                      # not ORG 华代表团
    assert tagger.spans(["国共", "合作"]) == [(0, 1, "ORG"), (1, 2, "ORG")]


def test_two_unit_heads_in_a_row_give_one_organisation():
    assert spans(["德国", "研究", "联合会", "代表团", "来访"]) == [("德国研究联合会代表团", "ORG")]


def test_a_joiner_after_a_common_word_joins_nothing():
    assert spans(["记者", "·", "王小明", "报道"]) == [("王小明", "PER")]
    assert spans(["新华社", "·", "王小明"]) == [("新华社", "ORG"), ("王小明", "PER")]


@pytest.mark.parametrize("tokens", [
    ["北京市", "公安局", "通报"], ["比尔", "·", "盖茨", "访华"], ["楠杆", "镇", "西安", "海辰", "有限公司"],
    ["访华", "代表团"], ["德国", "研究", "联合会", "代表团"], ["江", "泽民", "指出"], ["盖茨", "·", ""],
])
def test_known_facts_give_the_same_spans_as_the_memo(tokens):
    tagger = EntityTagger(TAGS, {"访华": ((1, 2, "LOC"),)})
    known = [tagger.compute(t) for t in tokens]
    assert EntityTagger(TAGS, {"访华": ((1, 2, "LOC"),)}).spans(tokens, known) == tagger.spans(tokens)


# session 17: rules chosen on a held-out block of whole articles (names the dictionary never saw)
TAGS17 = {**TAGS, "技术": "n", "监督局": "n", "山西": "ns", "杏花村": "ns", "汾酒": "n", "集团": "n", "唐山市": "ns",
          "第二": "m", "中学": "n", "金山": "O", "宾馆": "n", "省": "n", "民政厅": "n", "格局": "n", "研讨会": "n",
          "福州市": "ns", "国税局": "O", "白鹤": "nr", "芳菲": "nrt", "和": "c", "吴宓": None, "先生": "n",
          "红庙李村": "nr", "李银河": "nr", "三个": "m", "镇": "n", "派出所": "n", "村": "n", "党支部": "n", "大": "a",
          "深圳": "ns", "知名": "a", "软件": "n", "法院": "n", "研究室": "n", "中央": "n", "县": "zg", "委": None}


def spans17(tokens: list[str], given: frozenset[str] | None = frozenset("明华小")) -> list[tuple[str, str]]:
    text = "".join(tokens)
    return [(text[a:b], kind) for a, b, kind in EntityTagger(TAGS17, given_names=given).spans(tokens)]


def test_any_unit_word_of_three_characters_heads_a_named_unit():
    assert spans17(["北京市", "技术", "监督局", "通报"]) == [("北京市技术监督局", "ORG")]
    assert spans17(["福州市", "国税局", "通报"]) == [("福州市国税局", "ORG")]
    # a two-character word (格局) or an event (研讨会) heads nothing
    assert spans17(["中国", "格局"]) == [("中国", "LOC")]
    assert spans17(["北京市", "技术", "研讨会"]) == [("北京市", "LOC")]


def test_the_places_before_a_named_unit_ordinals_and_not_entity_words_join_it():
    assert spans17(["山西", "杏花村", "汾酒", "集团"]) == [("山西杏花村汾酒集团", "ORG")]
    assert spans17(["唐山市", "第二", "中学"]) == [("唐山市第二中学", "ORG")]
    assert spans17(["中国", "金山", "宾馆"]) == [("中国金山宾馆", "ORG")]
    assert spans17(["唐山市", "三个", "中学"]) == [("唐山市", "LOC")]       # a count is no ordinal


def test_a_lone_province_or_village_word_starts_a_unit():
    assert spans17(["省", "民政厅", "通报"]) == [("省民政厅", "ORG")]
    assert spans17(["省", "技术", "研讨会"]) == []


def test_jiebas_name_tags_on_short_words_and_villages():
    assert spans17(["白鹤", "回来"]) == [] and spans17(["芳菲"]) == []
    assert spans17(["红庙李村", "回来"]) == [("红庙李村", "LOC")]
    assert spans17(["李银河", "说"]) == [("李银河", "PER")]         # 河 is no village ending
    # 和 is a conjunction here, not a surname before a name
    assert spans17(["记者", "和", "吴宓", "先生"], given=None) == [("吴宓", "PER")]


def test_a_two_character_hmm_name_needs_a_given_name_character():
    assert spans17(["宫缩", "回来"]) == []                    # 缩 is no given-name character
    assert spans17(["王明", "回来"]) == [("王明", "PER")]
    assert spans17(["宫缩", "回来"], given=None) == [("宫缩", "PER")]   # without the set: the surname rule alone


def test_given_name_characters_come_from_the_newswire_sample():
    from streams.entities import given_name_chars

    given = given_name_chars()
    assert {"明", "华", "平"} <= given and not {"缩", "窄", "是"} & given
    assert given_name_chars(1) > given


def test_a_surname_or_a_rare_name_before_a_title_is_a_person():
    # 宓 is no given-name character of the set, but 先生 after it says it is a name
    assert spans17(["记者", "和", "吴宓", "先生"]) == [("吴宓", "PER")]
    assert spans17(["吴宓", "回来"]) == []
    assert spans17(["等待", "温", "先生"]) == [("温", "PER")]      # MSRA labels the surname alone
    assert spans17(["和", "先生"]) == []                          # a conjunction stays one


def test_common_surnames_missing_before_are_surnames():
    assert token_type("傅小明", None) == "PER" and token_type("洪小明", None) == "PER"


def test_a_lone_town_word_after_a_name_keeps_the_name_in_the_unit():
    # review: 东坝 + 镇 + 派出所 gave LOC 东坝 and ORG 镇派出所, cutting the town's name
    assert spans17(["东坝", "镇", "派出所", "通报"]) == [("东坝镇派出所", "ORG")]
    assert spans17(["楠杆", "村", "党支部"]) == [("楠杆村党支部", "ORG")]
    assert spans17(["村", "党支部"]) == [("村党支部", "ORG")]


def test_an_adjective_alone_does_not_make_a_name():
    assert spans17(["深圳", "大", "公司"]) == [("深圳", "LOC")]               # a big company in Shenzhen
    assert spans17(["中国", "知名", "软件", "公司"]) == [("中国知名软件公司", "ORG")]
    assert spans17(["中国", "金山", "宾馆"]) == [("中国金山宾馆", "ORG")]


def test_the_other_new_starts_and_heads():
    assert spans17(["中央", "技术", "监督局"]) == [("中央技术监督局", "ORG")]
    assert spans17(["县", "委"]) == []                  # a one-character head after a lone 县: no unit
    assert spans17(["北京市", "法院"]) == [("北京市法院", "ORG")]              # a two-character head ending in 院
    assert spans17(["北京市", "技术", "研究室"]) == [("北京市技术研究室", "ORG")]
    assert token_type("张家村", "nrt") == "LOC" and token_type("张家村", "nrfg") == "LOC"


def test_a_function_word_glued_to_a_lone_place_suffix_is_no_place():
    assert token_type("我区", None) is None and token_type("对乡", None) is None
    assert token_type("东区", None) == "LOC" and token_type("青山镇", None) == "LOC"


@pytest.mark.parametrize("tokens", [
    ["县", "人民医院"], ["唐山市", "第二", "中学"], ["山西", "杏花村", "汾酒", "集团"], ["福州市", "国税局"],
    ["东坝", "镇", "派出所"], ["记者", "和", "吴宓", "先生"], ["深圳", "大", "公司"], ["宫缩", "回来"],
    ["省", "民政厅", "省", "技术", "研讨会"], ["中央", "技术", "监督局", "和", "红庙李村"],
])
def test_known_facts_give_the_same_spans_as_the_memo_on_the_new_rules(tokens):
    given = frozenset("明华小")
    known = [EntityTagger(TAGS17, given_names=given).compute(t) for t in tokens]
    assert EntityTagger(TAGS17, given_names=given).spans(tokens, known) \
        == EntityTagger(TAGS17, given_names=given).spans(tokens)


def test_many_units_in_one_long_post_are_each_found():
    tokens = ["北京市", "技术", "监督局", "，", "县", "人民医院", "和"] * 500
    found = EntityTagger(TAGS17, given_names=frozenset()).spans(tokens)
    text = "".join(tokens)
    assert [text[a:b] for a, b, _ in found] == ["北京市技术监督局", "县人民医院"] * 500


def test_an_organisation_word_heads_a_unit_after_a_lone_admin_word_and_sub_units_join():
    tags = {**TAGS17, "人大": "j", "党组": "n", "中国美术家协会": "ORG", "金融体系": "n", "王小明": "nr"}
    tagger = EntityTagger(tags, given_names=frozenset())

    def found(tokens):
        text = "".join(tokens)
        return [(text[a:b], kind) for a, b, kind in tagger.spans(tokens)]
    assert found(["县", "人大", "回应"]) == [("县人大", "ORG")]
    assert found(["中国美术家协会", "党组", "成员"]) == [("中国美术家协会党组", "ORG")]
    assert found(["中国", "金融体系"]) == [("中国", "LOC")]               # 体系 is no department
    # review: an organisation word takes no filler (县 + 王小明 + 人大 was one organisation)
    assert found(["县", "王小明", "人大"]) == [("王小明", "PER"), ("人大", "ORG")]
    assert found(["中国", "王小明", "人大"]) == [("中国", "LOC"), ("王小明", "PER"), ("人大", "ORG")]


def test_no_merge_crosses_another_span():
    # review: 王 + 秀英 + 镇 + 派出所 gave PER 王秀英 and ORG 秀英镇派出所, overlapping
    tags = {**TAGS17, "王": "nr", "秀英": None, "医生": "n", "医院": "n"}
    tagger = EntityTagger(tags, given_names=frozenset("秀英"))
    tokens = ["王", "秀英", "镇", "派出所"]
    text = "".join(tokens)
    found = [(text[a:b], kind) for a, b, kind in tagger.spans(tokens)]
    assert found == [("王秀英", "PER"), ("镇派出所", "ORG")]
    # a plain noun before a lone 县 is no town name: 医生 + 县 + 医院 is 县医院
    assert [("".join(["医生", "县", "医院"])[a:b], k) for a, b, k in tagger.spans(["医生", "县", "医院"])] \
        == [("县医院", "ORG")]


def test_spans_never_overlap_on_dense_fuzzed_token_lists():
    import random

    words = ["王", "秀英", "镇", "村", "县", "派出所", "党支部", "人大", "医院", "北京市", "技术", "监督局", "和",
             "楠杆", "·", "盖茨", "比尔", "中国", "足协", "新华社", "第二", "中学", "大", "公司", "，"]
    tags = {**TAGS17, "王": "nr", "秀英": None, "人大": "j", "党支部": "n", "医院": "n", "比尔": "O", "盖茨": "PER"}
    tagger = EntityTagger(tags, given_names=frozenset("秀英明"))
    rng = random.Random(17)
    for _ in range(3000):
        tokens = [rng.choice(words) for _ in range(rng.randint(1, 12))]
        found = tagger.spans(tokens)
        assert all(a < b <= len("".join(tokens)) for a, b, _ in found)
        assert all(x[1] <= y[0] for x, y in zip(found, found[1:])), (tokens, found)


TAGS18 = {**TAGS17, "北戴河": "ns", "鸟类": "n", "保护": "v", "协会": "n", "举行": "v", "会议": "n", "强调": "v",
          "共同体": "ORG", "集团": "n", "石油": "n", "学会": "n", "四川": "ns", "有线电视": "n", "台": "q",
          "韩国": "ns", "人": "n", "所": "u", "潍坊": "ns", "书记": "n", "国家": "n", "气象局": "n",
          "北京": "ns", "一家": "m", "服装厂": "n", "公安县": "ns", "机关干部": "n", "歌曲": "n", "也": "d",
          "美": "j", "俄": "j", "、": "w", "。": "x", "，": "x", "将": "d", "访问": "v",
          # review of the first version: phrases it got wrong
          "了": "ul", "开车": "v", "上海": "ns", "去": "v", "熟知": "v", "人民": "n", "为": "p", "美国": "ns",
          "收购": "v", "英": "j", "沪": "j", "是": "v", "重点": "n", "实验室": "n", "洛阳": "ns", "一拖": "j",
          "郑": "PER", "全军": "n", "所长": "n", "老板": "n", "朱长": None, "洪": "nr", "研究": "vn",
          # the second review's phrases
          "出版": "v", "中科院": "ORG", "化学": "n", "人员": "n", "开展": "v", "风景": "n", "人": "n",
          "同学": "n", "司机": "n", "黄": "PER", "裙子": "n", "姚明": "PER", "时": "Ng", "海军军官": "n"}


def found18(tokens, parts=None):
    text = "".join(tokens)
    return [(text[a:b], kind) for a, b, kind in EntityTagger(TAGS18, parts, frozenset()).spans(tokens)]


def test_two_character_verbs_right_before_a_named_head_after_a_place():
    assert found18(["北戴河", "鸟类", "保护", "协会", "成立"]) == [("北戴河鸟类保护协会", "ORG")]
    # not a verb further back, and not after an organisation
    assert found18(["北戴河", "举行", "会议", "协会"]) == [("北戴河", "LOC")]
    assert found18(["共同体", "强调", "集团"]) == [("共同体", "ORG")]


def test_society_heads_and_one_character_heads():
    assert found18(["中国", "石油", "学会", "理事长"]) == [("中国石油学会", "ORG")]
    assert found18(["四川", "有线电视", "台", "的"]) == [("四川有线电视台", "ORG")]
    # a one-character head needs a filler of two or more characters: 韩国 + 人 + 所 + 需要
    assert found18(["韩国", "人", "所", "需要"]) == [("韩国", "LOC")]
    assert found18(["四川", "台"]) == [("四川", "LOC")]


def test_a_place_before_a_unit_learned_inside_a_title_word():
    parts = {"市委书记": ((0, 2, "ORG"),)}
    assert found18(["潍坊", "市委书记", "说"], parts) == [("潍坊市委", "ORG")]
    assert found18(["他", "市委书记", "说"], parts) == [("市委", "ORG")]


def test_national_units_counts_and_words_that_only_end_like_a_unit():
    assert found18(["国家", "气象局", "专家"]) == [("国家气象局", "ORG")]
    assert found18(["北京", "一家", "服装厂"]) == [("北京", "LOC")]
    assert found18(["公安县", "机关干部"]) == [("公安县", "LOC")]


def test_a_one_character_abbreviation_closing_a_clause_after_an_adjective_context_is_no_place():
    assert found18(["歌曲", "美", "、"]) == []
    assert found18(["也", "美", "。"]) == []
    assert found18(["中", "、", "美", "、", "俄"]) == [("中", "LOC"), ("美", "LOC"), ("俄", "LOC")]
    assert found18(["美", "将", "访问"]) == [("美", "LOC")]
    assert found18(["举行", "美", "，"]) == []         # after a verb too (session 19: 发现 + 美)


def test_spans_never_overlap_with_the_session_18_rules():
    import random

    # with session 19's words too: session numbers, congresses, organs glued to the next word
    words = list(TAGS18) + ["市委书记", "王", "秀英", "镇", "县", "派出所", "第六届", "一届", "全国人大", "人大常委会",
                            "党组书记", "党委书记", "党委", "全国", "江西", "南丰县", "铁路分局", "吉信", "大厦", "系",
                            "局", "对县", "桂林人", "湘人", "中保", "人寿保险", "分公司", "各级", "人大", "格力", "、",
                            "李铁", "军", "钟书为", ""]
    tags = {**TAGS18, "第六届": "m", "一届": "m", "全国人大": "ORG", "人大常委会": "nt", "江西": "ns", "南丰县": "ns",
            "吉信": None, "大厦": "n", "系": "v", "局": "n", "桂林": "ns", "湘": "j", "中保": "j", "人寿保险": "n",
            "分公司": "n", "各级": "r", "人大": "j", "格力": "nz", "李铁": "PER", "军": "n"}
    tagger = EntityTagger(tags, {"市委书记": ((0, 2, "ORG"),), "党组书记": ((0, 2, "ORG"),)}, frozenset("秀英军信"))
    rng = random.Random(18)
    for _ in range(6000):
        tokens = [rng.choice(words) for _ in range(rng.randint(1, 12))]
        found = tagger.spans(tokens)
        known = [tagger.compute(t) for t in tokens]
        assert found == tagger.spans(tokens, known)
        assert all(a < b <= len("".join(tokens)) for a, b, _ in found)
        assert all(x[1] <= y[0] for x, y in zip(found, found[1:])), (tokens, found)


def test_review_phrases_the_first_version_got_wrong():
    # 学会 / 总会 head a unit only after a filler: 北京 + 学会 + 了 is a verb
    assert found18(["北京", "学会", "了", "开车"]) == [("北京", "LOC")]
    assert found18(["上海", "总会", "去"]) == [("上海", "LOC")]
    # 所 before a verb is the passive: 为 + 中国 + 人民 + 所 + 熟知
    assert found18(["为", "中国", "人民", "所", "熟知"]) == [("中国", "LOC")]
    # a verb right after the place is a clause: 在 + 美国 + 收购 + 公司
    assert found18(["在", "美国", "收购", "公司"]) == [("美国", "LOC")]
    # 美 in a list of abbreviations, or after 了 / 是, is the USA
    assert found18(["访问", "了", "美", "、", "英"]) == [("美", "LOC"), ("英", "LOC")]
    assert found18(["是", "美", "，"]) == [("美", "LOC")]
    assert found18(["到", "了", "沪", "。"]) == [("沪", "LOC")]
    # a learned organisation at a word's start joins a place only if it ends like a unit
    assert found18(["北京", "北大学生"], {"北大学生": ((0, 2, "ORG"),)}) == [("北京", "LOC"), ("北大", "ORG")]
    # 国家 starts a unit only right before a government body
    assert found18(["国家", "重点", "实验室"]) == []
    # 一 starts a name when it is no count: 洛阳 + 一拖 + 集团
    assert found18(["洛阳", "一拖", "集团"]) == [("洛阳一拖集团", "ORG")]


def test_a_surname_the_table_calls_a_person_takes_a_two_character_given_name():
    tagger = EntityTagger(TAGS18, None, frozenset("全军"))

    def found(tokens):
        text = "".join(tokens)
        return [(text[a:b], k) for a, b, k in tagger.spans(tokens)]
    assert found(["郑", "全军", "得知"]) == [("郑全军", "PER")]
    # second review: roles, and words with no given-name character, and surnames that are words
    assert found(["郑", "同学", "回答"]) == [("郑", "PER")]
    assert found(["郑", "司机", "说"]) == [("郑", "PER")]
    assert found(["黄", "全军"]) == [("黄", "PER")]
    assert found18(["郑", "全军", "得知"]) == [("郑", "PER")]       # no given-name characters known
    assert found18(["郑", "所长", "说"]) == [("郑", "PER")]
    assert found18(["郑", "老板", "说"]) == [("郑", "PER")]


def test_a_three_character_name_split_two_and_one():
    tagger = EntityTagger(TAGS18, None, frozenset("长洪"))
    tokens = ["书记", "朱长", "洪", "（"]
    text = "".join(tokens)
    assert [(text[a:b], k) for a, b, k in tagger.spans(tokens)] == [("朱长洪", "PER")]
    tokens = ["朱长", "洪", "说"]          # a one-character word after it: not joined
    text = "".join(tokens)
    assert [(text[a:b], k) for a, b, k in tagger.spans(tokens)] == [("朱长", "PER")]


def test_a_name_jieba_glued_to_the_next_character_is_a_person():
    tagger = EntityTagger({**TAGS18, "王国的": "n"}, None, frozenset())
    for tokens, expected in ((["校长", "李维民教", "了"], [("李维民", "PER")]),
                             (["钟书住", "医院"], [("钟书", "PER")]),
                             (["汤雪辉家", "的"], [("汤雪辉", "PER")]),
                             (["王国的", "历史"], [])):           # a word in the table is not cut
        text = "".join(tokens)
        assert [(text[a:b], k) for a, b, k in tagger.spans(tokens)] == expected
        known = [tagger.compute(t) for t in tokens]
        assert [(text[a:b], k) for a, b, k in tagger.spans(tokens, known)] == expected


def test_a_rarer_two_character_name_next_to_a_person_in_a_list_is_a_person():
    tags = {**TAGS18, "李立群": "nr", "常戎": None, "刘蓓": None, "等": "u", "参加": "v"}
    tagger = EntityTagger(tags, None, frozenset("立群"))        # 戎 and 蓓 are no given-name characters here
    tokens = ["李立群", "、", "常戎", "、", "刘蓓", "等", "参加"]
    text = "".join(tokens)
    assert [(text[a:b], k) for a, b, k in tagger.spans(tokens)] == [("李立群", "PER"), ("常戎", "PER"), ("刘蓓", "PER")]
    tokens = ["常戎", "参加"]                                   # alone it stays no person
    assert tagger.spans(tokens) == []
    tokens = ["常戎", "、", "刘蓓"]                             # nor two such names together
    assert tagger.spans(tokens) == []


def test_second_review_phrases():
    # a clause-final 时 is no given name: 采访 + 姚明 + 时 + ，
    tagger = EntityTagger(TAGS18, None, frozenset("时洪"))
    tokens = ["姚明", "时", "，"]
    assert [("".join(tokens)[a:b], k) for a, b, k in tagger.spans(tokens)] == [("姚明", "PER")]
    # verbs right before the head at the start of a clause: 北京 + 出版 + 集团; after 在 it is a clause
    assert found18(["北京", "出版", "集团"]) == [("北京出版集团", "ORG")]
    assert found18(["在", "北京", "出版", "集团"]) == [("北京", "LOC")]
    # 所 before a verb is a unit unless 为 / 被 came before it
    assert found18(["中科院", "化学", "所", "开展"]) == [("中科院化学所", "ORG")]
    # 、 + a one-character word that is no place abbreviation ends the clause: 风景 + 美 + 、 + 人
    assert found18(["风景", "美", "、", "人"]) == []
    # a learned army or association at a word's start joins the place: 美国 + [海军]军官
    assert found18(["美国", "海军军官"], {"海军军官": ((0, 2, "ORG"),)}) == [("美国海军", "ORG")]


def test_many_dotted_names_in_one_post_are_each_joined():
    # second review: each 比尔·盖茨 scanned every span (40,000 tokens took 7 s); now one pass
    tokens = ["比尔", "·", "盖茨", "，", "记者", "·", "王小明", "，"] * 2000
    text = "".join(tokens)
    found = EntityTagger(TAGS18, None, frozenset("小明")).spans(tokens)
    assert [text[a:b] for a, b, k in found if k == "PER"] == ["比尔·盖茨", "王小明"] * 2000


def test_a_place_word_ending_in_an_area_word_is_the_name_only():
    tags = {**TAGS18, "西藏地区": "ns", "燕山山脉": "ns", "金沙江畔": "ns", "地区": "n"}
    tagger = EntityTagger(tags, None, frozenset())
    for tokens, expected in ((["西藏地区", "代表"], [("西藏", "LOC")]), (["燕山山脉"], [("燕山", "LOC")]),
                             (["金沙江畔"], [("金沙江", "LOC")]), (["地区"], [])):
        text = "".join(tokens)
        assert [(text[a:b], k) for a, b, k in tagger.spans(tokens)] == expected


def test_a_lone_admin_word_before_an_organisation_learned_inside_a_word():
    parts = {"人大代表": ((0, 2, "ORG"),)}
    assert found18(["县", "人大代表"], parts) == [("县人大", "ORG")]
    assert found18(["全国", "人大代表"], parts) == [("全国人大", "ORG")]
    assert found18(["他", "人大代表"], parts) == [("人大", "ORG")]


def test_the_party_prefix_joins_a_place_and_its_committee():
    tags = {**TAGS18, "中共": "j", "河北": "ns", "迁安": "ns", "市委": "ORG"}
    tagger = EntityTagger(tags, None, frozenset())
    tokens = ["中共", "河北", "迁安", "市委", "书记"]
    text = "".join(tokens)
    assert [(text[a:b], k) for a, b, k in tagger.spans(tokens)] == [("中共河北迁安市委", "ORG")]
    tokens = ["中共", "河北"]                     # no committee: the place only
    assert [("".join(tokens)[a:b], k) for a, b, k in tagger.spans(tokens)] == [("河北", "LOC")]


def test_third_review_phrases():
    parts = {"人大代表": ((0, 2, "ORG"),), "县委书记": ((0, 2, "ORG"),), "工会主席": ((0, 2, "ORG"),)}
    tags = {**TAGS18, "东坝": "ns", "乡": "n", "全国": "n", "喀什地区": "ns", "公安局": "nt", "戒严地区": "ns",
            "戒严": "v", "西藏地区": "ns", "西藏": "ns"}
    tagger = EntityTagger(tags, parts, frozenset())

    def found(tokens):
        text = "".join(tokens)
        return [(text[a:b], k) for a, b, k in tagger.spans(tokens)]
    # a lone 乡 belongs to the name before it, not to the organisation after it
    assert found(["东坝", "乡", "人大代表"]) == [("东坝乡", "LOC"), ("人大", "ORG")]
    # a part with its own level takes no second one: 市 + [县委]书记 is 县委
    assert found(["市", "县委书记"]) == [("县委", "ORG")]
    # 全国 joins the national bodies only
    assert found(["全国", "人大代表"]) == [("全国人大", "ORG")]
    assert found(["全国", "工会主席"]) == [("工会", "ORG")]
    # a place ending in 地区 still starts a unit; alone it is the name; not when the rest is a verb
    assert found(["喀什地区", "公安局"]) == [("喀什地区公安局", "ORG")]
    assert found(["西藏地区", "代表"]) == [("西藏", "LOC")]
    assert found(["戒严地区"]) == [("戒严地区", "LOC")]


def test_a_surname_after_lao_or_xing_in_a_token_of_no_dictionary():
    tagger = EntityTagger({**TAGS18, "老师": "n"}, None, frozenset())
    for tokens, expected in ((["支书", "老胡", "带头"], [("胡", "PER")]), (["姓戴", "的", "主任"], [("戴", "PER")]),
                             (["老师", "说"], [])):
        text = "".join(tokens)
        assert [(text[a:b], k) for a, b, k in tagger.spans(tokens)] == expected


def names(tagger: EntityTagger, tokens: list[str]) -> list[tuple[str, str]]:
    """The tagger's entities as (text, type), for the session 19 tests."""
    text = "".join(tokens)
    return [(text[a:b], kind) for a, b, kind in tagger.spans(tokens)]


def test_a_session_number_before_a_congress_is_part_of_it():
    tags = {**TAGS18, "第六届": "m", "六届": "m", "一届": "m", "全国人大常委会": "ORG", "人大": "j", "新": "a",
            "江西": "ns", "南丰县": "ns", "第十二届": "m", "人大常委会": "nt", "全国": "n", "九届": "m", "会议": "n",
            "人大代表": "n", "第三次": "m"}
    tagger = EntityTagger(tags, None, frozenset())

    found = functools.partial(names, tagger)
    assert found(["第六届", "全国人大常委会", "第三次", "会议"]) == [("第六届全国人大常委会", "ORG")]
    assert found(["六届", "人大", "会议"]) == [("六届人大", "ORG")]
    # the places and a national or regional word before the number belong to it too
    assert found(["江西", "南丰县", "第十二届", "人大常委会"]) == [("江西南丰县第十二届人大常委会", "ORG")]
    assert found(["全国", "九届", "人大", "会议"]) == [("全国九届人大", "ORG")]
    # 新 + 一届 is a new term, and a number before anything but a congress stays outside it
    assert found(["新", "一届", "人大常委会"]) == [("人大常委会", "ORG")]
    assert found(["第六届", "北京市", "公安局"]) == [("北京市公安局", "ORG")]


def test_a_party_organ_glued_to_the_word_after_a_unit_belongs_to_the_unit():
    parts = {"党组书记": ((0, 2, "ORG"),)}
    tags = {**TAGS18, "铁路分局": "n", "伊图里河": "ns", "党委书记": "n", "党组书记": "n", "党委": "n",
            "福州市": "ns", "国税局": "O", "书记": "n"}
    tagger = EntityTagger(tags, parts, frozenset())

    found = functools.partial(names, tagger)
    assert found(["伊图里河", "铁路分局", "党委书记", "李"]) == [("伊图里河铁路分局党委", "ORG")]
    # the organ the parts table found in the word joins the unit instead of standing alone
    assert found(["福州市", "国税局", "党组书记"]) == [("福州市国税局党组", "ORG")]
    # after a place, or with nothing before it, the word stays as it was
    assert found(["北京", "党委书记"]) == [("北京", "LOC")]
    assert found(["党组书记", "说"]) == [("党组", "ORG")]


def test_session_19_heads_and_clauses_before_a_place():
    tags = {**TAGS18, "深圳": "ns", "艺术": "n", "学校": "n", "延安": "ns", "党校": "n", "美国": "ns", "法庭": "n",
            "上海": "ns", "成立": "v", "合资": "vn", "由": "p", "援建": "v", "医院": "n", "钓鱼": "v", "主办": "v", "在": "p"}
    tagger = EntityTagger(tags, None, frozenset())

    found = functools.partial(names, tagger)
    assert found(["深圳", "艺术", "学校", "学生"]) == [("深圳艺术学校", "ORG")]
    assert found(["延安", "党校", "学习"]) == [("延安党校", "ORG")]
    assert found(["美国", "法庭", "判决"]) == [("美国", "LOC")]
    # a verb further back is a clause: 上海 + 成立 + 合资 + 公司 is no name
    assert found(["上海", "成立", "合资", "公司"]) == [("上海", "LOC")]
    # after a preposition the verb is a clause, 由 included (由 + 中国 + 援建 + 医院; tried in session 19)
    assert found(["由", "中国", "援建", "医院"]) == [("中国", "LOC")]
    assert found(["在", "美国", "收购", "公司"]) == [("美国", "LOC")]


def test_a_brand_next_to_an_organisation_in_a_list_is_one_too():
    tags = {**TAGS18, "格力": "nz", "海尔": "ORG", "春兰": "ORG", "等": "u", "空调": "n", "奥运": "nz", "和": "c"}
    tagger = EntityTagger(tags, None, frozenset())

    found = functools.partial(names, tagger)
    assert found(["格力", "、", "海尔", "等"]) == [("格力", "ORG"), ("海尔", "ORG")]
    assert found(["春兰", "、", "格力", "等", "空调"]) == [("春兰", "ORG"), ("格力", "ORG")]
    # not next to no organisation, and not across another joiner
    assert found(["格力", "、", "空调"]) == []
    assert found(["海尔", "和", "奥运"]) == [("海尔", "ORG")]


def test_a_word_tagged_as_a_name_before_a_formal_title_or_next_to_a_person_in_a_list():
    tags = {**TAGS18, "乌兰夫": "nr", "同志": "n", "主持": "v", "觉察到": "nr", "大娘": "n", "茅以升": "PER",
            "竺可桢": "nr", "苏步青": "PER", "、": "w", "撒切尔": "nr", "夫人": "n"}
    tagger = EntityTagger(tags, None, frozenset())

    found = functools.partial(names, tagger)
    assert found(["乌兰夫", "同志", "主持"]) == [("乌兰夫", "PER")]
    assert found(["撒切尔", "夫人"]) == [("撒切尔", "PER")]
    assert found(["觉察到", "大娘"]) == []          # a kinship word is no title here
    assert found(["觉察到", "主持"]) == []
    assert found(["茅以升", "、", "竺可桢", "、", "苏步青"]) == [("茅以升", "PER"), ("竺可桢", "PER"), ("苏步青", "PER")]


def test_a_name_tagged_word_ending_like_a_place_is_a_place_and_the_people_of_a_place_name_it():
    assert token_type("龙须河", "nr") == "PER"      # 河 ends names too (李银河): not taken as a place end
    assert token_type("曲桑寺", "nr") == "LOC"
    assert token_type("戴窑镇", None) == "LOC"
    assert token_type("石清沟", None) == "LOC"
    assert token_type("李银河", "nr") == "PER"
    tags = {**TAGS18, "桂林": "ns", "湘": "j", "美人": "n", "美": "j", "嗜辣": None, "痣": "n"}
    tagger = EntityTagger(tags, None, frozenset())

    found = functools.partial(names, tagger)
    assert found(["每个", "桂林人", "说"]) == [("桂林", "LOC")]
    assert found(["湘人", "嗜辣"]) == [("湘", "LOC")]
    assert found(["美人", "痣"]) == []               # a word of the dictionary: a beauty


def test_a_lone_admin_word_glued_to_the_preposition_before_it_starts_a_unit():
    tags = {**TAGS18, "南县": "ns", "人大常委会": "nt", "对县": None, "人民法院": "O", "从市": None, "审计局": "nt",
            "该县": "r", "县委": "ORG", "和县": "ns", "人民医院": "nt", "使村": None, "更": "d"}
    tagger = EntityTagger(tags, None, frozenset())

    found = functools.partial(names, tagger)
    assert found(["南县", "人大常委会", "对县", "人民法院"]) == [("南县人大常委会", "ORG"), ("县人民法院", "ORG")]
    assert found(["从市", "审计局"]) == [("市审计局", "ORG")]
    # a demonstrative is no preposition, and 和县 is a county
    assert found(["该县", "县委"]) == [("县委", "ORG")]
    assert found(["和县", "人民医院"]) == [("和县人民医院", "ORG")]
    assert token_type("使村", None) is None             # no place either


def test_a_branch_takes_its_company_name_before_the_place():
    tags = {**TAGS18, "中保": "j", "人寿保险": "n", "武汉市": "ns", "分公司": "n", "兑现": "v", "招商银行": "ORG",
            "分行": "n", "的": "uj", "上海": "ns", "中美": None}
    tagger = EntityTagger(tags, {"中美": ((0, 1, "LOC"), (1, 2, "LOC"))}, frozenset())

    found = functools.partial(names, tagger)
    assert found(["中保", "人寿保险", "武汉市", "分公司", "兑现"]) == [("中保人寿保险武汉市分公司", "ORG")]
    assert found(["招商银行", "上海", "分公司"]) == [("招商银行上海分公司", "ORG")]   # neighbours merge anyway
    # not over a clause word, nor over an entity right before the branch
    assert found(["中保", "的", "上海", "分公司"]) == [("上海分公司", "ORG")]
    assert found(["中保", "中美", "上海", "分公司"]) == [("中", "LOC"), ("美", "LOC"), ("上海分公司", "ORG")]


def test_one_character_department_heads_after_an_organisation_and_a_filler():
    tags = {**TAGS18, "国家工商局": "ORG", "公平交易": "n", "局": "n", "北京舞蹈学院": "ORG", "民间舞蹈": "n",
            "系": "v", "北京": "ns", "公司": "n", "法人": "n", "王小明": "PER", "他": "r"}
    tagger = EntityTagger(tags, None, frozenset())

    found = functools.partial(names, tagger)
    assert found(["国家工商局", "公平交易", "局", "的"]) == [("国家工商局公平交易局", "ORG")]
    assert found(["北京舞蹈学院", "民间舞蹈", "系", "1998"]) == [("北京舞蹈学院民间舞蹈系", "ORG")]
    # 系 before a person or a pronoun is "is"
    assert found(["北京舞蹈学院", "法人", "系", "王小明"]) == [("北京舞蹈学院", "ORG"), ("王小明", "PER")]
    assert found(["北京舞蹈学院", "法人", "系", "他"]) == [("北京舞蹈学院", "ORG")]


def test_a_surname_jieba_tags_nr_takes_a_given_name_word_of_given_name_characters():
    tags = {**TAGS18, "蒋": "nr", "天才": "n", "石": "nr", "山区": "n", "迟到": "v"}
    tagger = EntityTagger(tags, None, frozenset("天才"))

    found = functools.partial(names, tagger)
    assert found(["蒋", "天才", "迟到"]) == [("蒋天才", "PER")]
    assert found(["石", "山区"]) == []               # 区 is no given-name character


def test_the_third_character_of_a_split_name_may_carry_any_word_tag():
    tags = {**TAGS18, "李铁": "PER", "军": "n", "带领": "v", "王平": "PER", "说": "v", "全队": "n"}
    tagger = EntityTagger(tags, None, frozenset("军铁"))

    found = functools.partial(names, tagger)
    assert found(["李铁", "军", "带领", "全队"]) == [("李铁军", "PER")]
    assert found(["王平", "说", "全队"]) == [("王平", "PER")]      # 说 is no given-name character


def test_a_two_character_name_glued_to_wei_or_jia():
    tagger = EntityTagger({**TAGS18, "领队": "n"}, None, frozenset())
    for tokens, expected in ((["钟书为", "他"], [("钟书", "PER")]), (["周莲为", "领队"], [("周莲", "PER")]),
                             (["李家和", "说"], [("李家和", "PER")])):
        assert names(tagger, tokens) == expected


def test_an_organisation_word_after_every_level_names_no_one_body():
    tagger = EntityTagger({**TAGS18, "各级": "r", "人大": "j", "如何": "r", "县": "n"}, None, frozenset())
    for tokens, expected in ((["各级", "人大", "如何"], []), (["县", "人大", "如何"], [("县人大", "ORG")])):
        assert names(tagger, tokens) == expected


def test_museums_galleries_and_towers_are_places():
    assert token_type("中国科技馆", "nt") == "LOC"
    assert token_type("炎黄艺术馆", None) == "LOC"
    assert token_type("荔景大厦", None) == "LOC"
    assert token_type("大厦", "n") is None            # the word alone names nothing


def test_a_building_named_like_a_person_is_a_place():
    tagger = EntityTagger({**TAGS18, "吉信": None, "大厦": "n", "封顶": "v", "努力学习": None, "图书馆": "n"},
                          None, frozenset("信"))
    for tokens, expected in ((["吉信", "大厦", "封顶"], [("吉信大厦", "LOC")]), (["吉信", "封顶"], [("吉信", "PER")]),
                             (["努力学习", "图书馆"], [])):
        assert names(tagger, tokens) == expected


def test_session_19_review_phrases():
    parts = {"足协杯": ((0, 2, "ORG"),)}
    tags = {**TAGS18, "男子": "n", "系": "v", "酒后": "d", "县": "n", "教育局": "n", "党组织": "n", "建设": "vn",
            "十三届": "m", "全国人大": "ORG", "会议": "n", "第十届": "m", "人大": "j", "新闻": "n", "学院": "n",
            "足协杯": "nz", "赞助商": "n", "武汉": "ns", "分公司": "n", "石化": "j", "广州": "ns", "托福": "nr",
            "老师": "n", "美人": None, "真": "d", "山西": "ns", "私营": "b", "煤矿": "n", "酒楼": "n", "国泰": "ORG",
            "影院": "n", "早茶": "n"}
    tagger = EntityTagger(tags, parts, frozenset())

    found = functools.partial(names, tagger)
    assert found(["北京", "男子", "系", "酒后"]) == [("北京", "LOC")]                  # 系: "is"
    assert found(["县", "教育局", "党组织", "建设"]) == [("县教育局", "ORG")]          # not 党组 + 织
    assert found(["北京", "十三届", "全国人大", "会议"]) == [("北京", "LOC"), ("十三届全国人大", "ORG")]
    assert found(["第十届", "人大", "新闻", "学院"]) == [("人大新闻学院", "ORG")]       # a university
    # a branch takes no brand that an entity crosses or touches
    assert found(["中国", "足协杯", "赞助商", "武汉", "分公司"]) == [("中国足协", "ORG"), ("武汉分公司", "ORG")]
    assert found(["中国", "石化", "广州", "分公司"]) == [("中国", "LOC"), ("广州分公司", "ORG")]
    assert found(["托福", "老师"]) == []                 # two-character nr words are mostly no names
    assert found(["美人", "真"]) == []
    assert token_type("安营扎寨", "nr") is None          # an idiom, not a stockade
    assert found(["山西", "私营", "煤矿"]) == [("山西", "LOC")]
    assert found(["广州", "酒楼", "早茶"]) == [("广州", "LOC")]
    assert found(["国泰", "影院"]) == [("国泰影院", "ORG")]


def test_a_county_before_cheng_is_its_name():
    tagger = EntityTagger({**TAGS18, "临邑县": "ns", "城": "n", "眼镜店": "n"}, None, frozenset())
    for tokens, expected in ((["临邑县", "城", "眼镜店"], [("临邑", "LOC")]), (["临邑县", "眼镜店"], [("临邑县", "LOC")])):
        assert names(tagger, tokens) == expected


def test_session_19_second_review_phrases():
    tags = {**TAGS18, "清华大学": "ORG", "学生": "n", "系": "v", "北京": "ns", "王芳": "PER", "和": "c", "老公": "nr",
            "长阳土家族自治县": "ns", "城": "n", "大兴县": "ns", "人民医院": "nt", "连任": "v", "三届": "m",
            "全国人大": "ORG", "四川": "ns", "灾区": "n", "学校": "n", "北京电影学院": "ORG", "附属": "vn",
            "张学友": "PER", "广场": "n", "舞": "n", "陕西": "ns", "国有": "vn", "煤矿": "n", "当": "v", "了": "ul",
            "五届": "m"}
    tagger = EntityTagger(tags, None, frozenset())

    found = functools.partial(names, tagger)
    assert found(["清华大学", "学生", "系", "北京", "人"]) == [("清华大学", "ORG"), ("北京", "LOC")]   # "is"
    assert found(["王芳", "和", "老公"]) == [("王芳", "PER")]         # a two-character nr word in a list
    assert found(["长阳土家族自治县", "城"]) == [("长阳土家族自治县", "LOC")]
    assert found(["大兴县", "城", "人民医院"]) == [("大兴县城人民医院", "ORG")]
    assert found(["连任", "三届", "全国人大"]) == [("全国人大", "ORG")]    # three terms, no session
    assert found(["当", "了", "五届", "全国人大"]) == [("全国人大", "ORG")]
    assert found(["四川", "灾区", "学校"]) == [("四川", "LOC")]
    assert found(["陕西", "国有", "煤矿"]) == [("陕西", "LOC")]
    assert found(["北京电影学院", "附属", "学校"]) == [("北京电影学院附属学校", "ORG")]
    assert found(["张学友", "广场", "舞"]) == [("张学友", "PER")]      # a dictionary person names no building


def test_a_session_number_inside_another_entity_starts_nothing():
    tags = {**TAGS18, "王": "nr", "九届": None, "全国人大": "ORG"}
    tagger = EntityTagger(tags, None, frozenset("九届"))
    tokens = ["王", "九届", "全国人大"]
    found = tagger.spans(tokens)
    assert all(x[1] <= y[0] for x, y in zip(found, found[1:])), found
    assert found == tagger.spans(tokens, [tagger.compute(t) for t in tokens])


def test_a_bare_wei_word_after_a_level_or_a_place_is_a_unit():
    tags = {**TAGS18, "市": "n", "纪委": "O", "决定": "v", "黑龙江省": "ns", "县": "n", "政委": "n", "国家": "n",
            "部委": "n", "区": "n", "团委": "n", "同志": "n"}
    tagger = EntityTagger(tags, None, frozenset())
    found = functools.partial(names, tagger)
    assert found(["市", "纪委", "决定"]) == [("市纪委", "ORG")]
    assert found(["黑龙江省", "纪委", "决定"]) == [("黑龙江省纪委", "ORG")]
    assert found(["区", "团委", "同志"]) == [("区团委", "ORG")]
    assert found(["县", "政委", "决定"]) == []                # a person
    assert found(["国家", "部委", "决定"]) == []              # a kind of body
    assert found(["纪委", "同志"]) == []                      # alone: no level, no unit
    assert found(["县", "同志", "纪委"]) == []                # nothing between
    assert found(["市", "原委", "决定"]) == []                # the whole story


def test_a_brand_before_a_generic_unit_head_names_it():
    tags = {**TAGS18, "华龙": "nz", "酒楼": "n", "到": "v", "中保": "j", "财产": "n", "保险公司": "n", "，": "w",
            "恒万": None, "请来": "v", "这支": None, "球队": "n", "访华": None, "代表团": "n", "王芳": "PER",
            "宾馆": "n", "商贸": "n", "中心": "n", "的": "uj", "到育贤": None, "中学": "n", "10": "m",
            "家大": None, "银行": "n", "计生": "j", "协会": "n", "如某": None, ",": None, "我": "r",
            "老公": "nr", "小明": "nz", "学会": "n", "了": "ul", "总会": "n", "来": "v", "万达": "nz", "集团": "n",
            "房地产": "j"}
    tagger = EntityTagger(tags, {"访华": ((1, 2, "LOC"),)}, frozenset())
    found = functools.partial(names, tagger)
    assert found(["到", "华龙", "酒楼"]) == [("华龙酒楼", "ORG")]      # no place in the post: still looked at
    assert found(["，", "中保", "财产", "保险公司"]) == [("中保财产保险公司", "ORG")]
    assert found(["，", "恒万", "公司", "请来"]) == [("恒万公司", "ORG")]      # an HMM word after punctuation
    assert found(["这支", "球队"]) == []                    # 这: a function character; 队 follows a unit
    assert found(["访华", "代表团"]) == [("华", "LOC")]     # nothing found inside the brand
    assert found(["王芳", "商贸", "宾馆"]) == [("王芳", "PER")]     # a person leads no brand's name (right
    # before the head she names the unit: test_a_person_right_before_a_unit_head_names_the_unit)
    assert found(["华龙", "商贸", "中心"]) == []            # 中心 is as often a kind
    assert found(["到育贤", "中学"]) == []                  # an HMM word glued to a verb
    assert found(["10", "家大", "银行"]) == []              # ... or to a number
    assert found(["，", "如某", "公司"]) == []              # 某: some company
    assert found([",", "恒万", "公司"]) == [("恒万公司", "ORG")]      # ASCII punctuation, as prepare() leaves it
    assert found(["我", "老公", "公司"]) == []              # a two-character nr word is mostly no name
    assert found(["小明", "学会", "了"]) == [] and found(["小明", "总会", "来"]) == []    # verbs, not heads
    assert found(["万达", "集团"]) == [("万达集团", "ORG")]
    common = EntityTagger(tags, None, frozenset(), counts={"房地产": 1603, "华龙": 17})
    assert names(common, ["房地产", "公司"]) == []         # a common word names a kind, not a brand
    assert names(common, ["到", "华龙", "酒楼"]) == [("华龙酒楼", "ORG")]

def test_a_museum_named_for_its_subject_and_a_named_store_are_places():
    tags = {**TAGS18, "中国": "ns", "印刷": "vn", "博物馆": "n", "煤炭": "n", "、": "w", "东安": "nz",
            "批发市场": "n", "各大": None, "商场": "n", "的": "uj", "整个": "b", "农村": "n", "图书馆": "n",
            "北京": "ns", "管理": "vn", "加强": "v", "一家": "n", "这是": None, "大学": "n", "社区": "n", "中共": "j",
            "龙舟": "nz"}
    tagger = EntityTagger(tags, None, frozenset())
    found = functools.partial(names, tagger)
    assert found(["中国", "煤炭", "博物馆", "的"]) == [("中国煤炭博物馆", "LOC")]
    assert found(["中国", "北京", "煤炭", "博物馆"]) == [("中国", "LOC"), ("北京煤炭博物馆", "LOC")]   # the last place only
    assert found(["北京", "龙舟", "博物馆"]) == [("北京", "LOC"), ("龙舟博物馆", "LOC")]   # a name: the place apart
    assert found(["加强", "管理", "博物馆"]) == []              # a verb and its object
    assert found(["中国", "印刷", "博物馆"]) == [("中国", "LOC")]   # vn: as often a verb (a known miss)
    assert found(["这是", "一家", "博物馆"]) == []
    assert found(["大学", "图书馆"]) == [] and found(["社区", "图书馆"]) == []     # kinds of library
    tokens = ["中共", "中国", "煤炭", "博物馆"]
    assert tagger.spans(tokens) == tagger.spans(tokens, [tagger.compute(t) for t in tokens])
    assert found(["、", "煤炭", "博物馆", "、"]) == [("煤炭博物馆", "LOC")]
    assert found(["东安", "批发市场", "的"]) == [("东安批发市场", "LOC")]
    assert found(["各大", "商场", "的"]) == []                  # the big stores
    assert found(["整个", "博物馆"]) == []                      # no subject
    assert found(["农村", "图书馆"]) == []                      # a kind of library


def test_a_society_named_for_what_it_does_after_a_preposition():
    tags = {**TAGS18, "由": "p", "中国": "ns", "钓鱼": "v", "协会": "n", "在": "p", "美国": "ns", "收购": "v",
            "公司": "n", "成立": "v"}
    tagger = EntityTagger(tags, None, frozenset())
    assert names(tagger, ["由", "中国", "钓鱼", "协会"]) == [("中国钓鱼协会", "ORG")]
    assert names(tagger, ["在", "美国", "收购", "公司"]) == [("美国", "LOC")]     # a clause
    assert names(tagger, ["在", "美国", "成立", "协会"]) == [("美国", "LOC")]     # founding one: a clause too


def test_a_publication_title_before_its_masthead_word_is_the_organisation():
    tags = {**TAGS18, "《": "w", "》": "w", "天文": "n", "爱好者": "n", "杂志": "n", "的": "uj", "英国": "ns",
            "新": "a", "科学家": "n", "周刊": "n", "文艺": "n", "天津日报": "nz"}
    tagger = EntityTagger(tags, None, frozenset())
    found = functools.partial(names, tagger)
    assert found(["《", "天文", "爱好者", "》", "杂志", "的"]) == [("《天文爱好者》杂志", "ORG")]
    assert found(["英国", "《", "新", "科学家", "》", "周刊"]) == [("英国《新科学家》周刊", "ORG")]
    assert found(["《", "》", "杂志"]) == []                                  # no title
    assert found(["天文", "》", "杂志"]) == []                                # no opening mark
    assert found(["《", *["天文"] * 9, "》", "杂志"]) == []                  # too long for a title
    tokens = ["《", "天文", "爱好者", "》", "杂志"]
    assert tagger.spans(tokens) == tagger.spans(tokens, [tagger.compute(t) for t in tokens])


def test_a_place_before_a_title_is_that_place_s_paper():
    tags = {**TAGS18, "据": "p", "英国": "ns", "《": "w", "》": "w", "每日电讯报": "nt", "报道": "v", "苏联": "ns",
            "政治经济学": "n", "教科书": "n", "美国": "ns", "读者文摘": "n", "月刊": "n"}
    tagger = EntityTagger(tags, None, frozenset())
    found = functools.partial(names, tagger)
    assert found(["据", "英国", "《", "每日电讯报", "》", "报道"]) == [("英国《每日电讯报》", "ORG")]
    assert found(["苏联", "《", "政治经济学", "教科书", "》"]) == [("苏联", "LOC")]      # a book
    assert found(["美国", "《", "读者文摘", "》", "月刊"]) == [("美国《读者文摘》月刊", "ORG")]
    assert found(["英国", "《", "每日电讯报"]) == [("英国", "LOC"), ("每日电讯报", "ORG")]  # never closed
    for tokens in (["据", "英国", "《", "每日电讯报", "》", "报道"], ["美国", "《", "读者文摘", "》", "月刊"]):
        assert tagger.spans(tokens) == tagger.spans(tokens, [tagger.compute(t) for t in tokens])


def test_mei_before_ascii_punctuation_ends_a_clause_as_before_full_width():
    # analyze() sees the text after textnorm.prepare(), which turns ， ！ ？ ； into , ! ? ;
    tags = {**TAGS18, "歌曲": "n", "美": "j", "，": "w", ",": None, "!": None}
    tagger = EntityTagger(tags, None, frozenset())
    for end in ("，", ",", "!"):
        assert names(tagger, ["歌曲", "美", end]) == [], end


def test_a_unit_word_before_an_organ_is_that_unit_s_organ():
    tags = {**TAGS18, "厅": "n", "党组": "n", "一班人": "l", "这个": "r", "处": "n", "党委": "n", "把": "p"}
    tagger = EntityTagger(tags, None, frozenset())
    found = functools.partial(names, tagger)
    assert found(["厅", "党组", "一班人"]) == [("厅党组", "ORG")]
    assert found(["这个", "处", "党委", "把"]) == []           # the newswire marks 党委 alone here
    assert found(["把", "党委"]) == []


def test_a_city_centre_and_a_shopping_centre_are_no_organisations():
    tags = {**TAGS18, "重庆市": "ns", "中心": "n", "的": "uj", "西单": "ns", "赛特": "nz", "购物中心": "n",
            "北京": "ns", "技术": "n"}
    tagger = EntityTagger(tags, None, frozenset())
    found = functools.partial(names, tagger)
    assert found(["重庆市", "中心", "的"]) == [("重庆市", "LOC")]                     # downtown
    assert found(["西单", "赛特", "购物中心"]) == [("西单", "LOC"), ("赛特购物中心", "LOC")]
    assert found(["北京", "技术", "中心"]) == [("北京技术中心", "ORG")]               # with a filler: a unit
    assert names(EntityTagger({**tags, "深圳": "ns", "歌舞厅": "n"}, None, frozenset()), ["深圳", "歌舞厅"]) \
        == [("深圳", "LOC")]                                                        # a room, not a bureau


def test_session_20_second_review_phrases():
    tags = {**TAGS18, "累死": None, "了": "u", ",": None, "刚到": None, "公司": "n", "。": "w", "偷排": None,
            "工厂": "n", "被": "p", "在": "p", "北京": "ns", "成立": "v", "保护": "v", "协会": "n", "开": "v",
            "场": "q", "党委": "n", "扩大会议": "n", "拍": "v", "部": "q", "宣传片": "n", "的": "u", "局": "n",
            "召集": "v", "《": "w", "》": "w", "读者": "n", "编辑部": "n", "来信": "v", "这些": "r", "处": "n",
            "合并": "v", "新": "a", "组建": "v"}
    tagger = EntityTagger(tags, None, frozenset(), counts={"偷排": 1})     # a watch term added untagged
    found = functools.partial(names, tagger)
    assert found(["累死", "了", ",", "刚到", "公司", "。"]) == []          # an adverb and a verb, no brand
    assert found(["偷排", "工厂", "被"]) == []                           # in the dictionary: no HMM word
    assert found(["在", "北京", "成立", "保护", "协会"]) == [("北京", "LOC")]   # founding, anywhere before
    assert found(["开", "了", "场", "党委", "扩大会议"]) == []            # 场, 部: measure words here
    assert found(["拍", "了", "部", "党委", "宣传片"]) == []
    assert found(["新", "组建", "的", "局", "党委", "召集"]) == [("局党委", "ORG")]
    assert found(["这些", "处", "党委", "合并"]) == []
    assert found(["《", "读者", "》", "编辑部", "来信"]) == [("《读者》编辑部", "ORG")]   # no other head needed


TRANSLIT_TAGS = {**TAGS, "帕斯": "nr", "特拉纳": "nrt", "梅利托": None, "萨": "nr", "拉萨尔": "nr", "安德烈斯": "nr",
                 "巴尔": "ns", "拉": "v", "当选": "v", "王小明": None, "斯特": "nrt", "尼亚": "nrt", "维克明": None, "维克里斯特": None,
                 "萨默斯": "nr", "委员会": "n", "金": "n", "公司": "n", "萨默": None, "拉迪曼明": None,
                 "研究所": "n", "罗斯林": "PER", "饭店": "n", "研究": "vn", "所": "n", "相遇": "v",
                 "外长": "n", "21": "m", "吹": "v", "萨克斯": None, "车主": "n", "总统": "n", "加盟": "v",
                 "腾讯公司": "ORG", "没关系": "l", "管理体系": "n", "中学": "n", "时代": "n", "坦普尔": "nrt", "大学": "n",
                 "王芳": "PER", "中文系": "n",
                 "南京大学": "ORG", "地理系": "n", "毕业": "v", "太阳系": "n", "银河系": "n"}


def translit_spans(tokens: list[str]) -> list[tuple[str, str]]:
    text = "".join(tokens)
    return [(text[a:b], kind) for a, b, kind in EntityTagger(TRANSLIT_TAGS).spans(tokens)]


def test_a_foreign_name_jieba_cut_apart_is_one_person():
    assert translit_spans(["帕斯", "特拉纳", "当选"]) == [("帕斯特拉纳", "PER")]
    assert translit_spans(["说", "特拉纳", "斯特", "尼亚", "当选"]) == [("特拉纳斯特尼亚", "PER")]
    # after a join at the dot: the piece beyond it, and a person span touching it
    assert translit_spans(["梅利托", "·", "萨", "拉萨尔", "说"]) == [("梅利托·萨拉萨尔", "PER")]
    assert translit_spans(["安德烈斯", "·", "帕斯", "特拉纳", "当选"]) == [("安德烈斯·帕斯特拉纳", "PER")]


def test_only_transliteration_pieces_of_name_tags_join_a_person():
    assert translit_spans(["特拉纳", "拉", "帕斯"]) == [("特拉纳", "PER")]               # a verb
    assert translit_spans(["巴尔", "特拉纳"]) == [("巴尔", "LOC"), ("特拉纳", "PER")]   # another span
    assert translit_spans(["维克明", "特拉纳"]) == [("特拉纳", "PER")]                    # 明 is no such character
    assert translit_spans(["维克里斯特", "特拉纳"]) == [("特拉纳", "PER")]                # a piece of 5 characters
    assert translit_spans(["王小明", "斯特", "说"]) == [("王小明", "PER")]                # a Chinese name takes none
    assert translit_spans(["特拉纳", "、", "王小明", "斯特"]) == [("特拉纳", "PER"), ("王小明", "PER")]
    assert translit_spans(["特拉纳", "、", "斯特", "王小明"]) == [("特拉纳", "PER"), ("王小明", "PER")]


def test_a_word_of_transliteration_characters_is_a_person_unless_it_names_a_unit():
    assert translit_spans(["萨默斯", "说"]) == [("萨默斯", "PER")]          # jieba's nr
    assert translit_spans(["拉迪曼", "说"]) == [("拉迪曼", "PER")]          # jieba's HMM
    assert translit_spans(["外长", "拉迪曼", "，"]) == [("拉迪曼", "PER")]  # a role before it
    assert translit_spans(["拉迪曼", "21", "日"]) == [("拉迪曼", "PER")]    # a date after it
    assert translit_spans(["巴塞尔", "委员会", "说"]) == [("巴塞尔委员会", "ORG")]
    assert translit_spans(["瓦克斯", "金", "公司", "说"]) == [("瓦克斯金公司", "ORG")]
    assert translit_spans(["萨默", "说"]) == [] and translit_spans(["拉迪曼明", "说"]) == []   # 2 characters; 明


def test_a_word_of_transliteration_characters_needs_a_persons_context():
    assert translit_spans(["吹", "萨克斯"]) == []                           # nothing says it is a person
    assert translit_spans(["拉迪曼", "，", "委员会"]) == []
    assert translit_spans(["萨克斯", "车主"]) == []
    # a unit head further on, across 的 or a verb, leaves the person alone
    assert translit_spans(["总统", "拉迪曼", "的", "公司"]) == [("拉迪曼", "PER")]
    assert translit_spans(["总统", "拉迪曼", "加盟", "公司"]) == [("拉迪曼", "PER")]


def test_a_person_right_before_a_unit_head_names_the_unit():
    assert translit_spans(["罗斯林", "研究所", "说"]) == [("罗斯林研究所", "ORG")]
    assert translit_spans(["拉迪曼", "饭店"]) == [("拉迪曼饭店", "ORG")]
    assert translit_spans(["王小明", "的", "研究所"]) == [("王小明", "PER")]       # not right before it
    assert translit_spans(["罗斯林", "研究", "所"]) == [("罗斯林", "PER")]          # no head word


def test_a_department_word_right_after_an_organisation_is_part_of_it():
    assert translit_spans(["南京大学", "地理系", "毕业"]) == [("南京大学地理系", "ORG")]
    assert translit_spans(["南京大学", "的", "地理系"]) == [("南京大学", "ORG")]
    assert translit_spans(["南京大学", "银河系"]) == [("南京大学", "ORG")]        # no department
    assert translit_spans(["地理系", "毕业"]) == []


def test_review_21_departments_and_units_named_after_people():
    assert translit_spans(["腾讯公司", "没关系"]) == [("腾讯公司", "ORG")]        # no department
    assert translit_spans(["南京大学", "管理体系"]) == [("南京大学", "ORG")]
    tagger = EntityTagger(TRANSLIT_TAGS, {"中文系": ((0, 2, "LOC"),)})
    assert tagger.spans(["南京大学", "中文系"]) == [(0, 4, "ORG"), (4, 6, "LOC")]   # a span inside it: left alone
    assert translit_spans(["王芳", "中学", "时代"]) == [("王芳", "PER")]         # where she studied
    assert translit_spans(["坦普尔", "大学", "的"]) == [("坦普尔大学", "ORG")]    # a foreign name's school
    assert translit_spans(["王芳", "饭店"]) == [("王芳饭店", "ORG")]


def test_review_21_foreign_name_pieces():
    assert translit_spans(["王小明", "", "特拉纳"]) == [("王小明", "PER"), ("特拉纳", "PER")]   # an empty token
    assert translit_spans(["王小明", "特拉纳"]) == [("王小明", "PER"), ("特拉纳", "PER")]       # a Chinese name: no join
    assert translit_spans(["帕斯", "特拉纳", "大学"]) == [("帕斯特拉纳大学", "ORG")]          # the pieces, then the unit
