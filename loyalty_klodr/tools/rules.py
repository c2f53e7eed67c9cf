"""Earn rule evaluation: from an order (or an event) and a member to points, with a breakdown.

Pure: the models turn records into these dataclasses (counters for caps, whether
the member's partner is in each rule's segment), call :func:`evaluate` and write
the ledger entries it describes.

Semantics (the demo program of API.md is one instance of them):
- a rule applies when all its conditions hold (date range, days of week, stores,
  tiers, segment, minimum amount) and its caps are not reached;
- an ``exclusive`` rule that applies is the only base rule that counts (the first
  by sequence when several do); campaigns still layer on top;
- rules marked ``tier_multiplied`` are multiplied by the member's tier multiplier
  (rounded down), others (bonus bands, events) are not;
- campaigns add ``multiplier - 1`` times the points of the rules they cover and a
  fixed bonus, as separate lines: the base rules are never changed.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

KIND_AMOUNT = "amount"  # N points per X of eligible amount
KIND_FIXED = "fixed"  # N points per order
KIND_BANDS = "bands"  # amount ranges -> points
KIND_PER_UNIT = "per_unit"  # N points per unit of matching products
KIND_EVENT = "event"  # sign-up, birthday, check-in, review, custom events...
KINDS = (KIND_AMOUNT, KIND_FIXED, KIND_BANDS, KIND_PER_UNIT, KIND_EVENT)

ROUNDINGS = {"down": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "up": ROUND_CEILING}
CAP_TIMES = "times"
CAP_POINTS = "points"


class RuleError(ValueError):
    """An evaluation refused as a whole, with an API error code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Line:
    amount: Decimal
    quantity: Decimal = Decimal(1)
    product: str | None = None
    categories: frozenset = frozenset()


@dataclass(frozen=True)
class Order:
    amount: Decimal
    when: datetime  # local time of the store
    lines: tuple = ()
    store: str | None = None
    promo_codes: frozenset = frozenset()


@dataclass(frozen=True)
class Event:
    name: str
    when: datetime
    store: str | None = None


@dataclass(frozen=True)
class Band:
    minimum: Decimal
    maximum: Decimal | None  # None: no upper bound; bounds inclusive of minimum, exclusive of maximum
    points: int


@dataclass(frozen=True)
class Caps:
    day: int = 0  # 0: no cap
    month: int = 0
    lifetime: int = 0
    unit: str = CAP_TIMES


@dataclass(frozen=True)
class Usage:
    """What a rule already gave this member: (times, points) today, this month, ever."""

    day: tuple = (0, 0)
    month: tuple = (0, 0)
    lifetime: tuple = (0, 0)


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    kind: str
    points: int = 0
    spend_unit: Decimal = Decimal(1)
    rounding: str = "down"
    bands: tuple = ()
    products: frozenset = frozenset()
    categories: frozenset = frozenset()
    event: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    weekdays: frozenset = frozenset()  # 0 = Monday; empty: every day
    stores: frozenset = frozenset()
    tiers: frozenset = frozenset()
    in_segment: bool = True
    min_amount: Decimal = Decimal(0)
    caps: Caps = field(default_factory=Caps)
    tier_multiplied: bool = True
    exclusive: bool = False
    sequence: int = 10
    entry_type: str = "earn"


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    date_from: date | None = None
    date_to: date | None = None
    multiplier: Decimal = Decimal(1)
    bonus_points: int = 0
    rule_ids: frozenset = frozenset()  # empty: every tier-multiplied rule
    promo_code: str | None = None
    promo_used: bool = False  # the member already used this campaign's code
    stores: frozenset = frozenset()
    tiers: frozenset = frozenset()
    min_amount: Decimal = Decimal(0)


@dataclass(frozen=True)
class Member:
    tier: str | None = None
    multiplier: Decimal = Decimal(1)
    usage: dict = field(default_factory=dict)  # rule id -> Usage


@dataclass(frozen=True)
class Award:
    label: str
    points: int
    entry_type: str
    rule_id: int | None = None
    campaign_id: int | None = None


@dataclass(frozen=True)
class Evaluation:
    awards: tuple

    @property
    def points(self):
        return sum(a.points for a in self.awards)

    def by_entry_type(self):
        totals = {}
        for award in self.awards:
            totals[award.entry_type] = totals.get(award.entry_type, 0) + award.points
        return {k: v for k, v in totals.items() if v}

    def breakdown(self):
        return [{"rule": a.label, "points": a.points} for a in self.awards if a.points]


def to_decimal(value):
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise ValueError("an amount is a number")
    else:
        result = Decimal(str(value))
    if not result.is_finite():
        raise ValueError("an amount is a finite number")
    return result


def _floor(value):
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _date_ok(day, date_from, date_to):
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def _line_matches(rule, line):
    if not rule.products and not rule.categories:
        return True
    return line.product in rule.products or bool(rule.categories & line.categories)


def _eligible_amount(rule, order):
    if not rule.products and not rule.categories:
        return order.amount
    return sum((line.amount for line in order.lines if _line_matches(rule, line)), Decimal(0))


def _conditions_hold(rule, when, store, tier, amount):
    day = when.date()
    return (
        _date_ok(day, rule.date_from, rule.date_to)
        and (not rule.weekdays or day.weekday() in rule.weekdays)
        and (not rule.stores or store in rule.stores)
        and (not rule.tiers or tier in rule.tiers)
        and rule.in_segment
        and (amount is None or amount >= rule.min_amount)
    )


def base_points(rule, order):
    """Points of one rule for an order, before tier multiplier and caps."""
    if rule.kind == KIND_AMOUNT:
        if rule.spend_unit <= 0:
            return 0
        raw = _eligible_amount(rule, order) / rule.spend_unit * rule.points
        return max(int(raw.to_integral_value(rounding=ROUNDINGS[rule.rounding])), 0)
    if rule.kind == KIND_FIXED:
        return rule.points
    if rule.kind == KIND_BANDS:
        for band in rule.bands:
            if order.amount >= band.minimum and (band.maximum is None or order.amount < band.maximum):
                return band.points
        return 0
    if rule.kind == KIND_PER_UNIT:
        units = sum((line.quantity for line in order.lines if _line_matches(rule, line)), Decimal(0))
        return max(_floor(units), 0) * rule.points
    return 0


def apply_caps(rule, usage, points):
    """Points left after the rule's caps, or None when a times-cap is reached."""
    caps = rule.caps
    usage = usage or Usage()
    for limit, (times, given) in ((caps.day, usage.day), (caps.month, usage.month), (caps.lifetime, usage.lifetime)):
        if not limit:
            continue
        if caps.unit == CAP_TIMES and times >= limit:
            return None
        if caps.unit == CAP_POINTS:
            points = min(points, max(limit - given, 0))
    return points


def evaluate(rules, member, order=None, event=None, campaigns=()):
    """Points for an ``order`` or an ``event`` (exactly one of them).

    :raise RuleError: ``cap_reached`` when an event's rules all hit their caps.
    """
    if (order is None) == (event is None):
        raise ValueError("evaluate an order or an event, not both")
    if order is not None and order.amount < 0:
        raise ValueError("an order amount cannot be negative")
    source = order if order is not None else event
    when, store = source.when, source.store
    amount = order.amount if order is not None else None

    def wanted_kind(rule):
        if order is not None:
            return rule.kind != KIND_EVENT
        return rule.kind == KIND_EVENT and rule.event == event.name

    candidates = [r for r in sorted(rules, key=lambda r: (r.sequence, r.id))
                  if wanted_kind(r) and _conditions_hold(r, when, store, member.tier, amount)]
    awards = []
    capped = False
    for rule in candidates:
        points = base_points(rule, order) if order is not None else rule.points
        if rule.tier_multiplied:
            points = _floor(Decimal(points) * member.multiplier)
        points = apply_caps(rule, member.usage.get(rule.id), points)
        if points is None:
            capped = True
            continue
        if points <= 0:
            continue
        award = Award(rule.name, points, rule.entry_type, rule_id=rule.id)
        if rule.exclusive:
            awards = [award]
            break
        awards.append(award)
    if event is not None and not awards and capped:
        raise RuleError("cap_reached", f"the {event.name} rules already gave all their points for now")

    for campaign in campaigns:
        if not _date_ok(when.date(), campaign.date_from, campaign.date_to):
            continue
        if campaign.stores and store not in campaign.stores:
            continue
        if campaign.tiers and member.tier not in campaign.tiers:
            continue
        if amount is not None and amount < campaign.min_amount:
            continue
        if campaign.promo_code:
            codes = order.promo_codes if order is not None else frozenset()
            if campaign.promo_used or campaign.promo_code.upper() not in {c.upper() for c in codes}:
                continue
        by_id = {r.id: r for r in candidates}
        covered = sum(a.points for a in awards if a.rule_id in by_id and (
            a.rule_id in campaign.rule_ids if campaign.rule_ids else by_id[a.rule_id].tier_multiplied))
        extra = _floor(Decimal(covered) * (campaign.multiplier - 1)) if campaign.multiplier > 1 else 0
        points = extra + (campaign.bonus_points if order is not None else 0)
        if points > 0:
            awards.append(Award(campaign.name, points, "bonus", campaign_id=campaign.id))
    return Evaluation(tuple(awards))
