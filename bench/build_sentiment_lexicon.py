"""Build a polarity lexicon (word<TAB>1|0) from the Chinese polarity lexicons cntext ships.

    .venv/bin/pip download cntext==2.2.1 --no-deps -d /tmp/cntext && unzip -q /tmp/cntext/*.whl -d /tmp/cntext
    .venv/bin/python bench/build_sentiment_lexicon.py /tmp/cntext/cntext/io/data --out /tmp/sentiment_lexicon.txt

For `shaobing sentiment train --lexicon FILE` and bench/sentiment_transfer.py --lexicon FILE. Not
shipped: tied lexicon features made cross-domain accuracy worse (docs/quality.md).

cntext (MIT, PyPI) bundles three general-purpose polarity word lists as YAML: HowNet's
sentiment vocabulary (知网情感分析用词语集, pos / neg), NTUSD (台湾大学简体中文情感词典,
positive / negative) and the Tsinghua praise/derogatory dictionary (李军中文褒贬义词典,
praise / degrade). A word's polarity is the majority of the lists that have it; ties are
dropped. Only words the stream's segmenter keeps as one token are written (others can never
match a token). Output: `word<TAB>1` (positive) or `word<TAB>0` (negative), sorted.
The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.analysis import default_segmenter  # noqa: E402
from streams.textnorm import normalise  # noqa: E402

SOURCES = {   # file -> (positive category, negative category)
    "zh_common_HowNet.yaml": ("pos", "neg"),
    "zh_common_NTUSD.yaml": ("positive", "negative"),
    "zh_common_TsinghuaPraiseDegrade.yaml": ("praise", "degrade"),
}
HEADER = ("# Polarity words (1 positive, 0 negative): majority of HowNet, NTUSD and the Tsinghua\n"
          "# praise/derogatory lists as shipped by cntext 2.2.1 (MIT); built by bench/build_sentiment_lexicon.py\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="cntext's io/data folder")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    votes: dict[str, Counter] = {}
    for name, (pos, neg) in SOURCES.items():
        data = yaml.safe_load((args.folder / name).read_text(encoding="utf-8"))["Dictionary"]
        for label, category in ((1, pos), (0, neg)):
            for word in data[category]:
                word = normalise(str(word)).lower()
                if word and " " not in word:
                    votes.setdefault(word, Counter())[label] += 1
    tokenizer = default_segmenter().tokenizer
    kept, ties, split = {}, 0, 0
    for word, count in votes.items():
        if count[0] == count[1]:
            ties += 1
        elif tokenizer.lcut(word, HMM=True) != [word]:
            split += 1
        else:
            kept[word] = int(count[1] > count[0])
    args.out.write_text(HEADER + "".join(f"{w}\t{label}\n" for w, label in sorted(kept.items())), encoding="utf-8")
    print(json.dumps({"words": len(kept), "positive": sum(kept.values()), "ties_dropped": ties,
                      "not_one_token": split, "out": str(args.out)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
