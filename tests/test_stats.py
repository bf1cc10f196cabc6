"""api.stats: Wilson and Newcombe intervals against published values, properties, Holm and BH."""
from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.stats import (
    Z95,
    Diff,
    benjamini_hochberg,
    diff_p_value,
    holm,
    newcombe_diff,
    wilson,
)

Z99 = 2.5758293035489004


# Newcombe 1998 (single proportion), the Wilson score method without continuity correction.
@pytest.mark.parametrize(
    "count, base, low, high",
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_published_values(count, base, low, high):
    assert wilson(count, base) == pytest.approx((low, high), abs=5e-5)


def test_wilson_edges_and_no_information():
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 5)[0] == 0.0
    assert wilson(5, 5)[1] == 1.0
    # a wider z gives a wider interval
    low95, high95 = wilson(30, 100)
    low99, high99 = wilson(30, 100, Z99)
    assert low99 < low95 and high99 > high95


@pytest.mark.parametrize("count, base", [(-1, 5), (6, 5), (0, -1)])
def test_wilson_rejects_impossible_counts_naming_them(count, base):
    with pytest.raises(ValueError, match=f"count {count} and base {base}"):
        wilson(count, base)


def test_bad_z_is_rejected():
    with pytest.raises(ValueError, match="z 0"):
        wilson(1, 2, 0)
    with pytest.raises(ValueError, match="z nan"):
        newcombe_diff(1, 2, 1, 2, math.nan)


# Newcombe 1998 (difference between independent proportions), Table II, method 10.
@pytest.mark.parametrize(
    "a, na, b, nb, delta, low, high",
    [
        (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.5714, 0.0582, 0.8062),
        (5, 56, 0, 29, 0.0893, -0.0381, 0.1926),
        (0, 10, 0, 20, 0.0, -0.1611, 0.2775),
        (0, 10, 0, 10, 0.0, -0.2775, 0.2775),
        (10, 10, 0, 20, 1.0, 0.6791, 1.0),
        (10, 10, 0, 10, 1.0, 0.6075, 1.0),
    ],
)
def test_newcombe_matches_published_values(a, na, b, nb, delta, low, high):
    diff = newcombe_diff(a, na, b, nb)
    assert (diff.delta, diff.low, diff.high) == pytest.approx((delta, low, high), abs=5e-5)
    assert diff.significant == (low > 0 or high < 0)


def test_base_zero_gives_no_difference_and_an_uninformative_interval():
    for args in [(0, 0, 3, 10), (3, 10, 0, 0), (0, 0, 0, 0)]:
        diff = newcombe_diff(*args)
        assert diff == Diff(None, -1.0, 1.0, False)
        assert diff.pp() == (None, -100.0, 100.0)
        assert diff_p_value(*args) == 1.0


def test_newcombe_rejects_impossible_counts():
    with pytest.raises(ValueError, match="count 11 and base 10"):
        newcombe_diff(1, 2, 11, 10)


def test_pp_rounds_to_percentage_points_and_never_gives_negative_zero():
    assert newcombe_diff(56, 70, 48, 80).pp() == (20.0, 5.24, 33.39)
    assert newcombe_diff(56, 70, 48, 80).pp(1) == (20.0, 5.2, 33.4)
    tiny = Diff(-1e-9, -0.5, 0.25, False).pp()
    assert json.dumps(tiny) == "[0.0, -50.0, 25.0]"


@st.composite
def proportions(draw, max_base=2000):
    base = draw(st.integers(1, max_base))
    return draw(st.integers(0, base)), base


@given(proportions(), proportions())
def test_interval_contains_estimate_and_stays_in_range(a, b):
    diff = newcombe_diff(*a, *b)
    assert -1.0 <= diff.low <= diff.delta <= diff.high <= 1.0
    assert diff.significant == (diff.low > 0 or diff.high < 0)


@given(proportions(), proportions())
def test_swapping_sides_flips_the_sign(a, b):
    ab, ba = newcombe_diff(*a, *b), newcombe_diff(*b, *a)
    assert ba.delta == pytest.approx(-ab.delta, abs=1e-12)
    assert ba.low == pytest.approx(-ab.high, abs=1e-12)
    assert ba.high == pytest.approx(-ab.low, abs=1e-12)
    assert ba.significant == ab.significant
    assert diff_p_value(*b, *a) == pytest.approx(diff_p_value(*a, *b), abs=1e-9)


@given(proportions(200), proportions(200), st.integers(2, 20))
def test_larger_bases_at_the_same_proportions_give_a_narrower_interval(a, b, k):
    small = newcombe_diff(*a, *b)
    large = newcombe_diff(a[0] * k, a[1] * k, b[0] * k, b[1] * k)
    assert large.delta == pytest.approx(small.delta, abs=1e-12)
    assert large.high - large.low <= small.high - small.low + 1e-12
    assert large.low >= small.low - 1e-12 and large.high <= small.high + 1e-12


def test_larger_bases_narrow_strictly_away_from_the_bounds():
    small, large = newcombe_diff(56, 70, 48, 80), newcombe_diff(560, 700, 480, 800)
    assert large.high - large.low < (small.high - small.low) / 2
    assert not newcombe_diff(3, 10, 2, 10).significant
    assert newcombe_diff(300, 1000, 200, 1000).significant


@given(proportions(), proportions())
def test_p_value_agrees_with_the_interval_at_95_and_99(a, b):
    p = diff_p_value(*a, *b)
    assert 0.0 <= p <= 1.0
    for z, alpha in [(Z95, 0.05), (Z99, 0.01)]:
        if abs(p - alpha) > 1e-6:  # bisection precision at the boundary
            assert (p < alpha) == newcombe_diff(*a, *b, z).significant


def test_p_value_is_close_to_the_pooled_z_test_for_moderate_counts():
    a, na, b, nb = 56, 70, 48, 80
    pooled = (a + b) / (na + nb)
    z = (a / na - b / nb) / math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    assert diff_p_value(a, na, b, nb) == pytest.approx(math.erfc(z / math.sqrt(2)), rel=0.1)
    assert diff_p_value(3, 10, 3, 10) == 1.0
    assert diff_p_value(10_000, 10_000, 0, 10_000) == 0.0


def test_holm_and_bh_hand_computed():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04, then running max
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # sorted times 4/1, 4/2, 4/3, 4/4 = 0.02, 0.02, 0.04, 0.04, then running min from the top
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # capped at 1, ties kept, and a single value is left alone
    assert holm([0.6, 0.6, 0.9]) == pytest.approx([1.0, 1.0, 1.0])
    assert benjamini_hochberg([0.6, 0.6, 0.9]) == pytest.approx([0.9, 0.9, 0.9])
    assert holm([0.2]) == [0.2] and benjamini_hochberg([0.2]) == [0.2]
    assert holm([]) == [] and benjamini_hochberg([]) == []


@given(st.lists(st.floats(0.0, 1.0), max_size=30))
def test_adjusted_p_values_are_monotone_and_ordered(p):
    h, q = holm(p), benjamini_hochberg(p)
    for raw, adj_h, adj_q in zip(p, h, q, strict=True):
        assert raw <= adj_q <= adj_h <= 1.0
    order = sorted(range(len(p)), key=p.__getitem__)
    assert [h[i] for i in order] == sorted(h)
    assert [q[i] for i in order] == sorted(q)


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan])
def test_adjustments_reject_values_outside_0_to_1(bad):
    for adjust in (holm, benjamini_hochberg):
        with pytest.raises(ValueError, match="p-value"):
            adjust([0.1, bad])
