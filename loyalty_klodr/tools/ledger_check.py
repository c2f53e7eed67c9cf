"""Invariants of the points ledger, checked on rows read from the database.

``klodr verify`` and the program's "Verify ledger" button read the rows and
feed them here; every function yields human-readable breaks naming the row.
"""
from dataclasses import dataclass

from .hashing import GENESIS, entry_hash


@dataclass(frozen=True)
class Break:
    kind: str
    model: str
    record_id: int
    message: str

    def __str__(self):
        return f"[{self.kind}] {self.model} {self.record_id}: {self.message}"


def check_chain(member_id, entries, chain_head):
    """Recompute a member's hash chain.

    :param entries: the member's entries as dicts (hashed fields plus ``id``,
        ``entry_hash`` and ``prev_hash``) in ledger order (by id).
    :param chain_head: the hash the member row says is the last one.
    """
    prev = GENESIS
    balance = 0
    for row in entries:
        if row["prev_hash"] != prev:
            yield Break("chain", "klodr.ledger.entry", row["id"],
                        f"previous hash does not match the member's preceding entry "
                        f"(an entry before it was removed, inserted or reordered; member {member_id})")
        expected = entry_hash(row["prev_hash"], row)
        if row["entry_hash"] != expected:
            yield Break("hash", "klodr.ledger.entry", row["id"],
                        f"content does not match its hash (the row was altered; member {member_id})")
        balance += row["points"]
        if row["balance_after"] != balance:
            yield Break("balance_after", "klodr.ledger.entry", row["id"],
                        f"balance_after {row['balance_after']} but the running sum is {balance}")
        prev = row["entry_hash"]
    if (chain_head or GENESIS) != prev:
        yield Break("chain_head", "klodr.member", member_id,
                    "the member's chain head is not the hash of its last entry "
                    "(its last entry was removed or the head was altered)")


@dataclass(frozen=True)
class MemberTotals:
    member_id: int
    cached_balance: int
    entries_sum: int
    lots_remaining: int  # sum over positive entries of (points - allocated)
    debt: int  # sum over negative entries of (|points| - allocated)
    held: int  # active, unexpired holds
    spendable_floor: int = 0


def check_member_totals(t):
    """cache == sum(entries) == sum(lot remainders) - unallocated debt; holds sane."""
    if t.cached_balance != t.entries_sum:
        yield Break("balance", "klodr.member", t.member_id,
                    f"cached balance {t.cached_balance} != sum of entries {t.entries_sum}")
    if t.lots_remaining - t.debt != t.entries_sum:
        yield Break("lots", "klodr.member", t.member_id,
                    f"lot remainders {t.lots_remaining} - unallocated debt {t.debt} "
                    f"!= sum of entries {t.entries_sum}")
    if t.debt > 0 and t.lots_remaining > 0:
        yield Break("debt", "klodr.member", t.member_id,
                    f"{t.debt} points of debt left unsettled while lots hold {t.lots_remaining}")
    if t.held < 0:
        yield Break("holds", "klodr.member", t.member_id, f"held points are negative ({t.held})")


def check_lot(lot_id, points, allocated):
    """A lot never gives more than it holds."""
    if points <= 0:
        yield Break("lot", "klodr.ledger.entry", lot_id,
                    f"allocations consume an entry of {points} points (not a lot)")
    elif allocated > points:
        yield Break("lot", "klodr.ledger.entry", lot_id,
                    f"over-allocated: {allocated} allocated from a lot of {points}")


def check_debit(entry_id, entry_type, points, allocated, may_owe):
    """A debit is covered by allocations, except the debt a refund may leave."""
    if points >= 0:
        yield Break("debit", "klodr.ledger.entry", entry_id,
                    f"allocations made for an entry of {points} points (not a debit)")
        return
    if allocated > -points:
        yield Break("debit", "klodr.ledger.entry", entry_id,
                    f"allocated {allocated} for a debit of {-points}")
    elif allocated < -points and not may_owe:
        yield Break("debit", "klodr.ledger.entry", entry_id,
                    f"{entry_type} of {-points} only covered by {allocated} points of lots")
