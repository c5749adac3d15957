"""The demo's microblog site (`demo-weibo`, a JSON search API): short status posts, chatter and
the surge, with 转发 reposts of the surge's news articles. Deterministic from the seed, on a random
stream of its own. Pure."""
from __future__ import annotations

import random

from infra.demo_web import vocabulary as V
from infra.demo_web.generator import WEIBO_SITE, DemoPost, Params, _Draft, _fill, _surge_text, _times


def _reposts(rng: random.Random, hot: bool) -> int:
    return rng.randint(2_000, 30_000) if hot else rng.choice((0, 0, 1, 3, 12, 45))


def statuses(p: Params, surge_articles: list[_Draft]) -> list[_Draft]:
    rng = random.Random(p.seed * 7919 + 17)
    drafts = []
    for t in _times(rng, -p.history_s, p.end_s, 1.5 / 60.0):
        _title, body = rng.choice(V.CHATTER)
        text = _fill(rng, body) + (f" #{rng.choice(V.TOWNS)}#" if rng.random() < 0.3 else "")
        drafts.append(_Draft(DemoPost(WEIBO_SITE, "", "status", t, "", text, rng.choice(V.NICKS),
                                      reposts=_reposts(rng, False))))
    for i in range(max(p.surge_threads // 2, 1)):
        t = p.surge_at_s + p.surge_span_s * (i / max(p.surge_threads // 2, 1)) ** 1.3 + rng.uniform(0, 5)
        _title, body = _surge_text(rng)
        drafts.append(_Draft(DemoPost(WEIBO_SITE, "", "status", t, "", f"{body} {rng.choice(V.SURGE_TAGS)}",
                                      rng.choice(V.NICKS), surge=True, reposts=_reposts(rng, i % 5 == 0))))
    for original in surge_articles:
        a = original.post
        for j in range(2):
            text = f"转发微博 //@{a.source}: 【{a.title}】{a.text}"
            drafts.append(_Draft(DemoPost(WEIBO_SITE, "", "status", a.at_s + 15 + j * rng.uniform(20, 120), "", text,
                                          rng.choice(V.NICKS), surge=True, edit="prefix",
                                          reposts=_reposts(rng, j == 0)), repost_of=original))
    return drafts
