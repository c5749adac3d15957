"""Confident-learning label cleaning (streams.sentiment_clean): folds, out-of-fold scores, contradicted posts."""
from __future__ import annotations

import pytest

from streams import sentiment
from streams.sentiment_clean import contradicted, folds, out_of_fold

# invented posts: opinion words the model must learn, plus shared neutral words
POSITIVE = ["服务 很 好 满意", "处理 及时 点赞 满意", "环境 干净 舒服 好", "工作人员 热情 耐心 点赞"] * 5
NEGATIVE = ["服务 太 差 投诉", "处理 拖延 推诿 愤怒", "环境 脏乱 恶臭 差", "工作人员 态度 恶劣 投诉"] * 5


def test_folds_deal_every_index_once_and_follow_the_seed():
    parts = folds(11, 3, seed=1)
    assert len(parts) == 3 and sorted(i for part in parts for i in part) == list(range(11))
    assert [len(part) for part in parts] == [4, 4, 3] and all(part == sorted(part) for part in parts)
    assert folds(11, 3, seed=1) == parts and folds(11, 3, seed=2) != parts
    for k, n in ((1, 10), (3, 2)):
        with pytest.raises(ValueError, match="k >= 2"):
            folds(n, k)


def test_out_of_fold_scores_each_post_with_a_model_that_did_not_see_it():
    trained = []

    def fit(train):
        trained.append(set(train))
        return lambda i: 1.0 if i in train else i / 100   # a leak would score 1.0

    probs = out_of_fold(10, fit, k=2, seed=3)
    assert probs == [i / 100 for i in range(10)]
    assert len(trained) == 2 and trained[0].isdisjoint(trained[1]) and trained[0] | trained[1] == set(range(10))


def test_contradicted_takes_the_probability_of_each_posts_own_label():
    labels = [1, 1, 0, 0, 1]
    probs = [0.05, 0.3, 0.95, 0.5, 0.19]
    assert contradicted(labels, probs, 0.2) == [0, 2, 4]
    assert contradicted(labels, probs, 0.1) == [0, 2]
    assert contradicted(labels, probs, 0.2, eligible=[False, True, True, True, False]) == [2]
    with pytest.raises(ValueError, match="threshold"):
        contradicted(labels, probs, 0.5)
    with pytest.raises(ValueError, match="5 labels, 4 probabilities"):
        contradicted(labels, probs[:4], 0.2)
    with pytest.raises(ValueError, match="eligibility"):
        contradicted(labels, probs, 0.2, eligible=[True])


def test_cross_fitting_the_logistic_trainer_finds_the_flipped_labels_only():
    docs = [(1, p.split()) for p in POSITIVE] + [(0, n.split()) for n in NEGATIVE]
    flipped = [(0, "环境 干净 舒服 好".split()), (1, "服务 太 差 投诉".split())]
    docs += flipped

    def fit(train):
        model = sentiment.train_logistic([docs[i] for i in train], epochs=20, rate=0.2, min_count=1)
        return lambda i: model.score(docs[i][1])

    probs = out_of_fold(len(docs), fit, k=2, seed=0)
    assert contradicted([label for label, _ in docs], probs, 0.2) == [len(docs) - 2, len(docs) - 1]


def test_cli_clean_drops_the_contradicted_posts_of_the_named_files_only(tmp_path, capsys):
    from shaobing.cli import main

    def write(name, rows):
        path = tmp_path / name
        path.write_text("label,text\n" + "".join(f"{label},{text.replace(' ', '')}\n" for label, text in rows),
                        encoding="utf-8")
        return str(path)

    right = [(1, p) for p in POSITIVE] + [(0, n) for n in NEGATIVE]
    first = write("a.csv", right + [(0, "环境 干净 舒服 好")])     # the last row of each file is mislabelled
    second = write("b.csv", right + [(1, "服务 太 差 投诉")])
    model = tmp_path / "model.tsv.gz"
    files = [first, second, "--out", str(model), "--min-count", "1"]
    assert main(["sentiment", "train", *files, "--trainer", "naive_bayes", "--clean", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "dropped 1 of 41 posts of a.csv" in out and "dropped 1 of 41 posts of b.csv" in out
    assert "trained on 80 posts" in out
    assert sentiment.SentimentModel.load(model).meta["clean"] == {
        "threshold": 0.2, "folds": 2, "seed": 42, "files": ["a.csv", "b.csv"], "dropped": 2}
    assert main(["sentiment", "train", *files, "--trainer", "naive_bayes", "--clean", "0.2", "--clean-only", "b.csv"]) == 0
    assert "dropped 0 of 41 posts of a.csv" in capsys.readouterr().out
    assert sentiment.SentimentModel.load(model).meta["clean"]["dropped"] == 1
    capsys.readouterr()
    assert main(["sentiment", "train", *files, "--domain-per-file", "--styled", "a.csv", "--clean", "0.2"]) == 0
    meta = sentiment.SentimentModel.load(model).meta   # the logistic recipe, its domains cut with the posts
    assert meta["clean"]["dropped"] >= 1 and sum(meta["domains"].values()) == 82 - meta["clean"]["dropped"]
    assert main(["sentiment", "train", *files, "--trainer", "naive_bayes"]) == 0
    assert "clean" not in sentiment.SentimentModel.load(model).meta
    for bad, says in ((["--clean", "0.5"], "--clean 0.5"), (["--clean-only", "a.csv"], "--clean-only"),
                      (["--clean", "0.2", "--clean-only", "c.csv"], "--clean-only")):
        assert main(["sentiment", "train", *files, *bad]) == 2
        assert says in capsys.readouterr().err


def test_cli_clean_names_itself_when_the_data_is_too_small_or_lopsided_to_cross_fit(tmp_path, capsys):
    from shaobing.cli import main

    def write(name, rows):
        path = tmp_path / name
        path.write_text("label,text\n" + "".join(f"{label},{text}\n" for label, text in rows), encoding="utf-8")
        return str(path)

    model = str(tmp_path / "model.tsv.gz")
    rare = write("rare.csv", [(1, p.replace(" ", "")) for p in POSITIVE] + [(0, "服务太差投诉")])
    one = write("one.csv", [(1, "服务很好满意")])
    assert main(["sentiment", "train", rare, "--out", model]) == 0          # trains without --clean
    for files in ([rare], [one]):
        assert main(["sentiment", "train", *files, "--out", model, "--clean", "0.2"]) == 2
        err = capsys.readouterr().err
        assert "--clean 0.2" in err and "rare.csv:" not in err                # not blamed on the file
    # cleaning that would drop every post of a label stops with a reason instead of a bare trainer error
    flipped = write("flipped.csv", [(1, p.replace(" ", "")) for p in POSITIVE * 2]
                    + [(0, p.replace(" ", "")) for p in POSITIVE[:3] * 2])
    assert main(["sentiment", "train", flipped, "--out", model, "--trainer", "naive_bayes", "--clean", "0.4"]) == 2
    assert "dropped every negative post" in capsys.readouterr().err


def test_cli_min_count_reaches_the_logistic_trainer_too(tmp_path):
    from shaobing.cli import main

    path = tmp_path / "once.csv"   # every word but 满意 / 投诉 occurs in one post only
    path.write_text("label,text\n1,服务很好满意\n1,环境干净满意\n0,态度恶劣投诉\n0,处理拖延投诉\n", encoding="utf-8")
    sizes = {}
    for least in ("1", "2"):
        model = tmp_path / f"m{least}.tsv.gz"
        assert main(["sentiment", "train", str(path), "--out", str(model), "--min-count", least]) == 0
        sizes[least] = len(sentiment.SentimentModel.load(model).weights)
    assert sizes["1"] > sizes["2"] > 0
