"""streams.segment.FastCut gives jieba's accurate-mode tokens exactly, on fixtures written for these
tests: with the dictionary walk and the HMM in C (streams/_speedups.c) and in Python."""
from __future__ import annotations

import math
import random

import jieba
import pytest

from streams import segment
from streams.analysis import Resources, analyze, forget_memos
from streams.segment import MAX_MEMO_CHARS, FastCut, hmm_cut
from streams.textnorm import post_digest

WALKS = pytest.mark.parametrize("accelerated", [True, False], ids=["c-walk", "python-walk"])

TEXTS = (
    "某县化工厂昨夜发生爆炸，造成三人死亡。北京市公安局民警王小明在河北省石家庄市调查。",
    "今天和欧阳娜娜去吃了火锅，味道一般般吧，服务员态度还行 😂😂 下次不来了",
    "iPhone15 Pro Max 售价 9999元，比去年涨了12.5%！！！  降价了吗？",
    "转发微博//@小兔子乖乖: 太离谱了吧这也 #某地暴雨# http x.cn/abc",
    "酒店位置很好，离地铁站近；但是房间隔音差，空调噪音大，早餐品种少。",
    "  前后有空格\t和制表符\r\n换行  ",
    "的的的的的的",
    "A-B_C.d&e+f#g%h",
    "",
    "。，、；：？！",
    "张三丰李四王五赵六钱七孙八在长江大桥上看风景，心情美美哒",
)


@pytest.fixture(scope="module")
def tokenizer() -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.add_word("石家庄市")
    return tok


def test_the_c_walk_is_built_and_used_by_default(tokenizer):
    # `make install` builds it; a machine without a C compiler runs the Python walk (this fails there)
    assert segment._c_walk is not None, "streams._speedups was not built: pip install -e . with a C compiler"
    assert FastCut(tokenizer).accelerated and not FastCut(tokenizer, accelerated=False).accelerated


@WALKS
def test_same_tokens_as_jieba_lcut(tokenizer, accelerated):
    cut = FastCut(tokenizer, accelerated)
    for text in TEXTS:
        assert cut.cut(text) == tokenizer.lcut(text, HMM=True), text


@WALKS
def test_same_tokens_on_shuffled_text_and_from_the_hmm_memo(tokenizer, accelerated):
    chars = list("".join(TEXTS))
    rng = random.Random(7)
    cut = FastCut(tokenizer, accelerated)
    samples = []
    for _ in range(200):
        rng.shuffle(chars)
        samples.append("".join(chars[: rng.randint(1, 80)]))
    for text in samples + samples:     # the second round answers unknown runs from the memo
        assert cut.cut(text) == tokenizer.lcut(text, HMM=True), text
    assert cut.hmm, "unknown runs were memoised"
    cut.clear()
    assert not cut.hmm


def test_long_unknown_runs_and_tokens_are_not_memoised_but_cut_the_same():
    rng = random.Random(5)
    resources = Resources.load()
    forget_memos(resources)
    # gibberish: long runs of rare characters, the HMM's work per post, and a long ASCII token
    posts = ["".join(chr(rng.randint(0x4E00, 0x9FD5)) for _ in range(300)) + " " + "x7" * 40 for _ in range(20)]
    first = [analyze("", post, resources) for post in posts]
    runs, words, facts = resources.segmenter.cutter.hmm, resources.words.memo, resources.entities._facts
    assert runs and all(len(run) <= MAX_MEMO_CHARS for run in runs)
    assert all(len(token) <= MAX_MEMO_CHARS for token in (*words, *facts))
    assert any(len(token) > MAX_MEMO_CHARS for a in first for token in a.tokens)   # the ASCII run: one token
    assert [analyze("", post, resources) for post in posts] == first
    long = "".join(chr(rng.randint(0x4E00, 0x9FD5)) for _ in range(200))
    assert FastCut(jieba.Tokenizer()).cut(long) == jieba.Tokenizer().lcut(long, HMM=True)


@WALKS
def test_hmm_cut_gives_finalseg_words_exactly(accelerated):
    from jieba import finalseg

    rng = random.Random(11)
    chars = list("".join(TEXTS))
    samples = ["".join(rng.choice(chars) for _ in range(rng.randint(1, 40))) for _ in range(500)]
    # characters the HMM has never seen score MIN_FLOAT in every state: ties, broken as finalseg does
    samples += ["".join(chr(rng.randint(0x4E00, 0x9FD5)) for _ in range(rng.randint(1, 12))) for _ in range(500)]
    samples += ["龘龘龘龘", "鿕", "a1b2汉字abc3.5%哈", "甲" * 60, ""]
    for text in samples:
        assert hmm_cut(text, accelerated) == list(finalseg.cut(text)), text


@WALKS
def test_hmm_cut_applies_finalseg_forced_splits(monkeypatch, accelerated):
    from jieba import finalseg

    text = "小兔子乖乖把门开开"
    words = hmm_cut(text, accelerated)
    assert any(len(w) > 1 for w in words)
    monkeypatch.setattr(finalseg, "Force_Split_Words", {w for w in words if len(w) > 1})
    assert hmm_cut(text, accelerated) == list(finalseg.cut(text)) == list(text)


def test_the_c_hmm_reports_bad_arguments():
    c_hmm = segment._c_hmm
    if c_hmm is None:
        pytest.fail("streams._speedups was not built")
    with pytest.raises(TypeError, match="7 arguments"):
        c_hmm("中国", [])
    with pytest.raises(TypeError, match="13 floats"):
        c_hmm("中国", [], {}, {}, {}, {}, (0.0,) * 12)
    with pytest.raises(TypeError):
        c_hmm("中国", [], {"中": "x"}, {}, {}, {}, (0.0,) * 13)
    out: list[str] = []
    c_hmm("", out, *segment._C_HMM_TABLES)
    assert out == []


@WALKS
def test_a_word_added_later_changes_the_scores_as_in_jieba(accelerated):
    tok = jieba.Tokenizer()
    cut = FastCut(tok, accelerated)
    text = "小兔子乖乖把门开开快点开开我要进来"
    assert cut.cut(text) == tok.lcut(text, HMM=True)
    tok.add_word("门开开", freq=10**7)     # total changes: every cached log probability is stale
    assert cut.cut(text) == tok.lcut(text, HMM=True)
    assert "门开开" in cut.cut(text)
    assert cut._log_total == math.log(tok.total)     # what the C walk is handed


@WALKS
def test_rare_characters_long_blocks_and_ties(tokenizer, accelerated):
    rng = random.Random(3)
    cut = FastCut(tokenizer, accelerated)
    samples = ["".join(chr(rng.randint(0x4E00, 0x9FD5)) for _ in range(rng.randint(1, 400))) for _ in range(100)]
    # astral-plane Han (a block of four-byte characters), and a block that is one long word
    samples += ["𠀀𠀁𠀂中国𠀃", "中华人民共和国" * 30, "长江大桥长江大桥", "一" * 500]
    for text in samples:
        assert cut.cut(text) == tokenizer.lcut(text, HMM=True), text


@WALKS
def test_an_exact_tie_goes_to_the_longer_word_as_in_jieba(tmp_path, accelerated):
    # total 20: log(5/20) + log(12/20) == log(3/20) exactly in doubles, so 甲乙 and 甲 + 乙 tie
    (tmp_path / "dict.txt").write_text("甲 5 n\n乙 12 n\n甲乙 3 n\n", encoding="utf-8")
    tok = jieba.Tokenizer(dictionary=str(tmp_path / "dict.txt"))
    tok.tmp_dir = str(tmp_path)
    tok.check_initialized()
    assert tok.total == 20
    cut = FastCut(tok, accelerated)
    for text in ("甲乙", "丙甲乙丁", "甲乙甲乙乙", "乙甲"):
        assert cut.cut(text) == tok.lcut(text, HMM=True), text
    assert cut.cut("甲乙") == ["甲乙"]


def test_the_c_walk_matches_the_python_walk_block_by_block(tokenizer):
    if segment._c_walk is None:
        pytest.fail("streams._speedups was not built")
    cut = FastCut(tokenizer, accelerated=False)
    cut.cut("预热")   # sets the cached total
    flushed = []

    def flush(run, out):
        flushed.append(run)
        cut._flush(run, out)

    for block in ("北京市公安局民警王小明在河北省石家庄市调查", "的的的的的的", "龘龘龘龘中国", "人"):
        ours: list[str] = []
        segment._c_walk(block, tokenizer.FREQ, cut._log_total, ours, flush)
        theirs: list[str] = []
        cut._cut_block(block, theirs)
        assert ours == theirs, block
    assert flushed, "runs of single characters are handed to flush"


class _Dictionary:
    """A tokenizer stand-in: FastCut reads only FREQ and total."""

    def __init__(self, freq: dict, total: int):
        self.FREQ, self.total = freq, total

    def check_initialized(self) -> None:
        pass


def test_the_c_walk_equals_the_python_walk_on_small_dictionaries_full_of_ties():
    if segment._c_walk is None:
        pytest.fail("streams._speedups was not built")
    rng = random.Random(17)
    alphabet = ["甲", "乙", "丙", "丁", "𠀀", "a"]
    for _ in range(300):
        freq: dict[str, int] = {}
        for _ in range(rng.randint(0, 12)):
            word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
            for j in range(1, len(word)):
                freq.setdefault(word[:j], 0)           # jieba's prefixes: present, frequency 0
            freq[word] = rng.choice([0, 1, 2, 3, 4, 5, 6, 10, 12, 15])
        total = rng.choice([7, 20, 60, 120])           # small totals: many exact ties between routes
        cut = FastCut(_Dictionary(freq, total), accelerated=False)
        cut._total, cut._log_total = total, math.log(total)
        # runs of two or more marked, not handed to the HMM; one character stays itself, as in _flush
        cut._flush = lambda run, out: out.append(run if len(run) == 1 else f"<{run}>")
        for _ in range(10):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
            ours: list[str] = []
            segment._c_walk(text, freq, cut._log_total, ours, cut._flush)
            theirs: list[str] = []
            cut._cut_block(text, theirs)
            assert ours == theirs, (text, freq, total)


def test_the_c_hmm_equals_the_python_viterbi_on_tables_full_of_ties(monkeypatch):
    if segment._c_hmm is None:
        pytest.fail("streams._speedups was not built")
    rng = random.Random(19)
    alphabet = ["x", "y", "中", "𠀀"]
    values = [0.0, -0.5, -1.0, -2.0, -3.0, -1e100, -3.14e100]
    names = ("_EB", "_SB", "_MM", "_BM", "_SS", "_ES", "_BE", "_ME")
    for _ in range(200):
        emits = [{c: rng.choice(values) for c in alphabet if rng.random() < 0.7} for _ in range(4)]
        start = tuple(rng.choice(values) for _ in range(4))
        moves = [rng.choice(values) for _ in names]
        least = rng.choice(values)
        for name, value in zip(("_EMIT_B", "_EMIT_M", "_EMIT_E", "_EMIT_S"), emits):
            monkeypatch.setattr(segment, name, value)
        for name, value in zip(names, moves):
            monkeypatch.setattr(segment, name, value)
        monkeypatch.setattr(segment, "_START", start)
        monkeypatch.setattr(segment, "_MIN", least)
        for _ in range(10):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
            ours: list[str] = []
            segment._c_hmm(text, ours, *emits, (*start, *moves, least))
            theirs: list[str] = []
            segment._hmm_han(text, theirs)
            assert ours == theirs, (text, emits, start, moves, least)


def test_the_accelerated_paths_call_c_and_the_others_do_not(tokenizer, monkeypatch):
    if segment._c_walk is None or segment._c_hmm is None:
        pytest.fail("streams._speedups was not built")
    calls = {"walk": 0, "hmm": 0}

    def spy(name, real):
        def call(*args):
            calls[name] += 1
            return real(*args)
        return call

    monkeypatch.setattr(segment, "_c_walk", spy("walk", segment._c_walk))
    monkeypatch.setattr(segment, "_c_hmm", spy("hmm", segment._c_hmm))
    text = "龘龘鿕中国人民银行"          # a run of unknown characters: the HMM's
    FastCut(tokenizer, accelerated=False).cut(text)
    hmm_cut(text, accelerated=False)
    assert calls == {"walk": 0, "hmm": 0}
    FastCut(tokenizer).cut(text)
    assert calls["walk"] == 1 and calls["hmm"] == 1
    hmm_cut(text)
    assert calls["hmm"] == 2


def test_the_c_walk_reports_bad_arguments_and_a_failing_flush():
    walk = segment._c_walk
    if walk is None:
        pytest.fail("streams._speedups was not built")
    with pytest.raises(TypeError, match="5 arguments"):
        walk("中国", {})
    with pytest.raises(TypeError, match="a str, a dict and a list"):
        walk(b"x", {}, 1.0, [], print)
    with pytest.raises(ValueError, match="not a positive number"):
        walk("中国", {"中": 1, "中国": -5}, 1.0, [], print)   # math.log raises here too
    with pytest.raises(TypeError):
        walk("中国", {"中": 1, "中国": "many"}, 1.0, [], print)

    def boom(run, out):
        raise RuntimeError("flush failed")

    with pytest.raises(RuntimeError, match="flush failed"):
        walk("龘龘", {}, 1.0, [], boom)   # two unknown characters: one run, handed to flush
    out: list[str] = []
    walk("", {}, 1.0, out, boom)
    assert out == []


def test_analyze_takes_the_callers_content_hash():
    resources = Resources.load()
    forget_memos(resources)
    own = analyze("", "酒店位置很好，离地铁站近，早餐品种少", resources)
    assert own.content_hash == post_digest("", "酒店位置很好,离地铁站近,早餐品种少")
    given = analyze("", "酒店位置很好，离地铁站近，早餐品种少", resources, content_hash="ab" * 16)
    assert given.content_hash == "ab" * 16 and given.tokens == own.tokens
