"""`shaobing sentiment train|eval FILE.csv`: retrain or measure the sentiment model on labelled posts.

FILE.csv has a header naming a `label` column (1 positive, 0 negative; or pos/neg) and a text
column (`text`, or `review`, `content`, ...: see read_labelled); other columns are ignored. Reads no settings.
"""
from __future__ import annotations

import contextlib
import csv
import json
import sys
from pathlib import Path

from streams.sentiment_clean import FOLDS, SEED, check_threshold, contradicted, out_of_fold

TRAINERS = ("naive_bayes", "logistic")


class LabelledFileError(ValueError):
    """A labelled CSV that cannot be used; the message names the file and line."""


TEXT_COLUMNS = ("text", "review", "content", "sentence", "comment", "评论", "内容", "文本")
LABELS = {"1": 1, "1.0": 1, "pos": 1, "positive": 1, "正面": 1,
          "0": 0, "0.0": 0, "neg": 0, "negative": 0, "负面": 0}


MAX_FIELD_CHARS = 16 * 1024 * 1024


def read_labelled(path: Path) -> list[tuple[int, str]]:
    """(label, text) rows of a labelled CSV: a `label` column and a text column (`text`, `review`,
    `content`, `sentence`, `comment`, 评论, 内容 or 文本), in any order, other columns ignored; label
    1 / pos / positive / 正面 or 0 / neg / negative / 负面. Any malformed row is an error naming its line."""
    try:
        src = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise LabelledFileError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    rows = []
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))   # a long review is a review
    with src:
        reader = csv.reader(src)
        try:
            label_at, text_at, width = _columns(path, next(reader, None))
            while True:
                line = reader.line_num + 1             # where the record starts (quoted text may span lines)
                record = next(reader, None)
                if record is None:
                    break
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue   # a blank or whitespace-only line
                if len(record) != width:
                    raise LabelledFileError(f"{path}, line {line}: expected {width} fields like the header, got {len(record)}")
                label = record[label_at].strip()
                if label.lower() not in LABELS:
                    raise LabelledFileError(f"{path}, line {line}: label must be 0 or 1 (or pos/neg), got {label[:20]!r}")
                swallowed = _swallowed_rows(record[text_at], width, label_at) if reader.line_num > line else []
                if len(swallowed) >= SWALLOWED_ROWS:
                    raise LabelledFileError(f"{path}, line {line}: the quoted text opened here runs to line "
                                            f"{reader.line_num} and holds {len(swallowed)} lines that read as rows "
                                            f"of their own (from line {line + swallowed[0]}): an unclosed quote? "
                                            "Close it or double it (\"\")")
                rows.append((LABELS[label.lower()], record[text_at]))
        except UnicodeDecodeError as exc:
            # decoding runs ahead of the reader by a block, so the line is not known
            where = f" (somewhere after line {reader.line_num})" if reader.line_num else ""
            source = "UTF-16" if exc.object[:2] in (b"\xff\xfe", b"\xfe\xff") else "GBK"
            raise LabelledFileError(f"{path}: not UTF-8{where}; save it as UTF-8, "
                                    f"e.g. iconv -f {source} -t UTF-8") from exc
        except csv.Error as exc:
            raise LabelledFileError(f"{path}, line {reader.line_num}: {exc}") from exc
    if not rows:
        raise LabelledFileError(f"{path}: no labelled rows")
    return rows


# an unclosed quote swallows the rows after it; a real review spanning lines may hold one or two
# lines that happen to read as rows ("1,物流快", "正面,背面都有"), hardly three
SWALLOWED_ROWS = 3


def _swallowed_rows(text: str, width: int, label_at: int) -> list[int]:
    """The lines (counted from the field's start) of a multi-line text field that read as whole rows
    of the file, each with a valid label: what an unclosed quote swallows."""
    found = []
    for offset, line in enumerate(text.split("\n")[1:], start=1):
        fields = next(csv.reader([line]), [])
        if len(fields) == width and fields[label_at].strip().lower() in LABELS:
            found.append(offset)
    return found


def _columns(path: Path, header: list[str] | None) -> tuple[int, int, int]:
    """(label column, text column, number of columns) from the header line."""
    names = [h.strip().lower() for h in header or []]
    texts = [i for i, n in enumerate(names) if n in TEXT_COLUMNS]
    if "label" not in names or len(texts) != 1 or names.count("label") != 1:
        raise LabelledFileError(f"{path}, line 1: header must name one `label` column and one text column "
                                f"({', '.join(TEXT_COLUMNS)}), got {header!r}")
    return names.index("label"), texts[0], len(names)


def _segmenter(settings):
    """The stream's segmenter: its dictionaries and the watch list the worker loads
    (SHAOBING_WATCHLIST_FILE; watch terms are kept whole as words), so tokens agree with analyze().
    None, with the error printed, when that watch list cannot be read."""
    from streams.analysis import default_segmenter
    from streams.watchlist import WatchlistError

    try:
        return default_segmenter(watchlist_path=settings.watchlist_file)
    except WatchlistError as exc:
        print(f"错误 / error: SHAOBING_WATCHLIST_FILE {exc}", file=sys.stderr)
        return None


def _default_model() -> Path:
    from streams.analysis import RESOURCES

    return RESOURCES / "sentiment.tsv.gz"


def _train(args, settings) -> int:
    from streams import sentiment

    try:
        args.out = args.out or _default_model()
        if args.out.is_dir():     # checked before minutes of training, not after
            raise LabelledFileError(f"--out {args.out}: is a directory; name the model file, e.g. {args.out / 'sentiment.tsv.gz'}")
        per_file = [read_labelled(path) for path in args.file]
        fold = _fold(args.fold, args.file)
        plain = _fold(args.plain, args.file, option="--plain")
        plain_nb = _fold(args.plain_nb, args.file, option="--plain-nb")
        if (args.plain or args.plain_nb) and not args.styled:
            raise LabelledFileError("--plain and --plain-nb need --styled (they add weights for posts not in that style)")
        if (args.fold or args.styled or args.domain_per_file or args.stability) and not (args.domain_per_file and args.trainer == "logistic"):
            raise LabelledFileError("--fold needs --domain-per-file (so do --styled and --stability), and --domain-per-file "
                                    "the logistic trainer")
        if args.styled and (args.styled not in {path.name for path in args.file} or args.styled in fold):
            raise LabelledFileError(f"--styled {args.styled!r}: expected the name of a training file that is not folded")
        if args.clean is not None:
            try:
                check_threshold(args.clean)      # before the segmentation and the cross-fitting
            except ValueError as exc:
                raise LabelledFileError(f"--clean {args.clean}: {exc}") from None
        if set(args.clean_only) - {path.name for path in args.file} or (args.clean_only and args.clean is None):
            raise LabelledFileError(f"--clean-only {args.clean_only}: expected --clean and names of training files, "
                                    f"one of {sorted(path.name for path in args.file)}")
    except LabelledFileError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    rows = [row for rows in per_file for row in rows]
    files = [path.name for path, rows in zip(args.file, per_file) for _ in rows]
    domains = files if args.domain_per_file else None   # --domain-per-file: each file is a domain, named by its file name
    segmenter = _segmenter(settings)
    if segmenter is None:
        return 2
    docs = [(label, segmenter.segment("", text)[1]) for label, text in rows]   # punctuation ends negation
    sources = ", ".join(path.name for path in args.file)

    def fit(subset: list[int]):
        part = [docs[i] for i in subset]
        if args.trainer == "naive_bayes":
            return sentiment.train_naive_bayes(part, alpha=args.alpha, min_count=args.min_count,
                                               negation_scope=args.negation_scope, bigrams=args.bigrams)
        return sentiment.train_logistic(part, lexicon=lexicon, negation_scope=args.negation_scope,
                                        min_count=args.min_count,
                                        domains=None if domains is None else [domains[i] for i in subset], fold=fold,
                                        styled=args.styled, bigrams=args.bigrams, plain=plain, plain_nb=plain_nb,
                                        stability=args.stability, **({} if args.nb is None else {"nb": args.nb}))

    kept = list(range(len(docs)))
    try:
        lexicon = sentiment.read_lexicon(args.lexicon) if args.lexicon and args.trainer == "logistic" else None
        if args.clean is not None:
            kept = _clean(args, rows, docs, files, fit)
        model = fit(kept)
    except (sentiment.SentimentModelError, LabelledFileError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"错误 / error: {sources}: {exc}", file=sys.stderr)
        return 2
    if args.clean is not None:
        model.meta["clean"] = {"threshold": args.clean, "folds": FOLDS, "seed": SEED,
                               "files": sorted(set(args.clean_only) or {path.name for path in args.file}),
                               "dropped": len(docs) - len(kept)}
    model.meta["source"] = sources
    partial = args.out.with_name(args.out.name + ".partial")
    try:   # written aside, then renamed: a failed write never leaves half a model (the shipped one included)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        model.save(partial)
        partial.replace(args.out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        print(f"错误 / error: {args.out}: cannot write the model: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"已训练 {len(kept)} 条，词表 {len(model.weights)} / trained on {len(kept)} posts, "
          f"{len(model.weights)} features -> {args.out}")
    return 0


def _clean(args, rows, docs, files, fit) -> list[int]:
    """--clean T: the posts kept after dropping those their cross-fitted model confidently contradicts."""
    from streams import sentiment
    from streams.textnorm import normalise

    styled = [sentiment.weibo_style(normalise(text)) for _, text in rows]   # scored as analyze() would

    def fit_scorer(subset):
        try:
            model = fit(subset)
        except ValueError as exc:   # a fold without one label, or without a --styled/--fold file's posts
            raise LabelledFileError(f"--clean {args.clean}: a cross-fitting fold ({len(subset)} of {len(docs)} posts) "
                                    f"cannot be trained: {exc}; --clean needs more posts of each label and file") from None
        return lambda i: model.score(docs[i][1], styled[i])

    eligible = [name in args.clean_only for name in files] if args.clean_only else None
    try:
        probs = out_of_fold(len(docs), fit_scorer)
    except LabelledFileError:
        raise
    except ValueError as exc:       # fewer posts than folds
        raise LabelledFileError(f"--clean {args.clean}: {exc}") from None
    labels = [label for label, _ in docs]
    dropped = set(contradicted(labels, probs, args.clean, eligible))
    kept = [i for i in range(len(docs)) if i not in dropped]
    for name in sorted(set(files)):
        gone = sum(1 for i in dropped if files[i] == name)
        print(f"清洗 {name}：去掉 {gone} 条 / --clean dropped {gone} of {files.count(name)} posts of {name}")
        if gone == files.count(name):
            raise LabelledFileError(f"--clean {args.clean} dropped every post of {name}: use a lower T or --clean-only")
    for label, kind in ((1, "positive"), (0, "negative")):
        if not any(labels[i] == label for i in kept):
            raise LabelledFileError(f"--clean {args.clean} dropped every {kind} post: use a lower T or --clean-only")
    return kept


def _fold(specs: list[str], files: list[Path], option: str = "--fold") -> dict[str, float]:
    """--fold (or --plain) NAME=FACTOR options as {file name: factor}; NAME must be one of the training files' names."""
    names = {path.name for path in files}
    fold = {}
    for spec in specs:
        name, sep, factor = spec.rpartition("=")
        try:
            value = float(factor)
        except ValueError:
            sep = ""
        if not sep or name not in names:
            raise LabelledFileError(f"{option} {spec!r}: expected FILE_NAME=FACTOR with one of {sorted(names)}")
        fold[name] = value
    return fold


def _eval(args, settings) -> int:
    from streams import sentiment

    try:
        rows = read_labelled(args.file)
        args.model = args.model or _default_model()
        model = sentiment.SentimentModel.load(args.model)
    except (LabelledFileError, sentiment.SentimentModelError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    segmenter = _segmenter(settings)
    if segmenter is None:
        return 2
    from streams.textnorm import normalise

    # a model with styled weights adds them for Weibo-style posts, as analyze() does
    scores = [model.score(segmenter.segment("", text)[1], sentiment.weibo_style(normalise(text))) for _, text in rows]
    report = sentiment.evaluate([label for label, _ in rows], scores)
    watch = f"; watch list {settings.watchlist_file}" if settings.watchlist_file else ""
    print(f"准确率 / accuracy {report['accuracy']:.4f} on {report['n']} posts ({args.model}{watch})")
    print(json.dumps(report, ensure_ascii=False, sort_keys=True))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("sentiment", help="情感模型：训练与评估 / train and evaluate the sentiment model")
    actions = parser.add_subparsers(dest="action", required=True)
    train = actions.add_parser("train", help="在带标签的 CSV（label 列 + 文本列）上训练 / train on a labelled CSV (a label column and a text column)")
    train.add_argument("file", type=Path, nargs="+", metavar="FILE.csv", help="one or more labelled CSVs (label + text/review/content ... columns)")
    train.add_argument("--out", type=Path, default=None, metavar="MODEL", help="default: the shipped model")
    train.add_argument("--trainer", choices=TRAINERS, default="logistic",
                       help="logistic (default; measured best across domains, docs/quality.md) or naive_bayes")
    train.add_argument("--lexicon", type=Path, default=None, metavar="FILE",
                       help="word<TAB>1|0 polarity words tied per polarity (logistic; default none: measured "
                            "worse across domains, docs/quality.md)")
    train.add_argument("--negation-scope", type=int, default=3, metavar="N",
                       help="words after a negator (不, 没有...) that become negated features; 0: none")
    train.add_argument("--domain-per-file", action="store_true",
                       help="each FILE is a domain: keep the weights shared across them (logistic; docs/quality.md)")
    train.add_argument("--fold", action="append", default=[], metavar="FILE_NAME=FACTOR",
                       help="with --domain-per-file: add FACTOR x that file's own weights to the shared ones")
    train.add_argument("--styled", default=None, metavar="FILE_NAME",
                       help="with --domain-per-file: keep that file's own weights for posts in Weibo style "
                            "(emoticon codes, @handles, #topics#); other text scores with the shared weights")
    train.add_argument("--plain", action="append", default=[], metavar="FILE_NAME=FACTOR",
                       help="with --styled: add FACTOR x that file's own weights for posts NOT in Weibo style "
                            "(docs/quality.md, session 7)")
    train.add_argument("--stability", action="store_true",
                       help="with --domain-per-file: a feature whose lean flips between the files, or that one file "
                            "alone has, learns its shared weight slower (docs/quality.md, session 8)")
    train.add_argument("--plain-nb", action="append", default=[], metavar="FILE_NAME=FACTOR",
                       help="with --styled: add FACTOR x the naive Bayes weights of that file alone for posts NOT in "
                            "Weibo style (docs/quality.md, session 8)")
    train.add_argument("--nb", type=float, default=None, metavar="FACTOR",
                       help="logistic: add FACTOR x the naive Bayes weights of the same posts (default: "
                            "streams.sentiment.NB_WEIGHT, measured best on domains absent from training, "
                            "docs/quality.md); 0: none")
    train.add_argument("--bigrams", action="store_true",
                       help="also two adjacent words of a clause as one feature (docs/quality.md, session 7)")
    train.add_argument("--clean", type=float, default=None, metavar="T",
                       help="drop the training posts whose probability of their own label is below T when scored by "
                            f"a model trained without them ({FOLDS} seeded folds, the same recipe), then retrain "
                            "(confident learning; default off: no better on domains absent from training, "
                            "docs/quality.md, session 10)")
    train.add_argument("--clean-only", action="append", default=[], metavar="FILE_NAME",
                       help="with --clean: only that file's posts can be dropped (default: every file's)")
    train.add_argument("--alpha", type=float, default=1.0, help="naive Bayes smoothing")
    train.add_argument("--min-count", type=int, default=2, help="drop tokens seen in fewer posts")
    train.set_defaults(func=_train)
    evaluate = actions.add_parser("eval", help="在带标签的 CSV 上评估 / evaluate on a labelled CSV (a label column and a text column)")
    evaluate.add_argument("file", type=Path, metavar="FILE.csv")
    evaluate.add_argument("--model", type=Path, default=None, metavar="MODEL", help="default: the shipped model")
    evaluate.set_defaults(func=_eval)
