"""FIFO allocation: unit and property tests (no database)."""
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools.fifo import Lot, allocate_fifo, lot_order_key

lots_strategy = st.lists(
    st.builds(
        Lot,
        id=st.integers(min_value=1, max_value=10**6),
        remaining=st.integers(min_value=0, max_value=10**5),
        expiry_date=st.one_of(st.none(), st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1))),
    ),
    max_size=30,
    unique_by=lambda lot: lot.id,
)


def test_earliest_expiry_first_then_never_expiring():
    lots = [
        Lot(1, 100, None),
        Lot(2, 50, date(2026, 6, 1)),
        Lot(3, 30, date(2026, 2, 1)),
        Lot(4, 30, date(2026, 2, 1)),
    ]
    assert allocate_fifo(lots, 70) == ([(3, 30), (4, 30), (2, 10)], 0)
    assert allocate_fifo(lots, 250) == ([(3, 30), (4, 30), (2, 50), (1, 100)], 40)


def test_empty_lots_are_skipped():
    assert allocate_fifo([Lot(1, 0, date(2026, 1, 1)), Lot(2, 5)], 3) == ([(2, 3)], 0)
    assert allocate_fifo([], 3) == ([], 3)


@pytest.mark.parametrize("points", [0, -1, 1.5, True, "3"])
def test_bad_amounts_refused(points):
    with pytest.raises((ValueError, TypeError)):
        allocate_fifo([Lot(1, 5)], points)


@given(lots_strategy, st.integers(min_value=1, max_value=10**6))
def test_allocation_properties(lots, points):
    allocations, shortfall = allocate_fifo(lots, points)
    by_id = {lot.id: lot for lot in lots}
    # conservation: what is taken plus what is missing is what was asked
    assert sum(p for _, p in allocations) + shortfall == points
    assert shortfall >= 0
    # never more than a lot holds, never zero, each lot once
    assert all(0 < p <= by_id[lot_id].remaining for lot_id, p in allocations)
    assert len({lot_id for lot_id, _ in allocations}) == len(allocations)
    # a shortfall only when every lot is emptied
    if shortfall:
        assert sum(lot.remaining for lot in lots if lot.remaining > 0) == points - shortfall
    # consumption order: lots taken in expiry order, and only the last one partially
    keys = [lot_order_key(by_id[lot_id]) for lot_id, _ in allocations]
    assert keys == sorted(keys)
    for lot_id, p in allocations[:-1]:
        assert p == by_id[lot_id].remaining
    # no lot expiring earlier than a consumed lot is left with points
    if allocations:
        last_key = keys[-1]
        taken = {lot_id for lot_id, _ in allocations}
        assert not [lot for lot in lots
                    if lot.remaining > 0 and lot.id not in taken and lot_order_key(lot) < last_key]


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=20))
def test_same_day_lots_consumed_by_age(points, count):
    day = date(2026, 1, 1)
    lots = [Lot(i, 10, day + timedelta(days=0)) for i in range(count, 0, -1)]
    allocations, _ = allocate_fifo(lots, points)
    assert [lot_id for lot_id, _ in allocations] == sorted(lot_id for lot_id, _ in allocations)
