"""jieba's accurate-mode segmentation (`Tokenizer.lcut(text, HMM=True)`), same tokens, less work.

jieba builds a DAG dict of every dictionary word starting at each character, then a route dict
of (score, end) tuples through a generator per character, calls math.log on every candidate
word's frequency, and runs its HMM (a Python Viterbi) on every run of unknown single characters.
This does the same walk in one loop without the intermediate dicts and generators, takes each
frequency's log from a small memo (log(freq) - log(total), so the scores and the tie-breaking
are exactly jieba's), and memoises the HMM's answer per unknown run: a stream meets the same
names and slang again and again. When the C extension is built (streams/_speedups.c, by `pip
install`), the walk runs there, with the same additions in the same order; without a compiler the
Python walk below is used. The HMM itself (`hmm_cut`) is jieba's finalseg Viterbi with
back-pointers instead of a copied path per state and step, and its four states unrolled: the same
additions in the same order and the same tie-breaking, so the same words. The unit tests hold it
to `Tokenizer.lcut` and `finalseg.cut` token for token.
Pure: no I/O; reads the tokenizer's dictionary, never changes it.
"""
from __future__ import annotations

from math import log

import jieba
from jieba import finalseg

try:   # the same walk and HMM in C (streams/_speedups.c), built by `pip install`; optional: else Python's
    from streams._speedups import hmm as _c_hmm, walk as _c_walk
except ImportError:   # pragma: no cover - a build without a C compiler
    _c_hmm = _c_walk = None

# the block patterns jieba's cut() uses in accurate mode (jieba.re_han_default, re_skip_default)
_HAN = jieba.re_han_default
_SKIP = jieba.re_skip_default
MAX_MEMO = 200_000
# longer runs and tokens are worked out each time, not memoised: memos are capped by entries, and
# hostile gibberish (thousands of unknown characters per post) would otherwise fill gigabytes
MAX_MEMO_CHARS = 32
# finalseg's own split of a run into Han characters and the rest (its re_han, re_skip)
_HMM_HAN = finalseg.re_han
_HMM_SKIP = finalseg.re_skip
_MIN = finalseg.MIN_FLOAT
_START = tuple(finalseg.start_P[s] for s in "BMES")
_EMIT_B, _EMIT_M, _EMIT_E, _EMIT_S = (finalseg.emit_P[s] for s in "BMES")
_T = finalseg.trans_P
# the transitions finalseg's PrevStatus allows: into B from E or S, into M from M or B, into S from
# S or E, into E from B or M (each present in trans_P, so .get(y, MIN_FLOAT) is the value itself)
_EB, _SB, _MM, _BM, _SS, _ES, _BE, _ME = (_T["E"]["B"], _T["S"]["B"], _T["M"]["M"], _T["B"]["M"],
                                          _T["S"]["S"], _T["E"]["S"], _T["B"]["E"], _T["M"]["E"])
# the C HMM's tables, in its argument order
_C_HMM_TABLES = (_EMIT_B, _EMIT_M, _EMIT_E, _EMIT_S,
                 (*_START, _EB, _SB, _MM, _BM, _SS, _ES, _BE, _ME, _MIN))


def _viterbi(obs: str) -> list[str]:
    """finalseg.viterbi(obs, "BMES", ...)[1]: the same sums ((score + transition) + emission) and
    the same winner on a tie (finalseg takes max of (score, state) tuples: the larger letter)."""
    c = obs[0]
    b = _START[0] + _EMIT_B.get(c, _MIN)
    m = _START[1] + _EMIT_M.get(c, _MIN)
    e = _START[2] + _EMIT_E.get(c, _MIN)
    s = _START[3] + _EMIT_S.get(c, _MIN)
    back: list[tuple[str, str, str, str]] = []    # per step, the previous state of B, M, E, S
    for c in obs[1:]:
        em = _EMIT_B.get(c, _MIN)
        x, y = e + _EB + em, s + _SB + em
        nb, pb = (x, "E") if x > y else (y, "S")
        em = _EMIT_M.get(c, _MIN)
        x, y = m + _MM + em, b + _BM + em
        nm, pm = (x, "M") if x >= y else (y, "B")
        em = _EMIT_S.get(c, _MIN)
        x, y = s + _SS + em, e + _ES + em
        ns, ps = (x, "S") if x >= y else (y, "E")
        em = _EMIT_E.get(c, _MIN)
        x, y = b + _BE + em, m + _ME + em
        ne, pe = (x, "B") if x > y else (y, "M")
        b, m, e, s = nb, nm, ne, ns
        back.append((pb, pm, pe, ps))
    state = "E" if e > s else "S"
    path = [state]
    for step in reversed(back):
        state = step["BMES".index(state)]
        path.append(state)
    path.reverse()
    return path


def _hmm_han(sentence: str, out: list[str]) -> None:
    """finalseg's __cut: words from the Viterbi states (B begins, E ends, S stands alone)."""
    begin = nexti = 0
    for i, pos in enumerate(_viterbi(sentence)):
        if pos == "B":
            begin = i
        elif pos == "E":
            out.append(sentence[begin:i + 1])
            nexti = i + 1
        elif pos == "S":
            out.append(sentence[i])
            nexti = i + 1
    if nexti < len(sentence):
        out.append(sentence[nexti:])


def hmm_cut(text: str, accelerated: bool = True) -> list[str]:
    """list(jieba.finalseg.cut(text)), token for token (its forced splits included); the Viterbi
    in C when the extension is built and `accelerated`, else in Python (the same words)."""
    out: list[str] = []
    force = finalseg.Force_Split_Words
    c_hmm = _c_hmm if accelerated else None
    for block in _HMM_HAN.split(text):
        if _HMM_HAN.match(block):
            words = out if not force else []
            if c_hmm is not None:
                c_hmm(block, words, *_C_HMM_TABLES)
            else:
                _hmm_han(block, words)
            if not force:
                continue
            for word in words:
                if word in force:
                    out.extend(word)
                else:
                    out.append(word)
        else:
            out.extend(x for x in _HMM_SKIP.split(block) if x)
    return out


class FastCut:
    """cut(text) == tokenizer.lcut(text, HMM=True) for a tokenizer whose dictionary no longer changes."""

    def __init__(self, tokenizer: jieba.Tokenizer, accelerated: bool = True):
        tokenizer.check_initialized()
        self.tokenizer = tokenizer
        self._total = 0
        self._log_total = 0.0
        self._logp: dict[int, float] = {}       # frequency -> log(freq) - log(total)
        self.hmm: dict[str, list[str]] = {}     # unknown run -> the HMM's words
        # the dictionary walk and the HMM in C when the extension is built: the same tokens, and
        # cut() faster (docs/benchmarks.md, "Analysis budget, session 22")
        self.accelerated = bool(accelerated and _c_walk is not None)

    def clear(self) -> None:
        """Forget the memoised HMM answers (for benchmarks that must not reuse a warm cache)."""
        self.hmm.clear()

    def cut(self, text: str) -> list[str]:
        if self.tokenizer.total != self._total:   # a word was added: every score moves
            self._total = self.tokenizer.total
            self._log_total = log(self._total)
            self._logp = {}
        out: list[str] = []
        blocks = _HAN.split(text)
        # split() with one capturing group alternates: text between matches, a match, ...
        for i, block in enumerate(blocks):
            if not block:
                continue
            if i & 1:
                if self.accelerated:
                    _c_walk(block, self.tokenizer.FREQ, self._log_total, out, self._flush)
                else:
                    self._cut_block(block, out)
            else:
                for part in _SKIP.split(block):
                    if _SKIP.match(part):
                        out.append(part)
                    else:
                        out.extend(part)
        return out

    def _cut_block(self, sentence: str, out: list[str]) -> None:
        """jieba's route through one Han block (streams/_speedups.c does the same in C)."""
        freq = self.tokenizer.FREQ
        known = freq.get
        logp = self._logp
        n = len(sentence)
        # best[i] = (score of the best route from i, end of its first word); jieba's calc()
        # takes max over (score, end) tuples, so on a tie the longer word wins: kept below
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            best, best_end = None, k
            i = k
            frag = sentence[k]
            while i < n:
                f = known(frag)          # one look-up: jieba's `frag in FREQ` then FREQ[frag]
                if f is None:
                    break
                if f:
                    lp = logp.get(f)
                    if lp is None:
                        lp = logp[f] = log(f) - log(self._total)
                    s = lp + score[i + 1]
                    if best is None or s >= best:   # >=: the later (longer) end wins a tie, as in max()
                        best, best_end = s, i
                i += 1
                frag = sentence[k:i + 1]
            if best is None:   # no dictionary word starts here: the character alone, frequency 1
                f = freq.get(sentence[k]) or 1
                lp = logp.get(f)
                if lp is None:
                    lp = logp[f] = log(f) - log(self._total)
                best = lp + score[k + 1]
            score[k], end[k] = best, best_end
        x, buf = 0, ""
        while x < n:
            y = end[x] + 1
            if y - x == 1:
                buf += sentence[x]
            else:
                if buf:
                    self._flush(buf, out)
                    buf = ""
                out.append(sentence[x:y])
            x = y
        if buf:
            self._flush(buf, out)

    def _flush(self, buf: str, out: list[str]) -> None:
        """A run of single characters: one word, or the HMM's words if the run is no dictionary word."""
        if len(buf) == 1:
            out.append(buf)
        elif not self.tokenizer.FREQ.get(buf):
            words = self.hmm.get(buf)
            if words is None and len(buf) > MAX_MEMO_CHARS:
                words = hmm_cut(buf, self.accelerated)
            elif words is None:
                if len(self.hmm) >= MAX_MEMO:
                    self.hmm.clear()
                words = self.hmm[buf] = hmm_cut(buf, self.accelerated)
            out.extend(words)
        else:
            out.extend(buf)
