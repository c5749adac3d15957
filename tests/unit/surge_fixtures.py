"""Shared by the surge tests that generate their own count series (test_surge_pinned, test_surge_rare)."""
from __future__ import annotations

import math
import random


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw by Knuth's product of uniforms (small rates: the generated series' own)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
