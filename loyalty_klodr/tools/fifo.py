"""FIFO allocation of a debit over a member's open lots.

A lot is a positive ledger entry; what remains in it is its points less the
allocations already made from it. A debit (redeem, expire, refund, ...)
consumes lots that expire first, then lots that never expire, oldest first.
"""
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Lot:
    id: int
    remaining: int
    expiry_date: date | None = None


def lot_order_key(lot):
    """Earliest expiry first; lots that never expire last; then by age (id)."""
    return (lot.expiry_date is None, lot.expiry_date or date.max, lot.id)


def allocate_fifo(lots, points):
    """Spread ``points`` (> 0) over ``lots``.

    :return: ``(allocations, shortfall)`` where allocations is a list of
        ``(lot_id, points)`` with points > 0 in consumption order and
        shortfall is what the lots could not cover (0 when they suffice).
    """
    if isinstance(points, bool) or not isinstance(points, int):
        raise TypeError("points must be an integer")
    if points <= 0:
        raise ValueError("points to allocate must be positive")
    allocations = []
    left = points
    for lot in sorted(lots, key=lot_order_key):
        if left == 0:
            break
        if lot.remaining <= 0:
            continue
        take = min(lot.remaining, left)
        allocations.append((lot.id, take))
        left -= take
    return allocations, left
