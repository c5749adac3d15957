"""A busy subject's near-the-line confirmation (streams.surge). A busy subject (streams.surge_busy)
of whole counts whose best score passes the spread and tail lines by less than `confirm_factor` x
that line pages only if the closed bucket before it was also past the line: its chatter (a repost
cascade a few minutes past the line) then waits one bucket and mostly falls back, while a story that
holds pages one bucket later. A score further past the line, a subject that is not busy, or a series
of measurements (latency, CPU: state `frac`, where one-row anomalies are the labelled ones) pages at
once. Pure, plain-JSON state (`above`: the last closed bucket past the line); `p` is a SurgeParams.
"""
from __future__ import annotations

from streams import surge_busy as busy_


def held(state: dict, end: int, best: float, line: float, p) -> bool:
    """Whether a window that passed `line` (the spread and tail lines) waits for confirmation."""
    return (bool(p.confirm_factor) and best < p.confirm_factor * line and not state.get("frac")
            and busy_.busy(state, end, p) and state.get("above") != end - 1)


def learn(state: dict, end: int, best: float, line: float, p) -> None:
    """Remember a closed bucket whose best score passed the line."""
    if p.confirm_factor and best >= line:
        state["above"] = end
