"""Build streams/resources/idf.tsv: IDF of our tokens over a corpus of `label,text` CSV posts.

    .venv/bin/python bench/build_idf.py /work/shared/data/weibo_senti_100k/train.csv

Only derived statistics are written (word and IDF, words seen in >= --min-df posts), no rows.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.analysis import RESOURCES, default_segmenter  # noqa: E402
from streams.keywords import build_idf  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--min-df", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESOURCES / "idf.tsv")
    args = parser.parse_args()
    segmenter = default_segmenter()
    with args.csv.open(encoding="utf-8", newline="") as src:
        docs = (segmenter.tokens("", row["text"]) for row in csv.DictReader(src))
        idf, n = build_idf(docs, args.min_df)
    with args.out.open("w", encoding="utf-8") as out:
        out.write(f"# IDF = ln((N+1)/(df+1)) + 1 over N={n} posts of {args.csv.name}, words with df >= {args.min_df}\n")
        for word, value in sorted(idf.items(), key=lambda kv: (kv[1], kv[0])):
            out.write(f"{word}\t{value:.4f}\n")
    print(f"{len(idf)} words, N={n} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
