"""Generic article extraction (trafilatura, crawlers.parsing.article) against the demo-news selectors.

    .venv/bin/python bench/extraction_bench.py --n 40

Serves the demo web on loopback (seed 7, a scenario far enough along to have N articles), fetches
N article pages once with urllib, then reads each page both ways: parsel with the title/body
selectors of `demo-news` in crawlers/sources.yml (cleaned as the spider cleans them), and
extract_article(). Reports the share of pages whose generic title equals the selector title,
the mean difflib ratio of the body texts (whitespace removed on both sides, so only characters
count), the share with an exact body match, and the CPU time per page of each reading
(time.process_time, fetching excluded). The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsel import Selector  # noqa: E402

from crawlers.parsing.article import extract_article  # noqa: E402
from crawlers.parsing.text import selected_text  # noqa: E402
from crawlers.sources import load_sources  # noqa: E402
from infra.demo_web import Scenario, start_demo_web  # noqa: E402


def by_selectors(html: str, sel) -> tuple[str, str]:
    page = Selector(text=html)
    return selected_text(page, sel.title, line=True), selected_text(page, sel.body)     # as the spider reads them


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def timed(fn, pages) -> tuple[list, float]:
    start = time.process_time()
    out = [fn(html) for html in pages]
    return out, (time.process_time() - start) / len(pages)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="article pages")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3, help="timing rounds; the fastest is kept")
    args = ap.parse_args()

    sel = load_sources()["demo-news"].selectors
    clock = [0.0]
    # a day of history before the start (about 6 articles an hour), then the surge's articles
    scenario = Scenario(seed=args.seed, surge_at_s=120.0, speed=1.0, clock=lambda: clock[0], history_s=86400.0)
    clock[0] = 1800.0
    base, stop = start_demo_web(port=0, scenario=scenario)
    try:
        links: list[str] = []
        next_url: str | None = f"{base}/news/list"
        while next_url and len(links) < args.n:
            with urllib.request.urlopen(next_url, timeout=10) as r:
                listing = Selector(text=r.read().decode("utf-8"))
            links += [h for h in listing.css(sel.article_link).getall() if h not in links]
            nxt = listing.css(sel.next_page).get()
            next_url = base + nxt if nxt else None
        links = links[: args.n]
        pages, urls = [], []
        for href in links:
            url = base + href
            with urllib.request.urlopen(url, timeout=10) as r:
                pages.append(r.read().decode("utf-8"))
            urls.append(url)
    finally:
        stop()
    if len(pages) < args.n:
        print(f"only {len(pages)} articles served (wanted {args.n})", file=sys.stderr)

    t_sel = t_gen = float("inf")
    for _ in range(args.rounds):
        selected, t = timed(lambda h: by_selectors(h, sel), pages)
        t_sel = min(t_sel, t)
        it = iter(urls)
        generic, t = timed(lambda h: extract_article(h, next(it)), pages)
        t_gen = min(t_gen, t)

    title_equal = body_exact = 0
    ratios = []
    for (s_title, s_body), g in zip(selected, generic):
        title_equal += s_title == g["title"]
        a, b = squash(s_body), squash(g["text"])
        body_exact += a == b
        ratios.append(difflib.SequenceMatcher(None, a, b, autojunk=False).ratio())
        if s_title != g["title"] or a != b:
            print(f"differs: {s_title!r} / {g['title']!r}: body ratio {ratios[-1]:.3f}")
    n = len(pages)
    result = {"pages": n, "seed": args.seed, "title_equal_share": round(title_equal / n, 3),
              "body_ratio_mean": round(sum(ratios) / n, 4), "body_ratio_min": round(min(ratios), 4),
              "body_exact_share": round(body_exact / n, 3),
              "published_found_share": round(sum(g["published"] is not None for g in generic) / n, 3),
              "ms_per_page_selectors": round(t_sel * 1000, 3), "ms_per_page_generic": round(t_gen * 1000, 3)}
    print(f"{n} article pages: generic title = selector title on {title_equal}/{n}; body similarity "
          f"mean {result['body_ratio_mean']} (min {result['body_ratio_min']}), identical {body_exact}/{n}; "
          f"CPU per page: selectors {result['ms_per_page_selectors']} ms, generic {result['ms_per_page_generic']} ms")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
