"""Liability accounting, pure part: unit and property tests (no database)."""
import random
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools.liability import (
    KINDS,
    Entry,
    age_by_expiry_month,
    cumulative_amounts,
    group_entries,
    journal_lines,
    movement_schedule,
    reconcile,
    round_money,
    unit_value,
)

D = Decimal
ENTRY_TYPES = ["earn", "bonus", "redeem", "expire", "refund", "reversal", "adjust"]


def test_worked_example_amounts():
    # ₹10,000 sale earns 100 points worth ₹1, 80 % expected to be redeemed; 50 redeemed, 50 expire.
    unit = unit_value(D("1"), D("80"))
    assert unit == D("0.8")
    issue, redeem, expire = cumulative_amounts([100, -50, -50], unit)
    assert (issue, redeem, expire) == (D("80.00"), D("-40.00"), D("-40.00"))
    assert journal_lines("issue", issue) == [("liability", 0, D("80.00")), ("issue", D("80.00"), 0)]
    assert journal_lines("redemption", redeem) == [("liability", D("40.00"), 0), ("release", 0, D("40.00"))]
    assert journal_lines("expiry", expire) == [("liability", D("40.00"), 0), ("breakage", 0, D("40.00"))]


def test_unit_value_bounds():
    assert unit_value(0.25, 100) == D("0.25")
    with pytest.raises(ValueError):
        unit_value(1, 101)
    with pytest.raises(ValueError):
        unit_value(-1, 50)


def test_cumulative_rounding_never_drifts():
    # a third of a paisa per point: rounding each group alone would drift
    unit = D("1") / 3
    amounts = cumulative_amounts([1] * 10, unit)
    assert sum(amounts) == round_money(10 * unit)
    assert set(amounts) <= {D("0.33"), D("0.34")}


def test_group_entries_by_day_and_kind():
    d1, d2 = date(2025, 1, 1), date(2025, 1, 2)
    entries = [Entry(5, d2, "earn", 10), Entry(1, d1, "earn", 5), Entry(2, d1, "bonus", 3),
               Entry(3, d1, "redeem", -4), Entry(4, d1, "refund", -1)]
    groups = group_entries(entries)
    assert [(g.day, g.kind, g.points, g.entry_ids) for g in groups] == [
        (d1, "issue", 8, (1, 2)), (d1, "redemption", -4, (3,)), (d1, "refund", -1, (4,)),
        (d2, "issue", 10, (5,))]


def test_zero_amount_has_no_lines_and_unknown_kind_fails():
    assert journal_lines("issue", D("0.00")) == []
    with pytest.raises(ValueError):
        journal_lines("gift", D("1"))


def test_reversal_and_refund_counter_accounts():
    assert journal_lines("reversal", D("5")) == [("liability", 0, D("5")), ("release", D("5"), 0)]
    assert journal_lines("refund", D("-5")) == [("liability", D("5"), 0), ("issue", 0, D("5"))]


def test_movement_schedule():
    schedule = movement_schedule(100, [("earn", 50), ("bonus", 5), ("redeem", -30), ("expire", -10),
                                       ("refund", -5), ("reversal", 30), ("adjust", -2)])
    assert schedule == {"opening": 100, "issued": 55, "redeemed": -30, "expired": -10, "reversed": 25,
                        "adjusted": -2, "closing": 138}


def test_ageing_buckets_and_debts():
    buckets = age_by_expiry_month(
        [(date(2025, 3, 31), 10), (date(2025, 3, 2), 5), (date(2025, 1, 15), 7), (None, -4), (None, 0)],
        D("0.25"))
    assert [(b.month, b.points, b.amount) for b in buckets] == [
        (date(2025, 1, 1), 7, D("1.75")), (date(2025, 3, 1), 15, D("3.75")), (None, -4, D("-1.00"))]


def test_reconcile():
    assert reconcile(100, D("0.8"), D("80")) == (D("80.00"), D("0.00"))
    assert reconcile(100, D("0.8"), D("79.99")) == (D("80.00"), D("-0.01"))


points = st.integers(min_value=-10**6, max_value=10**6)
units = st.integers(min_value=0, max_value=10**6).map(lambda n: D(n) / 10000)  # 0 to 100.0000


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared CI machine can be slow
@given(st.lists(points, max_size=30), units, st.integers(min_value=-10**6, max_value=10**7))
def test_cumulative_sum_is_exact_and_each_close(points_list, unit, posted):
    amounts = cumulative_amounts(points_list, unit, posted)
    assert sum(amounts, D(0)) == round_money((posted + sum(points_list)) * unit) - round_money(posted * unit)
    for p, amount in zip(points_list, amounts, strict=True):
        assert abs(amount - p * unit) <= D("0.01")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared CI machine can be slow
@given(st.lists(st.tuples(st.sampled_from(KINDS), points)))
def test_journal_lines_balance(kinds_points):
    for kind, p in kinds_points:
        lines = journal_lines(kind, D(p) / 100)
        assert sum(d for _r, d, _c in lines) == sum(c for _r, _d, c in lines)
        assert all(d >= 0 and c >= 0 for _r, d, c in lines)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared CI machine can be slow
@given(st.lists(st.tuples(st.sampled_from(ENTRY_TYPES), points)), st.integers(-10**6, 10**6))
def test_schedule_closes(movements, opening):
    schedule = movement_schedule(opening, movements)
    assert schedule["closing"] == opening + sum(p for _t, p in movements)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared CI machine can be slow
@given(st.lists(st.tuples(st.one_of(st.none(), st.dates(date(2024, 1, 1), date(2030, 12, 31))),
                          st.integers(-1000, 10**6))), units)
def test_ageing_adds_up_to_the_reconciled_amount(lots, unit):
    buckets = age_by_expiry_month(lots, unit)
    total = sum(p for _d, p in lots)
    assert sum(b.points for b in buckets) == total
    assert sum((b.amount for b in buckets), D(0)) == reconcile(total, unit, 0)[0]
    months = [b.month for b in buckets]
    dated = [m for m in months if m]
    assert dated == sorted(dated) and months[len(dated):] == [None] * (len(months) - len(dated))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared CI machine can be slow
@given(st.lists(st.tuples(st.integers(1, 10**6), st.dates(date(2024, 1, 1), date(2024, 12, 31)),
                          st.sampled_from(ENTRY_TYPES), points), unique_by=lambda t: t[0]))
def test_groups_partition_the_entries(rows):
    entries = [Entry(*row) for row in rows]
    groups = group_entries(entries)
    ids = [i for g in groups for i in g.entry_ids]
    assert sorted(ids) == sorted(e.id for e in entries)
    assert sum(g.points for g in groups) == sum(e.points for e in entries)
    assert len({(g.day, g.kind) for g in groups}) == len(groups)


def test_random_ledger_posted_in_batches_reconciles_to_the_paisa():
    """1,000 random ledger operations posted by runs of random size: the liability booked always
    equals round(points outstanding × unit), so the reconciliation differs by 0.00."""
    rng = random.Random(11)
    unit = unit_value(D("0.3333"), D("77"))
    entries = [Entry(i, date(2025, 1, rng.randint(1, 28)), rng.choice(ENTRY_TYPES),
                     rng.choice([-1, 1]) * rng.randint(1, 500)) for i in range(1, 1001)]
    posted, booked, start = 0, D(0), 0
    while start < len(entries):
        size = rng.randint(1, 150)
        groups = group_entries(entries[start:start + size])
        amounts = cumulative_amounts([g.points for g in groups], unit, posted)
        for group, amount in zip(groups, amounts, strict=True):
            booked += sum((credit - debit for role, debit, credit in journal_lines(group.kind, amount)
                           if role == "liability"), D(0))
            posted += group.points
        start += size
        assert reconcile(posted, unit, booked)[1] == 0
    assert posted == sum(e.points for e in entries)
