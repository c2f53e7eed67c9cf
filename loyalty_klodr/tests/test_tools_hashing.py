"""Entry hashing and ledger checks (no database)."""
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools import ledger_check
from odoo.addons.loyalty_klodr.tools.hashing import GENESIS, HASHED_FIELDS, entry_hash, expire_entry_hash

BASE = {
    "program_id": 1, "member_id": 7, "entry_type": "earn", "points": 120, "balance_after": 120,
    "date": datetime(2026, 1, 10, 9, 30, 5), "expiry_date": date(2027, 1, 10), "idempotency_key": "k1",
    "source_model": None, "source_id": None, "source_ref": "INV-1", "store_id": 3,
}


def chain(rows):
    prev, out = GENESIS, []
    for number, values in enumerate(rows, start=1):
        row = dict(values, id=number, prev_hash=prev)
        row["entry_hash"] = entry_hash(prev, row)
        prev = row["entry_hash"]
        out.append(row)
    return out


def test_hash_is_deterministic_and_covers_every_field():
    digest = entry_hash(GENESIS, BASE)
    assert len(digest) == 64
    assert digest == entry_hash(GENESIS, dict(BASE))
    for name in HASHED_FIELDS:
        changed = dict(BASE, **{name: BASE[name] + 1 if isinstance(BASE[name], int) else "x"})
        if name in ("date", "expiry_date"):
            changed[name] = date(2030, 1, 1)
        assert entry_hash(GENESIS, changed) != digest, name
    assert entry_hash("f" * 64, BASE) != digest


def test_odoo_falsy_values_hash_alike_and_microseconds_are_dropped():
    assert entry_hash(GENESIS, dict(BASE, store_id=False)) == entry_hash(GENESIS, dict(BASE, store_id=None))
    assert entry_hash(GENESIS, dict(BASE, date=BASE["date"].replace(microsecond=999))) == entry_hash(GENESIS, BASE)


@pytest.mark.parametrize("prev", ["", "abc", None, 5])
def test_bad_previous_hash_refused(prev):
    with pytest.raises(ValueError):
        entry_hash(prev, BASE)


@given(st.lists(st.integers(min_value=-500, max_value=500).filter(bool), min_size=1, max_size=15),
       st.data())
def test_any_single_alteration_is_detected(points, data):
    rows, balance = [], 0
    for p in points:
        balance += p
        rows.append(dict(BASE, points=p, balance_after=balance))
    chained = chain(rows)
    assert list(ledger_check.check_chain(7, chained, chained[-1]["entry_hash"])) == []
    victim = data.draw(st.integers(min_value=0, max_value=len(chained) - 1))
    action = data.draw(st.sampled_from(["alter", "remove", "swap"]))
    tampered = [dict(r) for r in chained]
    if action == "alter":
        tampered[victim]["points"] += 1
    elif action == "remove":
        del tampered[victim]
    elif len(tampered) > 1:
        other = (victim + 1) % len(tampered)
        tampered[victim], tampered[other] = tampered[other], tampered[victim]
    else:
        tampered[victim]["source_ref"] = "FORGED"
    assert list(ledger_check.check_chain(7, tampered, chained[-1]["entry_hash"]))


def test_member_totals_checks():
    whole = ledger_check.MemberTotals(1, cached_balance=50, entries_sum=50, lots_remaining=50, debt=0, held=10)
    assert list(ledger_check.check_member_totals(whole)) == []
    owing = ledger_check.MemberTotals(1, cached_balance=-20, entries_sum=-20, lots_remaining=0, debt=20, held=0)
    assert list(ledger_check.check_member_totals(owing)) == []
    drift = ledger_check.MemberTotals(1, cached_balance=60, entries_sum=50, lots_remaining=50, debt=0, held=0)
    assert [b.kind for b in ledger_check.check_member_totals(drift)] == ["balance"]
    both = ledger_check.MemberTotals(1, cached_balance=0, entries_sum=0, lots_remaining=20, debt=20, held=0)
    assert [b.kind for b in ledger_check.check_member_totals(both)] == ["debt"]
    assert [b.kind for b in ledger_check.check_lot(4, 10, 11)] == ["lot"]
    assert list(ledger_check.check_lot(4, 10, 10)) == []
    assert list(ledger_check.check_debit(5, "refund", -10, 4, may_owe=True)) == []
    assert [b.kind for b in ledger_check.check_debit(5, "redeem", -10, 4, may_owe=False)] == ["debit"]


@settings(deadline=None)
@given(
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    program_id=st.integers(min_value=1, max_value=2**31 - 1),
    member_id=st.integers(min_value=1, max_value=2**31 - 1),
    points=st.integers(min_value=-(10**9), max_value=-1),
    balance_after=st.integers(min_value=-(10**9), max_value=10**9),
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    lot_id=st.integers(min_value=1, max_value=2**31 - 1),
)
def test_expire_fast_hash_is_entry_hash(prev, program_id, member_id, points, balance_after, when, lot_id):
    """The expiry run's dict-free hash is byte-for-byte the general one: verify stays clean."""
    when = when.replace(microsecond=0)
    values = {
        "program_id": program_id, "member_id": member_id, "entry_type": "expire", "points": points,
        "balance_after": balance_after, "date": when, "expiry_date": None,
        "idempotency_key": f"expire:{lot_id}", "source_model": None, "source_id": None, "source_ref": None,
        "store_id": None,
    }
    assert expire_entry_hash(prev, program_id, member_id, points, balance_after,
                             when.isoformat(sep=" "), lot_id) == entry_hash(prev, values)
