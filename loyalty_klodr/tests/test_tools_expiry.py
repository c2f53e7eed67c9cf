"""Expiry dates (no database)."""
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools.expiry import is_expired, lot_expiry_date, plan_expiry_batches


@pytest.mark.parametrize(("earned", "policy", "months", "expected"), [
    (date(2026, 1, 10), "months", 12, date(2027, 1, 10)),
    (date(2026, 1, 31), "months", 1, date(2026, 2, 28)),
    (date(2024, 1, 31), "months", 1, date(2024, 2, 29)),
    (date(2026, 1, 10), "end_of_month", 1, date(2026, 2, 28)),
    (date(2026, 1, 10), "end_of_month", 12, date(2027, 1, 31)),
    (date(2026, 12, 31), "end_of_month", 2, date(2027, 2, 28)),
    (date(2026, 1, 10), "never", 0, None),
])
def test_expiry_dates(earned, policy, months, expected):
    assert lot_expiry_date(earned, policy, months) == expected


@pytest.mark.parametrize(("policy", "months"), [("months", 0), ("months", -1), ("fortnights", 2), ("months", 1.5)])
def test_bad_policy_refused(policy, months):
    with pytest.raises(ValueError):
        lot_expiry_date(date(2026, 1, 1), policy, months)


def test_spendable_through_expiry_date():
    assert not is_expired(date(2026, 1, 10), date(2026, 1, 10))
    assert is_expired(date(2026, 1, 10), date(2026, 1, 11))
    assert not is_expired(None, date(2099, 1, 1))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(min_value=1, max_value=120))
def test_expiry_is_later_and_month_end_is_last_day(earned, months):
    by_months = lot_expiry_date(earned, "months", months)
    end_of_month = lot_expiry_date(earned, "end_of_month", months)
    assert earned < by_months <= end_of_month
    assert (end_of_month.year * 12 + end_of_month.month) - (earned.year * 12 + earned.month) == months
    assert (end_of_month + timedelta(days=1)).day == 1


@settings(deadline=None)
@given(st.sets(st.integers(min_value=1, max_value=10**6), max_size=300).flatmap(
           lambda ids: st.tuples(st.just(sorted(ids)),
                                 st.lists(st.integers(min_value=1, max_value=40), min_size=len(ids),
                                          max_size=len(ids)))),
       st.integers(min_value=1, max_value=5), st.integers(min_value=1, max_value=50))
def test_expiry_batches_cover_every_lot_once_and_keep_members_together(ids_members, workers, batch_size):
    lot_ids, member_ids = ids_members
    lots = list(zip(lot_ids, member_ids, strict=True))
    plan = plan_expiry_batches(list(reversed(lots)), workers, batch_size)
    assert len(plan) == workers
    planned = [lot for share in plan for batch in share for lot in batch]
    assert sorted(planned) == sorted(lots)  # every lot, once
    worker_of = {}
    for number, share in enumerate(plan):
        flat = [lot for batch in share for lot in batch]
        assert flat == sorted(flat)  # a member's lots in id order
        assert all(0 < len(batch) <= batch_size for batch in share)
        for _lot, member in flat:
            assert worker_of.setdefault(member, number) == number  # one worker per member


@pytest.mark.parametrize(("workers", "batch_size"), [(0, 10), (2, 0), (True, 10), (2, 1.5)])
def test_expiry_batches_refuse_bad_sizes(workers, batch_size):
    with pytest.raises(ValueError):
        plan_expiry_batches([(1, 1)], workers, batch_size)
