"""A busy subject's near-the-line confirmation (streams.surge). A busy subject (streams.surge_busy)
of whole counts whose best score passes the spread and tail lines by less than `confirm_factor` x
that line pages only if the window before it (the one ending `window_buckets` earlier: the previous
five minutes, one bucket in a 5-minute backtest, five at the agent's one-minute buckets) also passed
the line: its chatter (a repost cascade a few minutes past the line) then waits a window and mostly
falls back, while a story that holds pages a window later. A score further past the line, a subject
that is not busy, or a series of measurements (latency, CPU: state `frac`, where one-row anomalies
are the labelled ones) pages at once.

Pure, plain-JSON state: `above`, the closed buckets of the last two windows whose best score passed
the line, learnt when a bucket closes and again when a late mention re-judges it (at the agent a
bucket closes before its late mentions arrive). A bucket held here is not a quiet one: it teaches
the daily peak and the span record nothing. `p` is a SurgeParams.
"""
from __future__ import annotations

from streams import surge_busy as busy_


def held(state: dict, end: int, best: float, line: float, p) -> bool:
    """Whether a window that passed `line` (the spread and tail lines) waits for confirmation."""
    return (bool(p.confirm_factor) and best < p.confirm_factor * line and not state.get("frac")
            and busy_.busy(state, end, p) and end - p.window_buckets not in state.get("above", ()))


def learn(state: dict, end: int, best: float, line: float, p) -> None:
    """Remember a closed bucket whose best score passed the line (the last two windows' worth)."""
    if not p.confirm_factor:
        return
    keep = [i for i in state.get("above", ()) if i > end - 2 * p.window_buckets and i != end]
    state["above"] = sorted(keep + [end]) if best >= line else keep
