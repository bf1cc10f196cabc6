"""Confidence intervals for comparing two proportions, and multiple-comparison adjustments.

Proportions and differences are fractions (0..1 and -1..1); ``Diff.pp`` turns a difference into
percentage points for display and JSON. Pure Python: the normal tail comes from ``math.erfc``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Z95",
    "Diff",
    "benjamini_hochberg",
    "diff_p_value",
    "holm",
    "newcombe_diff",
    "wilson",
]

Z95 = 1.959963984540054
"""The two-sided 95% standard normal quantile."""

# Past this z the two-sided normal tail underflows to 0.0 in double precision.
_Z_MAX = 40.0


def _check_counts(count: int, base: int) -> None:
    if not 0 <= count <= base:
        raise ValueError(f"count {count} and base {base}: need 0 <= count <= base")


def _check_z(z: float) -> None:
    if not (z > 0 and math.isfinite(z)):
        raise ValueError(f"z {z}: need a positive finite number")


def wilson(count: int, base: int, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval (low, high) for the proportion ``count / base``.

    Without continuity correction (Wilson 1927; Newcombe 1998, single proportion, method 3).
    A base of 0 carries no information and gives (0.0, 1.0). Raises ValueError unless
    0 <= count <= base and z is positive.
    """
    _check_counts(count, base)
    _check_z(z)
    if base == 0:
        return 0.0, 1.0
    z2 = z * z
    denom = base + z2
    centre = (count + z2 / 2) / denom
    half = z / denom * math.sqrt(count * (base - count) / base + z2 / 4)
    # at 0 and at base the bound is exactly the observed proportion; rounding must not move it
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == base else min(1.0, centre + half)
    return low, high


def _pp(fraction: float, digits: int) -> float:
    # adding 0.0 turns a rounded -0.0 into 0.0, so JSON never shows "-0.0"
    return round(fraction * 100, digits) + 0.0


@dataclass(frozen=True)
class Diff:
    """A difference of proportions p_a - p_b with its confidence interval, as fractions.

    ``delta`` is None when either base is 0 (no proportion to compare); the interval is then
    the uninformative (-1.0, 1.0) and ``significant`` is False. ``significant`` is True when
    the interval excludes 0.
    """

    delta: float | None
    low: float
    high: float
    significant: bool

    def pp(self, digits: int = 2) -> tuple[float | None, float, float]:
        """Return (delta, low, high) in percentage points rounded to ``digits`` decimals."""
        delta = None if self.delta is None else _pp(self.delta, digits)
        return delta, _pp(self.low, digits), _pp(self.high, digits)


def newcombe_diff(
    count_a: int, base_a: int, count_b: int, base_b: int, z: float = Z95
) -> Diff:
    """Return p_a - p_b with Newcombe's hybrid score interval.

    Newcombe 1998 ("Interval estimation for the difference between independent proportions",
    method 10): with (l, u) the Wilson interval of each proportion, the interval is
    delta - sqrt((p_a - l_a)^2 + (u_b - p_b)^2) to delta + sqrt((u_a - p_a)^2 + (p_b - l_b)^2).
    A base of 0 on either side gives ``Diff(None, -1.0, 1.0, False)``. Raises ValueError unless
    0 <= count <= base on both sides.
    """
    low_a, high_a = wilson(count_a, base_a, z)
    low_b, high_b = wilson(count_b, base_b, z)
    if base_a == 0 or base_b == 0:
        return Diff(None, -1.0, 1.0, False)
    p_a = count_a / base_a
    p_b = count_b / base_b
    delta = p_a - p_b
    low = max(-1.0, delta - math.hypot(p_a - low_a, high_b - p_b))
    high = min(1.0, delta + math.hypot(high_a - p_a, p_b - low_b))
    return Diff(delta, low, high, low > 0 or high < 0)


def diff_p_value(count_a: int, base_a: int, count_b: int, base_b: int) -> float:
    """Return the two-sided p-value of p_a - p_b != 0 that matches ``newcombe_diff``.

    It is the inverted interval: the smallest alpha at which Newcombe's hybrid score interval
    at level 1 - alpha still excludes 0 (the interval widens as z grows, so the crossing z is
    found by bisection and p = erfc(z / sqrt 2)). Hence p < 0.05 exactly when
    ``newcombe_diff(...).significant`` (up to the bisection's 1e-15 precision in z), which a
    pooled z-test would not guarantee. Equal
    proportions, or a base of 0 on either side, give 1.0.
    """
    first = newcombe_diff(count_a, base_a, count_b, base_b)
    if first.delta is None or first.delta == 0:
        return 1.0

    def excludes_zero(z: float) -> bool:
        diff = newcombe_diff(count_a, base_a, count_b, base_b, z)
        return diff.low > 0 or diff.high < 0

    if excludes_zero(_Z_MAX):
        return 0.0
    lo, hi = 0.0, _Z_MAX  # excludes_zero holds just above lo (the interval shrinks to delta)
    for _ in range(60):
        mid = (lo + hi) / 2
        if excludes_zero(mid):
            lo = mid
        else:
            hi = mid
    return math.erfc((lo + hi) / 2 / math.sqrt(2))


def _checked(p_values: Sequence[float]) -> list[float]:
    values = [float(p) for p in p_values]
    for p in values:
        if not 0.0 <= p <= 1.0:  # also rejects NaN
            raise ValueError(f"p-value {p}: need a number from 0 to 1")
    return values


def holm(p_values: Sequence[float]) -> list[float]:
    """Return Holm's step-down adjusted p-values, in the order given.

    Controls the family-wise error rate: the hypotheses whose adjusted p-value is below alpha
    can be rejected together at level alpha. Raises ValueError for a value outside 0..1.
    """
    values = _checked(p_values)
    m = len(values)
    order = sorted(range(m), key=values.__getitem__)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Return Benjamini-Hochberg adjusted p-values (q-values), in the order given.

    Controls the false discovery rate: among the hypotheses whose adjusted p-value is below q,
    the expected share of false discoveries is at most q. Raises ValueError for a value outside
    0..1.
    """
    values = _checked(p_values)
    m = len(values)
    order = sorted(range(m), key=values.__getitem__)
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        # the factor first: it is >= 1, so rounding can never push a q-value below its p-value
        running = min(running, values[i] * (m / (rank + 1)))
        adjusted[i] = running
    return adjusted
