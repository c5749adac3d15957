"""Sentiment: the linear models, the model file, evaluation, and `shaobing sentiment train|eval`."""
from __future__ import annotations

import gzip
import json

import pytest

from shaobing.commands.sentiment import LabelledFileError, read_labelled
from streams import sentiment
from streams.sentiment import SentimentModel, SentimentModelError, label_of
from streams.sentiment_stability import FLOOR, stability_rates

# invented posts: opinion words the models must learn, plus shared neutral words
POSITIVE = ["服务 很 好 满意", "处理 及时 点赞 满意", "环境 干净 舒服 好", "工作人员 热情 耐心 点赞"] * 5
NEGATIVE = ["服务 太 差 投诉", "处理 拖延 推诿 愤怒", "环境 脏乱 恶臭 差", "工作人员 态度 恶劣 投诉"] * 5
DOCS = [(1, p.split()) for p in POSITIVE] + [(0, n.split()) for n in NEGATIVE]


@pytest.mark.parametrize("train", [sentiment.train_naive_bayes, sentiment.train_logistic])
def test_linear_models_learn_opinion_words(train):
    model = train(DOCS)
    assert model.score(["满意", "点赞"]) > 0.6
    assert model.score(["投诉", "恶劣"]) < 0.4
    assert model.score([]) == 0.5 and model.score(["没见过的词"]) == 0.5
    assert model.weights["满意"] > 0 > model.weights["投诉"]


def test_negation_scope_flips_the_next_words_of_its_clause_only():
    tokens = ["服务", "不", "太", "热情", "周到", "，", "环境", "没有", "问题", " ", "好"]
    assert sentiment.features(tokens) == ["服务", "不", "¬太", "¬热情", "¬周到", "环境", "没有", "¬问题", "好"]
    assert sentiment.features(["不", "不", "好"]) == ["不", "不", "¬好"]    # a negator opens a fresh scope
    assert sentiment.features(["没什么", "问题"]) == ["没什么", "¬问题"]      # jieba keeps 没什么 whole


def test_cues_mark_the_words_after_a_contrast_and_after_a_degree_adverb():
    tokens = ["房间", "很", "大", "，", "但是", "有点", "不", "干净", "。", "服务", "好"]
    assert sentiment.features(tokens) == ["房间", "很", "大", "但是", "有点", "不", "¬干净", "服务", "好"]
    assert sentiment.features(tokens, cues=True) == [
        "房间", "很", "大", "↑大", "但是", "›但是", "有点", "›有点", "不", "›不", "↓不", "¬干净", "›¬干净", "↓¬干净",
        "服务", "›服务", "好", "›好"]          # a degree adverb marks 2 words of its clause; a contrast, the rest
    assert not sentiment.CONTRAST & sentiment.DEGREE.keys()   # analyze() keeps one cue per word


def test_bigrams_join_adjacent_words_of_one_clause():
    tokens = ["服务", "不", "太", "热情", "，", "环境", "好", " ", "Wifi"]
    assert sentiment.features(tokens, bigrams=True) == [
        "服务", "服务 不", "不", "不 太", "¬太", "太 热情", "¬热情", "环境", "环境 好", "好", "wifi"]
    model = sentiment.train_logistic(DOCS, bigrams=True)
    assert model.bigrams and not sentiment.train_logistic(DOCS).bigrams
    assert any(" " in f for f in model.weights)
    assert sentiment.train_naive_bayes(DOCS, bigrams=True).bigrams


def test_a_model_records_its_cues_and_models_without_them_score_as_before():
    with_cues, without = sentiment.train_logistic(DOCS), sentiment.train_logistic(DOCS, cues=False)
    assert with_cues.cues and not without.cues
    assert not any(f[0] in sentiment.CUE_MARKS for f in without.weights)
    assert without.score(["服务", "很", "好"]) == SentimentModel(without.bias, without.weights).score(["服务", "很", "好"])
    assert any(f.startswith("↑") for f in with_cues.weights)


def test_domains_keep_what_holds_across_them_and_fold_only_the_named_domains_own_weights():
    # 声音 is positive in music reviews and negative in laptop reviews; 满意 / 投诉 hold in both
    music = [(1, "满意 声音".split()), (0, "投诉 安静".split())] * 20
    laptop = [(1, "满意 安静".split()), (0, "投诉 声音".split())] * 20
    domains = ["music"] * len(music) + ["laptop"] * len(laptop)
    shared = sentiment.train_logistic(music + laptop, domains=domains, cues=False, nb=0.0)
    assert abs(shared.weights.get("声音", 0.0)) < 0.2 * shared.weights["满意"]
    assert shared.meta["domains"] == {"laptop": 40, "music": 40} and shared.meta["fold"] == {}
    assert not any("\t" in f for f in shared.weights)
    for_music = sentiment.train_logistic(music + laptop, domains=domains, fold={"music": 1.0}, cues=False, nb=0.0)
    assert for_music.weights["声音"] > 0.25 * for_music.weights["满意"] > 0
    assert for_music.weights["满意"] > shared.weights["满意"]
    with pytest.raises(ValueError, match="1 domain names for 80 posts"):
        sentiment.train_logistic(music + laptop, domains=["music"])
    with pytest.raises(ValueError, match="weibo"):
        sentiment.train_logistic(music + laptop, domains=domains, fold={"weibo": 1.0})



def test_styled_weights_apply_to_weibo_style_posts_only(tmp_path):
    # 给力 is positive on Weibo and sarcastic (negative) in the reviews; 满意 / 投诉 hold in both
    weibo = [(1, "满意 给力".split()), (0, "投诉 无语".split())] * 20
    reviews = [(1, "满意 实惠".split()), (0, "投诉 给力".split())] * 20
    domains = ["weibo"] * len(weibo) + ["reviews"] * len(reviews)
    model = sentiment.train_logistic(weibo + reviews, domains=domains, styled="weibo", cues=False)
    assert model.meta["styled"] == "weibo" and model.styled["给力"] > 0
    assert model.styled.keys() <= model.weights.keys()
    plain, styled = model.score(["给力"]), model.score(["给力"], styled=True)
    assert styled > 0.5 and styled > plain + 0.1
    assert model.score(["满意"], styled=True) > 0.5 and model.score(["满意"]) > 0.5
    assert model.score([], styled=True) == 0.5
    unstyled = sentiment.train_logistic(weibo + reviews, domains=domains, cues=False)
    assert not unstyled.styled and unstyled.score(["给力"], styled=True) == unstyled.score(["给力"])
    model.save(tmp_path / "m.tsv.gz")
    loaded = SentimentModel.load(tmp_path / "m.tsv.gz")
    assert loaded.styled.keys() == model.styled.keys()
    assert loaded.score(["给力"], styled=True) == pytest.approx(styled, abs=1e-3)
    assert loaded.score(["给力"]) == pytest.approx(plain, abs=1e-3)
    for bad in ({"styled": "music"}, {"styled": "weibo", "fold": {"weibo": 1.0}}):
        with pytest.raises(ValueError, match="styled"):
            sentiment.train_logistic(weibo + reviews, domains=domains, cues=False, **bad)
    with pytest.raises(SentimentModelError, match="without a weight"):
        SentimentModel(0.0, {"好": 1.0}, {}, {"坏": -1.0})


# Weibo-style posts where 给力 praises, and reviews where it is sarcastic and 漏水 a complaint
ROUTED_WEIBO = [(1, "满意 给力".split()), (0, "投诉 无语".split())] * 20
ROUTED_REVIEWS = [(1, "满意 实惠".split()), (0, "投诉 给力".split()), (0, "实惠 但 漏水".split())] * 20


def routed(**options):
    """A model of ROUTED_WEIBO (styled) and ROUTED_REVIEWS with the given train_logistic options."""
    domains = ["weibo"] * len(ROUTED_WEIBO) + ["reviews"] * len(ROUTED_REVIEWS)
    return sentiment.train_logistic(ROUTED_WEIBO + ROUTED_REVIEWS, domains=domains, cues=False,
                                    **{"styled": "weibo", **options})


def test_plain_folds_a_domains_own_weights_for_posts_not_in_weibo_style_only():
    before, model = routed(), routed(plain={"reviews": 1.0})
    assert model.meta["plain"] == {"reviews": 1.0}
    for tokens in (["给力"], ["实惠"], ["漏水"], ["满意", "给力"], ["投诉"]):   # Weibo style: as without plain
        assert model.score(tokens, styled=True) == pytest.approx(before.score(tokens, styled=True), abs=1e-3)
    assert model.score(["给力"]) < before.score(["给力"]) - 0.05         # the reviews' own: 给力 is sarcastic there
    assert model.score(["漏水"]) < before.score(["漏水"]) - 0.05
    for bad in ({"plain": {"reviews": 1.0}, "styled": None}, {"plain": {"weibo": 1.0}},
                {"plain": {"reviews": 1.0}, "fold": {"reviews": 1.0}}, {"plain": {"music": 1.0}}):
        with pytest.raises(ValueError, match="plain"):
            routed(**bad)


def test_stability_slows_the_shared_weight_of_a_feature_whose_lean_flips_between_domains():
    weibo = [(1, "满意 给力".split()), (0, "投诉 无语".split())] * 20
    reviews = [(1, "满意 实惠".split())] * 20 + [(0, "投诉 给力".split())] * 5 + [(0, ["投诉"])] * 15
    domains = ["weibo"] * len(weibo) + ["reviews"] * len(reviews)
    rates = stability_rates([(label, set(tokens)) for label, tokens in weibo + reviews], domains)
    assert rates["满意"] == rates["投诉"] == 1.0                  # the same lean in both domains
    assert FLOOR < rates["给力"] < 0.3                            # opposite leans (log 21, log 1/6) mostly cancel
    flipped = [(1, {"给力"})] * 4 + [(0, {"无语"})] * 4 + [(0, {"给力"})] * 4 + [(1, {"无语"})] * 4
    assert stability_rates(flipped, ["a"] * 8 + ["b"] * 8) == {"给力": FLOOR, "无语": FLOOR}   # equal and opposite
    assert rates["实惠"] == rates["无语"] == 0.5                  # one domain only
    assert "罕见" not in stability_rates([(1, {"罕见"}), (0, {"别的"})] * 2, ["a", "b"] * 2)   # too rare to judge
    kwargs = {"domains": domains, "styled": "weibo", "cues": False, "nb": 0.0}
    plain = sentiment.train_logistic(weibo + reviews, **kwargs)
    stable = sentiment.train_logistic(weibo + reviews, stability=True, **kwargs)
    assert abs(stable.weights["给力"]) < abs(plain.weights["给力"]) and stable.weights["满意"] > 0.5
    assert abs(stable.styled["给力"]) > abs(plain.styled["给力"])   # Weibo's own weight takes what the shared one lost
    assert stable.meta["stability"] == {"min_posts": 3, "single": 0.5, "floor": FLOOR, "features": 5}
    with pytest.raises(ValueError, match="stability needs domains"):
        sentiment.train_logistic(weibo, stability=True)
    with pytest.raises(ValueError, match="2 domain names for 3 posts"):
        stability_rates([(1, {"a"})] * 3, ["x", "y"])


def test_plain_nb_adds_one_domains_naive_bayes_for_posts_not_in_weibo_style_only():
    before, model = routed(), routed(plain_nb={"reviews": 0.5})
    naive = sentiment.train_naive_bayes(ROUTED_REVIEWS, cues=False)
    assert model.meta["plain_nb"] == {"reviews": 0.5}
    assert model.bias == pytest.approx(before.bias + 0.5 * naive.bias)
    for tokens in (["给力"], ["实惠"], ["漏水"], ["满意", "给力"], ["投诉"]):   # Weibo style: as without it
        assert model.score(tokens, styled=True) == pytest.approx(before.score(tokens, styled=True), abs=1e-3)
    for feature in ("给力", "漏水", "满意"):
        assert model.weights[feature] == pytest.approx(before.weights[feature] + 0.5 * naive.weights[feature], abs=1e-3)
    for bad in ({"styled": None}, {"plain_nb": {"weibo": 1.0}}, {"plain_nb": {"music": 1.0}}):
        with pytest.raises(ValueError, match="plain_nb"):
            routed(**{"plain_nb": {"reviews": 1.0}, **bad})


@pytest.mark.parametrize("text, expected", [
    ("今天好开心[哈哈]", True), ("回复@小王:同意", True), ("//@新闻:转发", True), ("#话题# 来了", True),
    ("房间干净，服务热情，下次还来", False), ("价格[便宜]吗", True), ("第[1]条", False), ("编号#12", False),
])
def test_weibo_style_markers(text, expected):
    assert sentiment.weibo_style(text) is expected


def test_nb_adds_the_naive_bayes_weights_to_the_learned_ones():
    plain, naive = sentiment.train_logistic(DOCS, nb=0.0), sentiment.train_naive_bayes(DOCS)
    mixed = sentiment.train_logistic(DOCS, nb=0.25)
    assert sentiment.train_logistic(DOCS).meta["nb"] == sentiment.NB_WEIGHT > 0
    assert mixed.meta["nb"] == 0.25 and "nb" not in plain.meta
    assert mixed.bias == pytest.approx(plain.bias + 0.25 * naive.bias)
    for feature in ("满意", "投诉", "服务"):
        assert mixed.weights.get(feature, 0.0) == pytest.approx(
            plain.weights.get(feature, 0.0) + 0.25 * naive.weights[feature], abs=1e-4)
    assert mixed.weights.keys() >= plain.weights.keys()


def test_negated_words_learn_their_own_weight():
    docs = [(1, "服务 很 好".split()), (0, "服务 不 好".split()), (1, "环境 好".split()), (0, "环境 不 好".split())] * 10
    model = sentiment.train_logistic(docs)
    assert model.weights["好"] > 0 > model.weights["¬好"]
    assert model.score("价格 不 好".split()) < 0.5 < model.score("价格 好".split())


def test_lexicon_gives_unseen_words_their_polarity_and_folds_into_the_weights(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("# test\n满意\t1\n投诉\t0\n惊艳\t1\n糟糕\t0\n", encoding="utf-8")
    lexicon = sentiment.read_lexicon(path)
    assert lexicon == {"满意": 1, "投诉": 0, "惊艳": 1, "糟糕": 0}
    model = sentiment.train_logistic(DOCS, lexicon=lexicon)
    assert model.score(["惊艳"]) > 0.5 > model.score(["糟糕"])          # never in the training posts
    assert model.score(["不", "惊艳"]) < model.score(["惊艳"])
    assert not any(f.strip("¬").startswith("<") for f in model.weights)   # no tied feature left over
    assert model.meta["lexicon_words"] == 4
    path.write_text("满意\t2\n", encoding="utf-8")
    with pytest.raises(SentimentModelError, match="lexicon.txt, line 1"):
        sentiment.read_lexicon(path)


def test_averaged_sgd_is_the_mean_of_the_weights_at_each_epoch_end():
    # the same seed and decaying rate: training for k epochs without averaging stops where epoch k ended
    ends = [sentiment.train_logistic(DOCS, epochs=k, average=False) for k in (1, 2, 3)]
    averaged = sentiment.train_logistic(DOCS, epochs=3)
    assert averaged.meta["average"] is True and ends[0].meta["average"] is False
    assert averaged.bias == pytest.approx(sum(m.bias for m in ends) / 3)
    for word in ("满意", "点赞", "投诉", "恶劣", "服务"):
        assert averaged.weights[word] == pytest.approx(sum(m.weights[word] for m in ends) / 3)
    assert averaged.weights["满意"] != pytest.approx(ends[-1].weights["满意"])   # not just the last epoch
    one = sentiment.train_logistic(DOCS, epochs=1)
    assert one.weights == sentiment.train_logistic(DOCS, epochs=1, average=False).weights


def test_training_needs_both_labels():
    with pytest.raises(ValueError, match="both"):
        sentiment.train_naive_bayes([(1, ["好"])] * 3)
    with pytest.raises(ValueError, match="both"):
        sentiment.train_logistic([(0, ["差"])] * 3)


def test_labels_have_a_neutral_band():
    assert [label_of(s) for s in (0.0, 0.4, 0.5, 0.6, 1.0)] == [
        "negative", "negative", "neutral", "positive", "positive"]


def test_model_file_round_trips_and_is_reproducible(tmp_path):
    model = sentiment.train_naive_bayes(DOCS)
    first, second = tmp_path / "a.tsv.gz", tmp_path / "b.tsv.gz"
    model.save(first)
    model.save(second)
    assert first.read_bytes() == second.read_bytes()
    loaded = SentimentModel.load(first)
    assert loaded.meta["trainer"] == "naive_bayes"
    assert loaded.score(["满意"]) == pytest.approx(model.score(["满意"]), abs=1e-4)


def test_bad_model_files_name_file_and_line(tmp_path):
    not_gzip = tmp_path / "plain.tsv.gz"
    not_gzip.write_text("hello", encoding="utf-8")
    with pytest.raises(SentimentModelError, match="plain.tsv.gz"):
        SentimentModel.load(not_gzip)
    bad_line = tmp_path / "bad.tsv.gz"
    with gzip.open(bad_line, "wt", encoding="utf-8") as out:
        out.write(json.dumps({"format": sentiment.FORMAT, "bias": 0}) + "\n好\t1.0\n坏 no-tab\n")
    with pytest.raises(SentimentModelError, match=r"bad.tsv.gz, line 3"):
        SentimentModel.load(bad_line)
    for body in ("好\t1.0\t0.5\t0.2\n", "好\t1.0\tx\n", "\t1.0\n"):
        with gzip.open(bad_line, "wt", encoding="utf-8") as out:
            out.write(json.dumps({"format": sentiment.FORMAT, "bias": 0}) + "\n坏\t-1\n" + body)
        with pytest.raises(SentimentModelError, match=r"bad.tsv.gz, line 3"):
            SentimentModel.load(bad_line)


def test_evaluate_reports_per_class_scores():
    report = sentiment.evaluate([1, 1, 0, 0], [0.9, 0.2, 0.1, 0.3])
    assert report["n"] == 4 and report["accuracy"] == 0.75
    assert report["positive"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert report["negative"]["recall"] == 1.0 and report["negative"]["precision"] == 0.6667


def test_snownlp_baseline_stays_usable():
    assert sentiment.snownlp_score(["质量", "很", "好", "满意"]) > 0.5
    assert sentiment.snownlp_score([]) == 0.5


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("body, line", [
    ("label,text\n1,好\n2,坏\n", 3),
    ("label,text\n1,好\n0\n", 3),
    ("label,text\n1,好\n0,a,b\n", 3),
    ("label,title\n1,好\n", 1),                      # no text column
    ("label,text,review\n1,好,坏\n", 1),             # two of them
    ("label,text\n1,好\n1.5,坏\n", 3),
    ("label,review\n1,好\n1,\"好评\n0,难吃\n1,好吃\n0,太咸\n1,还行\n", 3),   # an unclosed quote would swallow the rest
    ("cat,label,review\n外卖,1,\"好评\r\n外卖,0,难吃\r\n外卖,0,慢\r\n外卖,1,快\r\n", 2),
])
def test_malformed_csv_names_the_line(tmp_path, body, line):
    with pytest.raises(LabelledFileError, match=rf"posts.csv, line {line}:"):
        read_labelled(write_csv(tmp_path / "posts.csv", body))


@pytest.mark.parametrize("body", [
    "label,text\n1,好吃\n0,难吃\n",
    "text,label\n好吃,1\n难吃,0\n",                            # columns in any order
    "cat,label,review\n外卖,1.0,好吃\n外卖,0.0,难吃\n",        # other columns ignored, labels as floats
    "label,content\npositive,好吃\nNEG,难吃\n",
    "label,评论\n正面,好吃\n负面,难吃\n",
])
def test_labelled_files_as_public_corpora_write_them(tmp_path, body):
    assert read_labelled(write_csv(tmp_path / "posts.csv", body)) == [(1, "好吃"), (0, "难吃")]


def test_whitespace_lines_long_reviews_and_other_encodings(tmp_path):
    long = "好" * 200_000                                  # past csv's default field limit (131,072)
    assert read_labelled(write_csv(tmp_path / "a.csv", f"label,review\n1,{long}\n   \n0,难吃\n")) == [(1, long), (0, "难吃")]
    (tmp_path / "b.csv").write_text("label,review\n1,好吃\n", encoding="utf-16")
    with pytest.raises(LabelledFileError, match=r"b.csv: not UTF-8; save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8"):
        read_labelled(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_bytes("label,review\n1,好吃\n".encode("gbk"))
    with pytest.raises(LabelledFileError, match=r"c.csv: not UTF-8; .* -f GBK"):
        read_labelled(tmp_path / "c.csv")


def test_quoted_text_over_several_lines_and_a_stray_quote_are_read_as_text(tmp_path):
    body = 'label,review\n1,"第一行\n第二行，还行"\n0,"难"吃\n1,他说"好"吧\n1,"优点：\n1,物流快\n2,质量好"\n'
    assert read_labelled(write_csv(tmp_path / "posts.csv", body)) == [(1, "第一行\n第二行，还行"), (0, "难吃"),
                                                                       (1, '他说"好"吧'), (1, "优点：\n1,物流快\n2,质量好")]
    body = 'review,label\n"外观好看\n价格,1\n推荐",1\n"屏幕有划痕\n正面,背面都有\n差评",0\n'   # a line or two that read as rows
    assert [label for label, _ in read_labelled(write_csv(tmp_path / "b.csv", body))] == [1, 0]


def test_cli_train_then_eval_prints_json_last(tmp_path, capsys):
    from shaobing.cli import main

    rows = ["label,text"] + [f"1,{p.replace(' ', '')}" for p in POSITIVE] + [f"0,{n.replace(' ', '')}" for n in NEGATIVE]
    data = write_csv(tmp_path / "mine.csv", "\n".join(rows) + "\n")
    model = tmp_path / "model.tsv.gz"
    assert main(["sentiment", "train", str(data), "--out", str(model)]) == 0
    assert SentimentModel.load(model).meta["source"] == "mine.csv"
    capsys.readouterr()
    assert main(["sentiment", "eval", str(data), "--model", str(model)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    report = json.loads(last)
    assert report["n"] == 40 and report["accuracy"] >= 0.9
    assert set(report["positive"]) == {"precision", "recall", "f1", "support"}


def test_cli_train_names_an_output_it_cannot_write_and_leaves_no_partial_model(tmp_path, capsys):
    from shaobing.cli import main

    rows = ["label,text"] + [f"1,{p.replace(' ', '')}" for p in POSITIVE] + [f"0,{n.replace(' ', '')}" for n in NEGATIVE]
    data = write_csv(tmp_path / "mine.csv", "\n".join(rows) + "\n")
    assert main(["sentiment", "train", str(data), "--out", str(tmp_path)]) == 2
    assert f"--out {tmp_path}: is a directory" in capsys.readouterr().err
    blocked = tmp_path / "file"                      # a file where the model's folder should be
    blocked.write_text("x")
    assert main(["sentiment", "train", str(data), "--out", str(blocked / "m.tsv.gz")]) == 2
    assert "cannot write the model" in capsys.readouterr().err
    model = tmp_path / "m.tsv.gz"
    assert main(["sentiment", "train", str(data), "--out", str(model)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "m.tsv.gz", "mine.csv"]


def test_cli_eval_segments_with_the_watch_list_the_worker_loads(tmp_path, capsys, monkeypatch):
    from shaobing.cli import main
    from streams.analysis import Resources, analyze

    watch = tmp_path / "watch.yml"                 # terms jieba then keeps whole: they change the tokens
    watch.write_text("subjects:\n  餐饮:\n    terms: [很好吃, 不好吃]\n", encoding="utf-8")
    texts = ["这家店很好吃", "菜品很好吃，但是服务不好", "真的不好吃"]
    data = write_csv(tmp_path / "posts.csv", "label,text\n" + "".join(f"1,{t}\n" for t in texts))
    stream, packaged = Resources.load(watch), Resources.load()
    flags = [analyze("", t, stream).sentiment >= 0.5 for t in texts]
    assert flags != [analyze("", t, packaged).sentiment >= 0.5 for t in texts]   # the list matters here
    monkeypatch.setenv("SHAOBING_WATCHLIST_FILE", str(watch))
    capsys.readouterr()
    assert main(["sentiment", "eval", str(data)]) == 0
    out = capsys.readouterr().out
    assert f"watch list {watch}" in out
    assert json.loads(out.strip().splitlines()[-1])["accuracy"] == pytest.approx(sum(flags) / len(texts))
    monkeypatch.setenv("SHAOBING_WATCHLIST_FILE", str(tmp_path / "missing.yml"))
    assert main(["sentiment", "eval", str(data)]) == 2
    assert "missing.yml: cannot read" in capsys.readouterr().err


def test_cli_eval_rejects_a_malformed_file(tmp_path, capsys):
    from shaobing.cli import main

    bad = write_csv(tmp_path / "bad.csv", "label,text\n1,好\nx,坏\n")
    assert main(["sentiment", "eval", str(bad)]) == 2
    assert "bad.csv, line 3" in capsys.readouterr().err


def test_cli_trains_one_domain_per_file_and_checks_its_fold_options(tmp_path, capsys):
    from shaobing.cli import main

    half = len(POSITIVE) // 2
    first = write_csv(tmp_path / "a.csv", "\n".join(["label,text"] + [f"1,{p.replace(' ', '')}" for p in POSITIVE[:half]]
                                                    + [f"0,{n.replace(' ', '')}" for n in NEGATIVE[:half]]) + "\n")
    second = write_csv(tmp_path / "b.csv", "\n".join(["label,text"] + [f"1,{p.replace(' ', '')}" for p in POSITIVE[half:]]
                                                     + [f"0,{n.replace(' ', '')}" for n in NEGATIVE[half:]]) + "\n")
    model = tmp_path / "model.tsv.gz"
    files = [str(first), str(second), "--out", str(model)]
    assert main(["sentiment", "train", *files, "--domain-per-file", "--fold", "a.csv=0.5"]) == 0
    meta = SentimentModel.load(model).meta
    assert meta["domains"] == {"a.csv": 20, "b.csv": 20} and meta["fold"] == {"a.csv": 0.5}
    capsys.readouterr()
    assert main(["sentiment", "train", *files, "--domain-per-file", "--fold", "c.csv=1"]) == 2
    assert "--fold 'c.csv=1'" in capsys.readouterr().err
    assert main(["sentiment", "train", *files, "--fold", "a.csv=1"]) == 2
    assert "--fold needs --domain-per-file" in capsys.readouterr().err
    assert main(["sentiment", "train", *files, "--domain-per-file", "--styled", "a.csv"]) == 0
    loaded = SentimentModel.load(model)
    assert loaded.meta["styled"] == "a.csv" and loaded.styled
    capsys.readouterr()
    assert main(["sentiment", "eval", str(first), "--model", str(model)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["n"] == 20
    for bad in (["--domain-per-file", "--styled", "c.csv"], ["--domain-per-file", "--styled", "a.csv", "--fold", "a.csv=1"],
                ["--styled", "a.csv"]):
        assert main(["sentiment", "train", *files, *bad]) == 2
        assert "--styled" in capsys.readouterr().err
    assert main(["sentiment", "train", *files, "--domain-per-file", "--styled", "a.csv", "--plain", "b.csv=0.5",
                 "--bigrams"]) == 0
    loaded = SentimentModel.load(model)
    assert loaded.meta["plain"] == {"b.csv": 0.5} and loaded.bigrams
    capsys.readouterr()
    assert main(["sentiment", "train", *files, "--domain-per-file", "--styled", "a.csv", "--plain-nb", "b.csv=0.1",
                 "--stability"]) == 0
    loaded = SentimentModel.load(model)
    assert loaded.meta["plain_nb"] == {"b.csv": 0.1} and loaded.meta["stability"]["min_posts"] == 3
    capsys.readouterr()
    for bad, says in ((["--domain-per-file", "--plain", "b.csv=0.5"], "--plain and --plain-nb need --styled"),
                      (["--domain-per-file", "--plain-nb", "b.csv=0.5"], "--plain and --plain-nb need --styled"),
                      (["--stability"], "--stability"),
                      (["--domain-per-file", "--styled", "a.csv", "--plain-nb", "c.csv=1"], "--plain-nb 'c.csv=1'"),
                      (["--domain-per-file", "--styled", "a.csv", "--plain", "c.csv=1"], "--plain 'c.csv=1'"),
                      (["--domain-per-file", "--styled", "a.csv", "--plain", "a.csv=1"], "plain")):
        assert main(["sentiment", "train", *files, *bad]) == 2
        assert says in capsys.readouterr().err


def test_a_bad_record_of_several_lines_is_named_by_its_first_line(tmp_path):
    with pytest.raises(LabelledFileError, match=r"posts.csv, line 3:"):
        read_labelled(write_csv(tmp_path / "posts.csv", 'label,text\n1,好\n7,"多行\n评论\n很差"\n'))


def test_a_file_that_is_not_utf8_says_so(tmp_path):
    gbk = tmp_path / "posts.csv"
    gbk.write_bytes("label,text\n1,很好吃\n0,太难吃了\n".encode("gbk"))
    with pytest.raises(LabelledFileError, match=r"posts.csv: not UTF-8.*iconv -f GBK"):
        read_labelled(gbk)
