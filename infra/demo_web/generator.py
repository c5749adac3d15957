"""Deterministic post generation for the demo web: background chatter plus one surge with
cross-site reposts, from a seed and the vocabulary. Pure: no clock, no I/O, no settings."""
from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from infra.demo_web import vocabulary as V

FORUM_SITE = "demo-forum"
NEWS_SITE = "demo-news"
WEIBO_SITE = "demo-weibo"
DISCUZ_SITE = "demo-discuz"
# slug -> (board name, charset of the page); see pages.HEADER_CHARSET for the board whose server lies
BOARDS = {"town": ("县城杂谈", "utf-8"), "qingshi": ("青石乡情", "gbk"), "help": ("民生求助", "gbk")}


@dataclass(frozen=True)
class DemoPost:
    """One post as the demo web serves it; `key` is what a crawler's post_id should be."""

    site: str
    native_id: str
    kind: str                      # "thread" | "reply" | "article" | "status"
    at_s: float                    # scenario seconds since start; negative = history
    title: str
    text: str
    author: str
    board: str = ""
    thread_id: str = ""            # forum: native id of the thread (a thread's own id for floor 1)
    floor: int = 1
    reply_to_floor: int | None = None
    source: str = ""               # news: where the article came from (来源)
    surge: bool = False
    repost_of: str | None = None   # key of the post this one reposts
    edit: str = ""                 # how the repost was edited: "verbatim", "prefix", "tags", "punct"
    reposts: int = 0               # microblog: repost count (shown as 1.2万 past ten thousand)

    @property
    def key(self) -> str:
        return f"{self.site}:{self.native_id}"


@dataclass(frozen=True)
class Params:
    seed: int = 7
    surge_at_s: float = 300.0
    history_s: float = 3600.0
    duration_s: float | None = None    # default: surge_at_s + surge_span_s + 900
    chatter_per_min: float = 1.0       # forum threads per scenario minute
    news_per_hour: float = 6.0
    surge_threads: int = 40
    surge_span_s: float = 600.0
    layout_change_at_s: float | None = None   # from then on article pages use a new layout (watchdog demo)
    microblog: bool = False            # also a microblog (JSON API) site; off by default so the forum + news
                                       # demo and its ground truth stay as they were
    discuz: bool = True                # also a Discuz! forum (infra/demo_web/discuz.py), on its own random stream
    discuz_api: bool = True            # ... with its mobile API enabled (else HTML templates only)

    @property
    def end_s(self) -> float:
        return self.duration_s if self.duration_s is not None else self.surge_at_s + self.surge_span_s + 900.0


@dataclass
class _Draft:
    post: DemoPost
    replies: list[DemoPost] = field(default_factory=list)
    repost_of: "_Draft | None" = None


def _fill(rng: random.Random, template: str, **extra: str) -> str:
    values = {"town": rng.choice(V.TOWNS), "unit": rng.choice(V.UNITS), "person": rng.choice(V.PEOPLE),
              "place": rng.choice(V.PLACES), "site": V.SURGE_SITE}
    values.update(extra)
    return template.format(**values)


def _times(rng: random.Random, start: float, end: float, per_s: float):
    t = start
    while True:
        t += rng.expovariate(per_s)
        if t >= end:
            return
        yield t


def _replies(rng: random.Random, at: float, end: float, pool: tuple[str, ...], long: bool, **extra: str) -> list[DemoPost]:
    n = rng.randint(12, 32) if long else rng.choice((0, 0, 1, 2, 3, 4, 6))
    out, t = [], at
    for floor in range(2, n + 2):
        t += rng.expovariate(1 / 90.0)
        if t >= end:
            break
        to = rng.randint(2, floor - 1) if floor > 3 and rng.random() < 0.3 else None
        out.append(DemoPost(FORUM_SITE, "", "reply", t, "", _fill(rng, rng.choice(pool), **extra),
                            rng.choice(V.NICKS), floor=floor, reply_to_floor=to))
    return out


def _chatter(rng: random.Random, p: Params) -> list[_Draft]:
    drafts = []
    for t in _times(rng, -p.history_s, p.end_s, p.chatter_per_min / 60.0):
        title, body = rng.choice(V.CHATTER)
        town = rng.choice(V.TOWNS)
        board = "qingshi" if town == V.SURGE_PLACE else rng.choice(("town", "town", "help"))
        post = DemoPost(FORUM_SITE, "", "thread", t, _fill(rng, title, town=town), _fill(rng, body, town=town),
                        rng.choice(V.NICKS), board=board)
        drafts.append(_Draft(post, _replies(rng, t, p.end_s, V.CHATTER_REPLIES, rng.random() < 0.15)))
    for t in _times(rng, -p.history_s, p.end_s, p.news_per_hour / 3600.0):
        title, body = rng.choice(V.NEWS_CHATTER)
        town = rng.choice(V.TOWNS)
        drafts.append(_Draft(DemoPost(NEWS_SITE, "", "article", t, _fill(rng, title, town=town),
                                      _fill(rng, body, town=town), rng.choice(V.REPORTERS),
                                      source=rng.choice(V.NEWS_SOURCES))))
    return drafts


def _surge_text(rng: random.Random) -> tuple[str, str]:
    extra = {"place": V.SURGE_PLACE, "unit": rng.choice(V.SURGE_UNITS)}
    facts = rng.sample(V.SURGE_FACTS, 2)
    body = _fill(rng, rng.choice(V.SURGE_OPENERS), **extra) + "".join(facts) + _fill(rng, rng.choice(V.SURGE_ASKS), **extra)
    return _fill(rng, rng.choice(V.SURGE_TITLES), **extra), body


def _edit(rng: random.Random, text: str, source: str, how: str) -> str:
    if how == "prefix":
        return rng.choice(("转发：", f"转自{source}：", f"【转】{source}消息，")) + text
    if how == "tags":
        tags = " ".join(rng.sample(V.SURGE_TAGS, 2))
        return f"{tags} {text}" if rng.random() < 0.5 else f"{text} {tags}"
    if how == "punct":
        return text.replace("，", ",").replace("。", "！", 1)
    return text


def _surge(rng: random.Random, p: Params) -> list[_Draft]:
    drafts = []
    span = p.surge_span_s
    for i in range(p.surge_threads):
        t = p.surge_at_s + span * (i / max(p.surge_threads, 1)) ** 1.3 + rng.uniform(0, 5)
        title, body = _surge_text(rng)
        board = rng.choice(("qingshi", "qingshi", "town", "help"))
        post = DemoPost(FORUM_SITE, "", "thread", t, title, body, rng.choice(V.NICKS), board=board, surge=True)
        replies = _replies(rng, t, p.end_s, V.SURGE_REPLIES, rng.random() < 0.3, place=V.SURGE_PLACE)
        drafts.append(_Draft(post, [replace(r, surge=True) for r in replies]))
    for i, (title, body) in enumerate(V.SURGE_ARTICLES):
        t = p.surge_at_s + span * (0.02 + 0.33 * i) + 1.0
        source = V.NEWS_SOURCES[i % len(V.NEWS_SOURCES)]
        original = _Draft(DemoPost(NEWS_SITE, "", "article", t, title, body, rng.choice(V.REPORTERS),
                                   source=source, surge=True))
        drafts.append(original)
        for j, how in enumerate(("verbatim", "prefix", "tags", "punct")[: rng.randint(3, 4)]):
            rt = t + 20 + j * rng.uniform(30, 150)
            site = NEWS_SITE if how == "verbatim" or (j % 2 == 0 and how != "prefix") else FORUM_SITE
            text = _edit(rng, body, source, how)
            if site == NEWS_SITE:
                post = DemoPost(site, "", "article", rt, title, text, rng.choice(V.REPORTERS), source=source, surge=True)
            else:
                post = DemoPost(site, "", "thread", rt, f"【转】{title}", text, rng.choice(V.NICKS),
                                board=rng.choice(("qingshi", "town")), surge=True)
            drafts.append(_Draft(replace(post, edit=how), repost_of=original))
    return drafts


def generate(p: Params) -> list[DemoPost]:
    """Every post of the scenario, threads before their replies, ordered by scenario time."""
    rng = random.Random(p.seed)
    drafts = _chatter(rng, p) + _surge(rng, p)
    if p.microblog:
        from infra.demo_web.microblog import statuses     # its own random stream: the rest stays the same

        drafts += statuses(p, [d for d in drafts if d.post.surge and d.post.kind == "article" and not d.repost_of])
    if p.discuz:
        from infra.demo_web.discuz import threads

        drafts += threads(p)
    # nothing after the scenario's end (a surge repost could land there with a short tail): the
    # demo and the e2e tier wait for the end, then expect no new posts
    drafts = sorted((d for d in drafts if d.post.at_s < p.end_s), key=lambda d: d.post.at_s)
    ids = {FORUM_SITE: 100000, NEWS_SITE: 500000, WEIBO_SITE: 880000000, DISCUZ_SITE: 3000}
    pids = iter(range(900001, 10**9))      # Discuz: a reply's native id is its thread id and its post id (pid)
    for d in drafts:                       # auto-increment ids in publication order, like a real site
        ids[d.post.site] += 1
        nid = str(ids[d.post.site])
        d.post = replace(d.post, native_id=nid, thread_id=nid if d.post.kind == "thread" else "")
        d.replies = [replace(r, native_id=f"{nid}-{next(pids) if r.site == DISCUZ_SITE else r.floor}", thread_id=nid,
                             board=d.post.board) for r in d.replies]
    out: list[DemoPost] = []
    for d in drafts:
        out.append(replace(d.post, repost_of=d.repost_of.post.key) if d.repost_of else d.post)
        out.extend(d.replies)
    return sorted(out, key=lambda post: post.at_s)
