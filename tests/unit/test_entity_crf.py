"""The entity CRF over the rules (streams.entity_crf, issue 13): features, the model file, the C
tagger against its Python twin, and a model trained here on sentences written for the test."""
from __future__ import annotations

import gzip
import random
import sys
from array import array
from pathlib import Path

import pytest

from streams import entity_crf as ec

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import train_entity_crf  # noqa: E402

needs_c = pytest.mark.skipif(ec._speedups is None, reason="streams._speedups not built (no C compiler)")

# sentences written for this test: (text, gold spans)
SENTENCES = [
    ("张伟在北京市人民政府工作。", {(0, 2, "PER"), (3, 6, "LOC"), (3, 10, "ORG")}),
    ("李娜昨天到上海。", {(0, 2, "PER"), (5, 7, "LOC")}),
    ("北京大学的王芳说会议很好。", {(0, 4, "ORG"), (5, 7, "PER")}),
    ("上海市教育局发布通知。", {(0, 6, "ORG")}),
    ("他去了广州。", {(3, 5, "LOC")}),
    ("刘强和张伟都在南京。", {(0, 2, "PER"), (3, 5, "PER"), (7, 9, "LOC")}),
    ("今天天气很好。", set()),
    ("深圳市公安局通报了情况。", {(0, 6, "ORG")}),
    ("王芳去了北京。", {(0, 2, "PER"), (4, 6, "LOC")}),
    ("我们在杭州开会。", {(3, 5, "LOC")}),
]
# overlapping gold (the first sentence) is not how BIO works: keep the outer unit only
SENTENCES[0] = (SENTENCES[0][0], {(0, 2, "PER"), (3, 10, "ORG")})


def views(rule_spans=lambda text, gold: []):
    return [(text, gold, list(text), rule_spans(text, gold)) for text, gold in SENTENCES]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> ec.EntityCRF:
    return train_entity_crf.train(views(), 0.0, 0.01, 200, tmp_path_factory.mktemp("crf"))


def random_model(rng: random.Random, texts: list[str], density: float = 0.6, scale: float = 2.0) -> ec.EntityCRF:
    """Weights on a share of the keys these texts make (and some on none), random transitions."""
    weights = {}
    for text in texts:
        seg = bytes(rng.randrange(4) for _ in text)
        rule = bytes(rng.randrange(7) for _ in text)
        for keys in ec.features(text, seg, rule):
            for key in keys:
                if rng.random() < density:
                    weights[key] = tuple(round(rng.uniform(-scale, scale), rng.choice((1, 6))) for _ in ec.LABELS)
    weights[(ec.T_U, 0x4E2D, 0, 0)] = (0.5,) * ec.N_LABELS   # a tie across every label
    transitions = [[round(rng.uniform(-1, 1), rng.choice((0, 1, 6))) for _ in ec.LABELS] for _ in ec.LABELS]
    return ec.EntityCRF(weights, transitions)


def test_a_model_trained_on_the_sentences_tags_them_back(trained):
    for text, gold in SENTENCES:
        assert set(trained.spans(text, list(text), [])) == gold, text


def test_a_saved_model_loads_the_same(trained, tmp_path):
    path = tmp_path / "m.tsv.gz"
    trained.save(path, "a test model\nsecond line")
    again = ec.EntityCRF.load(path)
    assert again.weights == trained.weights and again.transitions == trained.transitions
    for text, _ in SENTENCES:
        assert again.spans(text, list(text), []) == trained.spans(text, list(text), [])


@needs_c
@pytest.mark.parametrize("seed", range(6))
def test_c_tags_as_the_python_twin(seed):
    rng = random.Random(seed)
    alphabet = "中国北京市张伟局院a1２。，\x02\x03 𠀀"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(40)]
    model = random_model(rng, texts[:10])
    assert model.accelerated
    for text in texts:
        seg = bytes(rng.randrange(5) for _ in text)        # 4: a code no template stored
        rule = bytes(rng.choice((0, 1, 2, 3, 4, 5, 6, 9, 200)) for _ in text)
        assert ec._speedups.crf_tag(model._table, text, seg, rule) == model.tag_py(text, seg, rule), text


@needs_c
def test_ties_go_to_the_lowest_label_in_both():
    model = ec.EntityCRF({}, [[0.0] * ec.N_LABELS for _ in ec.LABELS])
    seg, rule = b"\x00\x00\x00", b"\x00\x00\x00"
    assert model.tag_py("中国人", seg, rule) == b"\x00\x00\x00"
    assert ec._speedups.crf_tag(model._table, "中国人", seg, rule) == b"\x00\x00\x00"
    tied = ec.EntityCRF({(ec.T_BIAS, 0, 0, 0): (0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0)},
                        [[0.0] * ec.N_LABELS for _ in ec.LABELS])
    assert tied.tag_py("中", b"\x00", b"\x00") == b"\x01"
    assert ec._speedups.crf_tag(tied._table, "中", b"\x00", b"\x00") == b"\x01"


def test_weights_are_kept_as_floats_for_both_taggers():
    model = ec.EntityCRF({(ec.T_BIAS, 0, 0, 0): (0.1,) * ec.N_LABELS}, [[0.0] * ec.N_LABELS for _ in ec.LABELS])
    assert model.weights[(ec.T_BIAS, 0, 0, 0)][0] == array("f", [0.1])[0] != 0.1


def test_label_spans_read_bio():
    assert ec.label_spans(b"") == [] and ec.label_spans(b"\x00\x00") == []
    # B-PER I-PER O I-LOC I-LOC B-ORG B-ORG I-PER
    assert ec.label_spans(bytes([1, 2, 0, 4, 4, 5, 5, 2])) == [
        (0, 2, "PER"), (3, 5, "LOC"), (5, 6, "ORG"), (6, 7, "ORG"), (7, 8, "PER")]


def test_codes_of_tokens_and_rule_spans():
    assert ec.seg_codes(["中国", "人", "北京市政府"]) == bytes([1, 3, 0, 1, 2, 2, 2, 3])
    assert ec.seg_codes(["x" * 70]) == bytes([1] + [2] * 68 + [3])
    assert ec.rule_codes(6, [(0, 2, "PER"), (3, 6, "ORG")]) == bytes([1, 2, 0, 5, 6, 6])
    assert ec.rule_codes(3, [(1, 5, "LOC"), (2, 2, "PER"), (0, 1, "MISC")]) == bytes(3)   # never longer than n


def test_tokens_that_do_not_cover_the_text_leave_the_rule_spans(trained):
    rules = [(0, 2, "PER")]
    assert trained.spans("张伟在北京", ["张伟"], rules) == rules
    assert trained.spans("", [], []) == []


def test_features_pad_the_window_and_mark_the_ends():
    (only,) = ec.features("中", b"\x00", b"\x01")
    assert (ec.T_U, ec.BOS, 0, 0) in only and (ec.T_U + 4, ec.EOS, 0, 0) in only
    assert (ec.T_RP, ec.RULE_BOS, 1, 0) in only and (ec.T_RN, 1, ec.RULE_EOS, 0) in only
    assert (ec.T_CLASS, 4, 2, 5) in only
    assert all(ec.fits(key) for key in only)


@pytest.mark.parametrize("body, message", [
    ("T 0 9 1.0\n", "line 2"),
    ("F 0 0 0 0 1 2 3\n", "line 2"),
    ("F 12 99 0 0 1 1 1 1 1 1 1\n", "line 2"),       # a rule code no template takes
    ("F 1 20013 0 0 1 1 1 1 1 1 1\nF 1 20013 0 0 1 1 1 1 1 1 1\n", "line 3"),   # twice
    ("T 0 1 x\n", "line 2"),
    ("T -1 0 1.0\n", "line 2"),
    ("F 0 0 0 0 1 1 1 1 1 1 1e39\n", "line 2"),     # inf as a float
    ("T 0 1 nan\n", "line 2"),
])
def test_a_bad_model_file_names_its_line(tmp_path, body, message):
    path = tmp_path / "bad.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(ec.HEADER + "\n" + body)
    with pytest.raises(ValueError, match=message):
        ec.EntityCRF.load(path)


def test_a_model_saved_under_any_name_loads(trained, tmp_path):
    trained.save(tmp_path / "m.tsv")                 # gzip whatever the name
    assert ec.EntityCRF.load(tmp_path / "m.tsv").weights == trained.weights
    plain = tmp_path / "plain.txt"                   # and a plain-text model reads too
    plain.write_text(gzip.decompress((tmp_path / "m.tsv").read_bytes()).decode("utf-8"), encoding="utf-8")
    assert ec.EntityCRF.load(plain).transitions == trained.transitions


@pytest.mark.parametrize("name, kept", [
    ("“惠农志愿者联盟", "惠农志愿者联盟"),        # an edge quote without its partner is cut off
    ('王"', "王"),
    ("《中国珠宝首饰》杂志社", "《中国珠宝首饰》杂志社"),   # paired marks stay, as in the newswire
    ("中国长江航运（集团）总公司", "中国长江航运（集团）总公司"),
    ('香港"星光大道', None),                      # an unpaired mark inside
    ("黑竹沟】黑竹沟", None),
    ("diao(itouch", None),
    ("《》", None),                               # nothing but marks
    ("“哈哈", None),                              # one character repeated, once trimmed
    ("哈哈哈哈", None),
    ("北京,上海", None),                          # a clause break
    ("@北京", None),
])
def test_spans_the_model_adds_must_look_like_names(name, kept):
    span = ec.plausible("前" + name + "后", (1, 1 + len(name), "ORG"))
    assert (None if span is None else ("前" + name + "后")[span[0]:span[1]]) == kept


def test_a_file_that_is_no_model_says_so(tmp_path):
    path = tmp_path / "other.txt"
    path.write_text("label,text\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        ec.EntityCRF.load(path)


def test_a_key_no_template_makes_is_refused():
    with pytest.raises(ValueError, match="fits no template"):
        ec.EntityCRF({(ec.T_SEG, 9, 0, 0): (0.0,) * ec.N_LABELS}, [[0.0] * ec.N_LABELS for _ in ec.LABELS])


@needs_c
def test_the_c_functions_check_their_arguments():
    c = ec._speedups
    with pytest.raises(TypeError):
        c.crf_table(b"", b"", b"")
    with pytest.raises(ValueError, match="sizes"):
        c.crf_table(b"", b"", b"\x00" * 8, ec.N_LABELS)
    key = array("I", (ec.T_SEG, 9, 0, 0)).tobytes()
    with pytest.raises(ValueError, match="fits no template"):
        c.crf_table(key, bytes(8 * ec.N_LABELS), bytes(8 * ec.N_LABELS ** 2), ec.N_LABELS)
    for bad in (float("nan"), float("inf"), 1e39):
        with pytest.raises(ValueError, match="not a finite float"):
            c.crf_table(array("I", (ec.T_BIAS, 0, 0, 0)).tobytes(), array("d", [0.0] * 6 + [bad]).tobytes(),
                        bytes(8 * ec.N_LABELS ** 2), ec.N_LABELS)
    model = ec.EntityCRF({}, [[0.0] * ec.N_LABELS for _ in ec.LABELS])
    with pytest.raises(ValueError, match="one code per character"):
        c.crf_tag(model._table, "中国", b"\x00", b"\x00\x00")
    with pytest.raises(TypeError):
        c.crf_tag(object(), "中国", b"\x00\x00", b"\x00\x00")
    assert c.crf_tag(model._table, "", b"", b"") == b""


def test_the_shipped_model_loads_and_runs_in_analyze():
    from streams.analysis import Resources, analyze

    resources = Resources.load()
    assert resources.entity_crf.weights and resources.entity_crf.accelerated == (ec._speedups is not None)
    result = analyze("", "国务院总理李克强在北京人民大会堂会见了来访的外国客人。", resources)
    assert "北京人民大会堂" in result.entities["LOC"] + result.entities["ORG"] or "北京" in result.entities["LOC"]
    assert result.entities["PER"] == ["李克强"]
