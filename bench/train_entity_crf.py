"""Train the entity CRF (streams/resources/entity_crf.tsv.gz) on MSRA NER train.

    .venv/bin/python bench/train_entity_crf.py /work/shared/data/msra_ner/train.bio            # shipped
    .venv/bin/python bench/train_entity_crf.py /work/shared/data/msra_ner/train.bio --tune --split tail \\
        --out /tmp/crf_tail.tsv.gz      # tuning: leaves the split's 10 % out, as build_entity_dict.py --tune

The model reads what the entity rules said (streams.entity_crf). Rules whose dictionary has read a
sentence tag it almost perfectly, so the training sentences are tagged by rules that have not read
them: the sentences are cut into --folds contiguous blocks (whole articles, as a test split of other
articles), and each block is tagged by rules whose dictionary and parts table bench/build_entity_dict.py
learned from the other blocks. python-crfsuite fits the CRF (L-BFGS, elastic net: --c1 keeps the
model small); its weights are written in the project's own format, which streams.entity_crf reads
without crfsuite. The model file holds feature keys (code points) and weights, no sentence.
The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.build_entity_dict import learn, tokens_of  # noqa: E402
from bench.eval_entities import SPLITS, read_bio, split  # noqa: E402
from streams.analysis import default_segmenter  # noqa: E402
from streams.entities import EntityTagger, given_name_chars, read_parts  # noqa: E402
from streams.entity_crf import (ENTITY_CRF, LABELS, N_LABELS, EntityCRF, attribute, features,  # noqa: E402
                                rule_codes, seg_codes)


def rule_views(sentences: list, fit: list, workdir: Path, tag: str) -> list[tuple[str, set, list, list]]:
    """(text, gold, tokens, rule spans) of each sentence, the rules' files learned from `fit`."""
    entities, parts = workdir / f"entities_{tag}.txt", workdir / f"parts_{tag}.txt"
    learn(fit, entities, parts)
    segmenter = default_segmenter(entity_dict=entities)
    tagger = EntityTagger(segmenter.tags, read_parts(parts), given_name_chars(), segmenter.tokenizer.FREQ)
    views = []
    for text, gold in sentences:
        raw = tokens_of(segmenter, text)
        views.append((text, gold, list(raw), sorted(tagger.spans(raw))))
    return views


def jackknifed(sentences: list, folds: int, workdir: Path) -> list[tuple[str, set, list, list]]:
    views = []
    for k in range(folds):
        a, b = len(sentences) * k // folds, len(sentences) * (k + 1) // folds
        views += rule_views(sentences[a:b], sentences[:a] + sentences[b:], workdir, str(k))
    return views


def gold_labels(text: str, gold) -> list[str]:
    labels = ["O"] * len(text)
    for a, b, kind in gold:
        labels[a:b] = [f"B-{kind}"] + [f"I-{kind}"] * (b - a - 1)
    return labels


def attributes(text: str, tokens: list[str], spans: list) -> list[list[str]]:
    return [[attribute(key) for key in keys]
            for keys in features(text, seg_codes(tokens), rule_codes(len(text), spans))]


def train(views: list, c1: float, c2: float, iterations: int, workdir: Path) -> EntityCRF:
    import pycrfsuite   # training only: the stream reads the exported weights without it

    trainer = pycrfsuite.Trainer(verbose=False)
    for text, gold, tokens, spans in views:
        trainer.append(attributes(text, tokens, spans), gold_labels(text, gold))
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": iterations, "feature.possible_transitions": True})
    path = workdir / "model.crfsuite"
    trainer.train(str(path))
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    info = tagger.info()
    index = {label: i for i, label in enumerate(LABELS)}
    weights: dict[tuple, list[float]] = {}
    for (attr, label), w in info.state_features.items():
        key = tuple(int(x) for x in attr.split(":"))
        weights.setdefault(key, [0.0] * N_LABELS)[index[label]] = w
    transitions = [[0.0] * N_LABELS for _ in LABELS]
    for (a, b), w in info.transitions.items():
        transitions[index[a]][index[b]] = w
    tagger.close()
    return EntityCRF({k: tuple(v) for k, v in weights.items()}, transitions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bio", type=Path)
    parser.add_argument("--out", type=Path, default=ENTITY_CRF)
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--split", choices=SPLITS, default="random",
                        help="with --tune: which 10 %% to leave out (as build_entity_dict.py --tune)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--c1", type=float, default=0.3)
    parser.add_argument("--c2", type=float, default=0.01)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    if args.tune and args.out.resolve() == ENTITY_CRF.resolve():
        parser.error("--tune learns from 90 % of the file: give --out outside the shipped model")
    if args.folds < 2:
        parser.error("--folds: at least 2 (each block is tagged by rules learned from the others)")
    started = time.monotonic()
    sentences, _ = split(list(read_bio(args.bio)), args.tune, args.split)
    with tempfile.TemporaryDirectory(prefix="entity_crf_") as tmp:
        views = jackknifed(sentences, args.folds, Path(tmp))
        model = train(views, args.c1, args.c2, args.iterations, Path(tmp))
    comment = (f"Trained by bench/train_entity_crf.py on {args.bio.name}"
               f"{f' without its {args.split} 10 %' if args.tune else ''} (MSRA NER; no licence stated; research data):\n"
               f"{len(sentences)} sentences, rule tags jackknifed over {args.folds} blocks, python-crfsuite L-BFGS "
               f"c1={args.c1} c2={args.c2}, {args.iterations} iterations. Feature keys and weights only.")
    model.save(args.out, comment)
    print(json.dumps({"sentences": len(sentences), "attributes": len(model.weights), "out": str(args.out),
                      "bytes": args.out.stat().st_size, "seconds": round(time.monotonic() - started)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
