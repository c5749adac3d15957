"""jieba's accurate-mode segmentation (`Tokenizer.lcut(text, HMM=True)`), same tokens, less work.

jieba builds a DAG dict of every dictionary word starting at each character, then a route dict
of (score, end) tuples through a generator per character, calls math.log on every candidate
word's frequency, and runs its HMM (a Python Viterbi) on every run of unknown single characters.
This does the same walk in one loop without the intermediate dicts and generators, takes each
frequency's log from a small memo (log(freq) - log(total), so the scores and the tie-breaking
are exactly jieba's), and memoises the HMM's answer per unknown run: a stream meets the same
names and slang again and again. The unit tests hold it to `Tokenizer.lcut` token for token.
Pure: no I/O; reads the tokenizer's dictionary, never changes it.
"""
from __future__ import annotations

from math import log

import jieba
from jieba import finalseg

# the block patterns jieba's cut() uses in accurate mode (jieba.re_han_default, re_skip_default)
_HAN = jieba.re_han_default
_SKIP = jieba.re_skip_default
MAX_MEMO = 200_000


class FastCut:
    """cut(text) == tokenizer.lcut(text, HMM=True) for a tokenizer whose dictionary no longer changes."""

    def __init__(self, tokenizer: jieba.Tokenizer):
        tokenizer.check_initialized()
        self.tokenizer = tokenizer
        self._total = 0
        self._logp: dict[int, float] = {}       # frequency -> log(freq) - log(total)
        self.hmm: dict[str, list[str]] = {}     # unknown run -> the HMM's words

    def clear(self) -> None:
        """Forget the memoised HMM answers (for benchmarks that must not reuse a warm cache)."""
        self.hmm.clear()

    def cut(self, text: str) -> list[str]:
        if self.tokenizer.total != self._total:   # a word was added: every score moves
            self._total = self.tokenizer.total
            self._logp = {}
        out: list[str] = []
        blocks = _HAN.split(text)
        # split() with one capturing group alternates: text between matches, a match, ...
        for i, block in enumerate(blocks):
            if not block:
                continue
            if i & 1:
                self._cut_block(block, out)
            else:
                for part in _SKIP.split(block):
                    if _SKIP.match(part):
                        out.append(part)
                    else:
                        out.extend(part)
        return out

    def _cut_block(self, sentence: str, out: list[str]) -> None:
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
            if words is None:
                if len(self.hmm) >= MAX_MEMO:
                    self.hmm.clear()
                words = self.hmm[buf] = list(finalseg.cut(buf))
            out.extend(words)
        else:
            out.extend(buf)
