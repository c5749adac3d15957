"""PER / LOC / ORG entities from the one jieba segmentation, without a second (posseg) pass.

Each token gets a tag by dictionary look-up (our user dictionaries first, then the word->tag
table of jieba's own dictionary); tokens jieba's HMM discovered (not in any dictionary) are
typed by rules: a common surname + one or two characters is a person, a place suffix
(省/市/县/区/镇/乡/村/街道...) makes a place, a unit suffix (局/委/办/院/公司/医院/学校/派出所...)
makes an organisation. Runs of place tokens ending in a unit head merge into one organisation
("北京市" + "公安局" -> "北京市公安局"). Reads no settings.
"""
from __future__ import annotations

from typing import Callable, Iterable

ENTITY_TYPES = ("PER", "LOC", "ORG")

# the most common Chinese surnames (single and double), covering the vast majority of people
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古"
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
) | frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "夏侯", "公孙", "长孙"})

PLACE_SUFFIXES = ("自治区", "自治州", "自治县", "特别行政区", "街道", "社区", "开发区", "新区",
                  "省", "市", "县", "区", "镇", "乡", "村", "州", "旗", "盟", "岛", "湾", "河", "江", "湖", "山", "港")
ORG_SUFFIXES = ("委员会", "派出所", "检察院", "法院", "医院", "学校", "大学", "学院", "中学", "小学", "幼儿园",
                "公司", "集团", "银行", "政府", "协会", "研究所", "研究院", "中心", "办公室", "工作组",
                "支队", "大队", "中队", "分局", "总局", "电视台", "报社", "日报", "出版社", "工厂", "厂",
                "局", "委", "办", "院", "厅", "署", "部", "所", "站", "队", "社", "会", "党", "军", "团")
# Dictionary tags that already say what a word is. jieba's plain "nr" is noisy (idioms carry it),
# so it counts only for 2-3 character words.
_TAG_TYPE = {"nrfg": "PER", "nrt": "PER", "PER": "PER", "ns": "LOC", "LOC": "LOC", "nt": "ORG", "ORG": "ORG"}


def token_type(token: str, tag: str | None) -> str | None:
    """Entity type of one token from its dictionary tag, or by rule if it is in no dictionary."""
    if tag is not None:
        if tag == "nr":
            return "PER" if 2 <= len(token) <= 3 and token[0] in SURNAMES else None
        return _TAG_TYPE.get(tag)
    if len(token) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in token):
        return None
    if len(token) <= 3 and (token[0] in SURNAMES or token[:2] in SURNAMES):
        return "PER"
    if len(token) >= 3 and token.endswith(ORG_SUFFIXES):
        return "ORG"
    if len(token) >= 2 and token.endswith(PLACE_SUFFIXES):
        return "LOC"
    return None


def _is_org_head(token: str, tag: str | None, kind: str | None) -> bool:
    return kind == "ORG" or (tag in (None, "n", "nt", "j") and token.endswith(ORG_SUFFIXES) and len(token) >= 2)


def entity_spans(raw_tokens: Iterable[str], tag_of: Callable[[str], str | None]) -> list[tuple[int, int, str]]:
    """(start, end, type) character spans over "".join(raw_tokens), in text order."""
    spans: list[tuple[int, int, str]] = []
    pos = 0
    pending: list[tuple[int, int, str]] = []   # a run of place tokens that may prefix a unit
    for token in raw_tokens:
        start, end = pos, pos + len(token)
        pos = end
        tag = tag_of(token)
        kind = token_type(token, tag)
        if pending and _is_org_head(token, tag, kind):
            spans.append((pending[0][0], end, "ORG"))
            pending = []
            continue
        if kind == "LOC":
            pending.append((start, end, "LOC"))
            continue
        spans.extend(pending)
        pending = []
        if kind is not None:
            spans.append((start, end, kind))
    spans.extend(pending)
    return spans


def group_entities(text: str, spans: list[tuple[int, int, str]]) -> dict[str, list[str]]:
    out: dict[str, dict[str, None]] = {kind: {} for kind in ENTITY_TYPES}
    for start, end, kind in spans:
        out[kind][text[start:end]] = None
    return {kind: list(names) for kind, names in out.items()}
