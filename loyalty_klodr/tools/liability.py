"""Loyalty liability accounting: the pure part (no ORM, no database).

A program values its outstanding points at ``unit`` = value per point × expected redemption
rate: the expected cost of redeeming them (cost provision, Indian GAAP) or the revenue deferred
for them (Ind AS 115 / IFRS 15, stand-alone value per point). Every ledger entry moves the
liability by its points × unit:

==========  =================  =====================================================
kind        ledger types       journal entry (liability is credit-normal)
==========  =================  =====================================================
issue       earn, bonus        Dr expense (cost) or revenue (deferred) / Cr liability
redemption  redeem             Dr liability / Cr expense (cost) or revenue (deferred)
expiry      expire             Dr liability / Cr breakage income (provision written back)
refund      refund             Dr liability / Cr the issue account (issue undone)
reversal    reversal           Dr the release account / Cr liability (redemption undone)
adjust      adjust             the issue account against the liability, either way
==========  =================  =====================================================

Rounding never drifts: amounts are cumulative differences, ``round((P + p) × unit) −
round(P × unit)`` where ``P`` is every point posted before, so the liability posted is always
``round(points posted × unit)`` to the paisa and the reconciliation differs by 0.00.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .apportion import CENT, _dec  # one coercion of amounts for both
from .rewards import round_money  # half-up to the currency unit, as Odoo rounds money

METHOD_COST = "cost"
METHOD_DEFERRED = "deferred"

KINDS = ("issue", "redemption", "expiry", "refund", "reversal", "adjust")
KIND_OF_ENTRY_TYPE = {
    "earn": "issue",
    "bonus": "issue",
    "redeem": "redemption",
    "expire": "expiry",
    "refund": "refund",
    "reversal": "reversal",
    "adjust": "adjust",
}
# The account each kind posts against the liability (program settings name them).
COUNTER_ROLE = {
    "issue": "issue",
    "refund": "issue",
    "adjust": "issue",
    "redemption": "release",
    "reversal": "release",
    "expiry": "breakage",
}


def unit_value(value_per_point, redemption_rate):
    """Money the liability holds per outstanding point: value × rate (rate in percent, 0–100)."""
    value_per_point, redemption_rate = _dec(value_per_point), _dec(redemption_rate)
    if value_per_point < 0 or not 0 <= redemption_rate <= 100:
        raise ValueError("the value per point is positive and the redemption rate a percentage")
    return value_per_point * redemption_rate / 100


@dataclass(frozen=True)
class Entry:
    """A ledger entry to post: its id, the program's day it happened on, its type and points."""

    id: int
    day: date
    entry_type: str
    points: int


@dataclass(frozen=True)
class Group:
    """The entries of one day and kind, posted as one journal entry."""

    day: date
    kind: str
    points: int
    entry_ids: tuple


def group_entries(entries):
    """Group ``entries`` by (day, kind), ordered by day then by ``KINDS``; entry ids ascending."""
    groups = defaultdict(list)
    for entry in entries:
        groups[(entry.day, KIND_OF_ENTRY_TYPE[entry.entry_type])].append(entry)
    return [
        Group(day=day, kind=kind, points=sum(e.points for e in members),
              entry_ids=tuple(sorted(e.id for e in members)))
        for (day, kind), members in sorted(groups.items(), key=lambda item: (item[0][0], KINDS.index(item[0][1])))
    ]


def cumulative_amounts(points_list, unit, posted_points=0, rounding=CENT):
    """Money for each of ``points_list`` in turn, after ``posted_points`` already posted.

    Each amount is ``round((P + p) × unit) − round(P × unit)``: within one ``rounding`` unit of
    ``p × unit``, and their sum is exactly ``round((posted + Σp) × unit) − round(posted × unit)``.
    """
    unit = _dec(unit)
    total = int(posted_points)
    before = round_money(total * unit, rounding)
    amounts = []
    for points in points_list:
        total += int(points)
        after = round_money(total * unit, rounding)
        amounts.append(after - before)
        before = after
    return amounts


def journal_lines(kind, amount):
    """The two lines of a kind's journal entry: ``[(role, debit, credit), ...]``.

    ``amount`` is the change of the liability (positive: it grows). Roles: ``liability``,
    ``issue`` (expense or revenue debited at issue), ``release`` (credited at redemption),
    ``breakage``. A zero amount has no lines.
    """
    amount = _dec(amount)
    if kind not in COUNTER_ROLE:
        raise ValueError(f"unknown kind {kind!r}")
    if not amount:
        return []
    zero = Decimal(0) * amount
    if amount > 0:
        return [("liability", zero, amount), (COUNTER_ROLE[kind], amount, zero)]
    return [("liability", -amount, zero), (COUNTER_ROLE[kind], zero, -amount)]


SCHEDULE_COLUMNS = ("opening", "issued", "redeemed", "expired", "reversed", "adjusted", "closing")
_SCHEDULE_COLUMN_OF_TYPE = {
    "earn": "issued",
    "bonus": "issued",
    "redeem": "redeemed",
    "expire": "expired",
    "refund": "reversed",
    "reversal": "reversed",
    "adjust": "adjusted",
}


def movement_schedule(opening, movements):
    """Points movement over a period: ``{opening, issued, redeemed, expired, reversed, adjusted, closing}``.

    ``movements``: ``(entry_type, points)`` of the period (points signed as in the ledger, so
    redeemed and expired are negative; reversed nets refunds of earned points against
    redemptions given back). ``closing = opening + every movement``.
    """
    schedule = dict.fromkeys(SCHEDULE_COLUMNS, 0)
    schedule["opening"] = int(opening)
    for entry_type, points in movements:
        schedule[_SCHEDULE_COLUMN_OF_TYPE[entry_type]] += int(points)
    schedule["closing"] = schedule["opening"] + sum(
        schedule[c] for c in SCHEDULE_COLUMNS if c not in ("opening", "closing"))
    return schedule


@dataclass(frozen=True)
class Bucket:
    """Outstanding points expiring in one month (``month`` is its first day; None: no expiry,
    negative: debts left by refunds) and the money they stand for."""

    month: date | None
    points: int
    amount: Decimal


def age_by_expiry_month(lots, unit, rounding=CENT):
    """Outstanding points by month of expiry, with amounts that add up to ``round(total × unit)``.

    ``lots``: ``(expiry_date or None, points)``: lot remainders (positive) and debts (negative,
    no expiry date). Buckets come soonest first, those without expiry last.
    """
    by_month = defaultdict(int)
    for expiry_date, points in lots:
        month = expiry_date.replace(day=1) if expiry_date else None
        by_month[month] += int(points)
    months = sorted((m for m in by_month if by_month[m]), key=lambda m: (m is None, m or date.min))
    amounts = cumulative_amounts([by_month[m] for m in months], unit, 0, rounding)
    return [Bucket(month=m, points=by_month[m], amount=a) for m, a in zip(months, amounts, strict=True)]


def reconcile(points, unit, balance, rounding=CENT):
    """``(expected, difference)``: the liability the ledger's ``points`` call for, and the account
    ``balance`` (credit minus debit) less it; 0.00 when the books agree with the ledger."""
    expected = round_money(int(points) * _dec(unit), rounding)
    return expected, round_money(_dec(balance), rounding) - expected
