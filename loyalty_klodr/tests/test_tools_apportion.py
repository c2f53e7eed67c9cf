"""Largest-remainder apportionment: unit and property tests (no database)."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools.apportion import apportion_by_key, largest_remainder

D = Decimal
money = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)


def test_three_gst_rates_sum_exactly():
    # 100.00 over bases 333.33 / 333.33 / 333.34: naive rounding gives 33.33 × 3 = 99.99
    parts = largest_remainder(D("100.00"), [D("333.33"), D("333.33"), D("333.34")])
    assert parts == [D("33.33"), D("33.33"), D("33.34")]
    assert sum(parts) == D("100.00")


def test_ties_go_to_larger_weight_then_earlier_position():
    assert largest_remainder(D("0.01"), [D("1"), D("1")]) == [D("0.01"), D("0.00")]
    assert largest_remainder(D("0.01"), [D("1"), D("2")]) == [D("0.00"), D("0.01")]


def test_negative_total_mirrors_positive():
    assert largest_remainder(D("-10"), [D("1"), D("2")]) == [-x for x in largest_remainder(D("10"), [1, 2])]


def test_zero_weights_and_errors():
    assert largest_remainder(D("5"), [D("0"), D("10")]) == [D("0.00"), D("5.00")]
    assert largest_remainder(0, [0, 0]) == [D("0.00"), D("0.00")]
    with pytest.raises(ValueError):
        largest_remainder(D("1"), [0, 0])
    with pytest.raises(ValueError):
        largest_remainder(D("1"), [D("-1"), D("2")])
    with pytest.raises(ValueError):
        largest_remainder(D("1"), [D("1")], rounding=0)


def test_by_key_keeps_order_and_drops_zero_bases():
    result = apportion_by_key(D("30"), {"gst5": D("100"), "exempt": D("0"), "gst18": D("200")})
    assert list(result) == ["gst5", "gst18"]
    assert result == {"gst5": D("10.00"), "gst18": D("20.00")}


@settings(deadline=None)  # a shared CI machine can be slow; the property is what counts
@given(total=money, weights=st.lists(money, min_size=1, max_size=12))
def test_parts_sum_to_total_and_stay_within_weights(total, weights):
    if sum(weights) == 0:
        return
    total = min(total, sum(weights))
    parts = largest_remainder(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        assert D(0) <= part <= weight
        # each part is within one unit of its exact share
        assert abs(part - total * weight / sum(weights)) < D("0.01")
