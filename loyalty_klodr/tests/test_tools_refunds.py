"""Proportional refunds (no database)."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools.refunds import proportional_points


def test_half_then_the_rest_reverses_exactly():
    assert proportional_points(725, 5000, 0, 2500) == 363
    assert proportional_points(725, 5000, 2500, 2500) == 362


def test_bad_refunds_refused():
    for args in [(10, 100, 0, 0), (10, 100, 0, -1), (10, 100, 60, 50), (-1, 100, 0, 10)]:
        with pytest.raises(ValueError):
            proportional_points(*args)


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2)


@given(st.integers(min_value=0, max_value=10**6), money, st.lists(st.integers(min_value=1, max_value=100),
                                                                   min_size=1, max_size=8))
def test_any_split_of_a_full_refund_reverses_exactly_the_points(points, amount, weights):
    cents = int(amount * 100)
    parts, left = [], cents
    for weight in weights[:-1]:
        part = min(left, max(cents * weight // (sum(weights) or 1), 0))
        parts.append(part)
        left -= part
    parts.append(left)
    reversed_total, refunded = 0, Decimal(0)
    for part in (p for p in parts if p):
        step = proportional_points(points, amount, refunded, Decimal(part) / 100)
        assert step >= 0
        reversed_total += step
        refunded += Decimal(part) / 100
        assert reversed_total <= points
    assert reversed_total == points
