"""Chinese-first alert text in three outputs (Markdown, plain text, HTML), every crawled field
escaped for its output, one-line forms of an alert for digests and for groups too large for one
message, and byte-limit fitting that drops sample posts before touching the header or the numbers.
Pure; reads no settings. Times are shown in Asia/Shanghai.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from alerting import escape
from alerting.model import Alert

SHANGHAI = ZoneInfo("Asia/Shanghai")
_BARS = "▁▂▃▄▅▆▇█"
GROUP_RULE = "\n\n---\n\n"            # between two alerts of one Markdown group message
BRIEF_NOTE = "以下告警仅列摘要"


def local(t: datetime, fmt: str = "%m-%d %H:%M") -> str:
    return t.astimezone(SHANGHAI).strftime(fmt)


def sparkline(trend: tuple[int, ...]) -> str:
    if not trend:
        return ""
    top = max(trend) or 1
    return "".join(_BARS[min(7, v * 8 // (top + 1))] for v in trend)


def headline(alert: Alert, esc: Callable[[str], str]) -> str:
    state = "已恢复" if alert.status == "resolved" else alert.severity_zh
    prefix = {"escalation": "【升级·未确认】", "repeat": "【重复提醒·未确认】"}.get(alert.notice, "")
    again = f"（近期第{alert.occurrence}次）" if alert.occurrence > 1 else ""
    return f"{prefix}【舆情{alert.rule_zh}·{state}】{esc(alert.subject)}{again}"


def group_headline(alerts: list[Alert], esc: Callable[[str], str], max_bytes: int = 0) -> str:
    """The first alert's headline, and how many the notification carries when more than one; cut
    to `max_bytes` of UTF-8 (when given) in the headline, so the count stays."""
    more = f"（同组共 {len(alerts)} 条）" if len(alerts) > 1 else ""
    first = headline(alerts[0], esc)
    if not max_bytes:
        return first + more
    if escape.utf8_len(more) > max_bytes:
        return escape.truncate_utf8(first + more, max_bytes)
    return escape.truncate_utf8(first, max_bytes - escape.utf8_len(more)) + more


def brief_line(alert: Alert, esc: Callable[[str], str]) -> str:
    """One alert in one line: rule, state, subject, count / usual, negative share, dedup key."""
    state = "已恢复" if alert.status == "resolved" else alert.severity_zh
    return (f"{alert.rule_zh}·{state} {esc(alert.subject)}：{alert.count} 条 / 平时 {alert.baseline:.1f}，"
            f"负面 {alert.negative_share:.0%}（{alert.dedup_key}）")


def unlisted_line(n: int) -> str:
    """The last line of a group message that could not name every alert."""
    return f"……同组另有 {n} 条告警未列出，请在控制台告警列表查看"


# (score, words): the detector's score is in units of the subject's usual spread above this
# hour's usual count; under a normal approximation of that spread these are its upper quantiles
_UNUSUAL = ((3.72, "历史同时段 99.99% 分位之上"), (3.09, "历史同时段 99.9% 分位之上"),
            (2.33, "历史同时段 99% 分位之上"), (1.64, "历史同时段 95% 分位之上"))


def why_line(alert: Alert) -> str | None:
    """Why it fired, readable in five seconds: now vs usual for this hour, how unusual, since when."""
    if alert.score is None or alert.rule not in ("surge", "negative_surge"):
        return None
    words = next((w for z, w in _UNUSUAL if alert.score >= z), "高于平时")
    since = f"，自 {local(alert.since, '%H:%M')} 起" if alert.since else ""
    peak = f"；近一周每日峰值通常约 {alert.peak:.1f} 倍" if alert.peak else ""
    if alert.record:                     # the record gate: a bucket past its recent highest, whatever the spread
        peak = f"；单个时段条数创近期新高，此前单时段最高约 {alert.record:g} 条"
    return (f"为何告警：现在 {alert.count} 条 vs 历史同时段平时约 {alert.baseline:.1f} 条，"
            f"{words}（超出常态波动 {alert.score:.1f} 倍{peak}）{since}")


def fact_lines(alert: Alert, esc: Callable[[str], str]) -> list[str]:
    """The numbers an on-call person acts on; never truncated."""
    ratio = f"，约为平时的 {alert.ratio} 倍" if alert.ratio else "，此前几乎无声量"
    why = why_line(alert)
    lines = ([why] if why else []) + [
        f"声量：{alert.window_minutes:g} 分钟内 {alert.count} 条，平时约 {alert.baseline:.1f} 条{ratio}",
        f"负面占比：{alert.negative_share:.0%}",
        f"时间窗：{local(alert.window_start)} – {local(alert.window_end, '%H:%M')}（北京时间）",
    ]
    if alert.trend:
        lines.append(f"走势：{sparkline(alert.trend)}（{'/'.join(map(str, alert.trend[-6:]))}）")
    if alert.top_sites:
        lines.append("主要来源：" + "，".join(f"{esc(site)}（{n}）" for site, n in alert.top_sites))
    first = alert.first_post
    if first:
        lines.append(f"首发：{esc(first.site)} {local(first.published_at)} {esc(first.title, 60)}")
    if alert.sent_at and alert.latency_s(alert.sent_at) is not None:
        lines.append(f"时延：首帖入管道至发送 {alert.latency_s(alert.sent_at):.0f} 秒")
    lines.append(f"去重键：{alert.dedup_key}")
    return lines


def _links(alert: Alert, link: Callable[[str, str], str]) -> str:
    pairs = [("检索该主题", alert.links.search), ("确认（停止重复提醒）", alert.links.ack),
             ("静默 2 小时", alert.links.silence)]
    return " | ".join(link(label, url) for label, url in pairs if escape.safe_url(url))


def markdown(alert: Alert, samples: int = 3, title: str = "") -> str:
    """The alert's full message; `title` (already escaped) replaces its headline."""
    md_link = lambda label, url: f"[{label}]({escape.safe_url(url)})"  # noqa: E731
    out = [f"### {title or headline(alert, escape.markdown)}", ""]
    out += [f"- {line}" for line in fact_lines(alert, escape.markdown)]
    shown = alert.samples[:samples]
    if shown:
        out += ["", "**样例帖子**"]
        for i, s in enumerate(shown, 1):
            title = escape.markdown(s.title, 60) or "（无标题）"
            url = escape.safe_url(s.url)
            item = f"[{title}]({url})" if url else title
            out.append(f"{i}. {item} — {escape.markdown(s.site)} {local(s.published_at, '%H:%M')}")
    links = _links(alert, md_link)
    if links:
        out += ["", links]
    return "\n".join(out)


def markdown_group(alerts: list[Alert], samples: int = 3) -> str:
    """Each alert's full message, separated by a rule."""
    return GROUP_RULE.join(markdown(a, samples=samples) for a in alerts)


def text(alert: Alert, samples: int = 3) -> str:
    out = [headline(alert, escape.plain)] + fact_lines(alert, escape.plain)
    for i, s in enumerate(alert.samples[:samples], 1):
        out.append(f"样例{i}：{escape.plain(s.title, 60)} {escape.safe_url(s.url)}")
    links = _links(alert, lambda label, url: f"{label}: {escape.safe_url(url)}")
    return "\n".join(out + ([links] if links else []))


def html(alert: Alert, samples: int = 3) -> str:
    a = lambda label, url: f'<a href="{escape.safe_url(url)}">{label}</a>'  # noqa: E731
    items = "".join(f"<li>{line}</li>" for line in fact_lines(alert, escape.html_text))
    posts = "".join(
        f'<li>{a(escape.html_text(s.title, 60) or "（无标题）", s.url)} — {escape.html_text(s.site)}</li>'
        for s in alert.samples[:samples])
    return (f"<h3>{headline(alert, escape.html_text)}</h3><ul>{items}</ul>"
            + (f"<p><b>样例帖子</b></p><ol>{posts}</ol>" if posts else "")
            + f"<p>{_links(alert, a)}</p>")


def fit(render: Callable[[int], str], max_bytes: int, samples: int = 3) -> str:
    """Render with as many samples as fit in `max_bytes` of UTF-8; cut bytes only as a last resort."""
    for n in range(samples, -1, -1):
        body = render(n)
        if escape.utf8_len(body) <= max_bytes:
            return body
    return escape.truncate_utf8(body, max_bytes)
