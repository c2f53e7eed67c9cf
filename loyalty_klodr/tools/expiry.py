"""Expiry date of a lot from the program's expiry policy."""
import calendar
from datetime import date

from dateutil.relativedelta import relativedelta

POLICY_NEVER = "never"
POLICY_MONTHS = "months"  # N months after the day it was earned
POLICY_END_OF_MONTH = "end_of_month"  # last day of the Nth month after earning
POLICIES = (POLICY_NEVER, POLICY_MONTHS, POLICY_END_OF_MONTH)


def lot_expiry_date(earned_on, policy, months=0):
    """The last day on which a lot earned on ``earned_on`` can be spent.

    ``months`` after 31 January is the last day of the target month
    (relativedelta semantics: 31 Jan + 1 month = 28/29 Feb).
    """
    if not isinstance(earned_on, date):
        raise TypeError("earned_on must be a date")
    if policy == POLICY_NEVER:
        return None
    if policy not in POLICIES:
        raise ValueError(f"unknown expiry policy {policy!r}")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError("months must be a positive integer")
    if policy == POLICY_MONTHS:
        return earned_on + relativedelta(months=months)
    target = earned_on + relativedelta(day=1, months=months)
    return target.replace(day=calendar.monthrange(target.year, target.month)[1])


def is_expired(expiry_date, today):
    """A lot is spendable through its expiry date and expired the day after."""
    return expiry_date is not None and expiry_date < today


def plan_expiry_batches(lots, workers, batch_size):
    """Split expired lots into ``workers`` lists of batches for parallel expiry runs.

    ``lots`` are ``(lot_id, member_id)`` pairs. All the lots of a member go to the
    same worker (``member_id % workers``), in lot id order: a member's hash chain is
    extended by one transaction at a time, and two workers never wait for each
    other's member locks. Each batch holds at most ``batch_size`` lots.

    :return: a list of ``workers`` lists of batches (lists of pairs); some may be empty.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError("workers must be a positive integer")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError("batch_size must be a positive integer")
    shares = [[] for _ in range(workers)]
    for lot_id, member_id in sorted(lots):
        shares[member_id % workers].append((lot_id, member_id))
    return [[share[start:start + batch_size] for start in range(0, len(share), batch_size)]
            for share in shares]
