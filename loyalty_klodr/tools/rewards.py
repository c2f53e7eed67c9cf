"""Rewards catalogue: eligibility of a member for a reward, discount and point/money conversions.

Pure: the models turn a ``klodr.reward`` and a ``klodr.member`` into :class:`Reward`
and :class:`MemberContext`, call these functions and act on the result.

Eligibility answers with the error codes of the REST contract (API.md) and nothing
else, so a client written against the contract understands every answer. A code
that covers several situations says which in ``Refusal.details["reason"]``:

- ``reward_unavailable``: ``inactive`` (archived reward), ``not_started`` /
  ``ended`` (outside the date window), ``other_program``, and ``limit_reached``
  (the member already received the reward ``limit_per_member`` times: API.md has
  no code of its own for it, and a new value in ``reason`` would surprise clients
  that switch on the documented codes);
- ``insufficient_points``: ``negative_balance`` (a refund took the balance below
  zero: redemptions are blocked until it is positive again) or ``not_enough``.

Checks run from the most fundamental to the most circumstantial: member_inactive,
reward_unavailable (archived, date window, program), tier_restricted, out_of_stock,
reward_unavailable (per-member limit), insufficient_points (negative balance),
below_minimum_redemption, insufficient_points, exceeds_max_redemption. A negative
balance is reported before the program minimum because it is the real reason a
member cannot redeem (and stays true whatever the minimum is).
"""
import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

DISCOUNT_FIXED = "discount_fixed"
DISCOUNT_PERCENT = "discount_percent"
PRODUCT = "product"  # a catalogue product delivered to the member
FREE_PRODUCT = "free_product"  # a product given free on the order at checkout
CASHBACK = "cashback"  # store credit (money)
VOUCHER = "voucher"  # a code from an imported pool (partner gift cards)
DONATION = "donation"
REWARD_TYPES = (DISCOUNT_FIXED, DISCOUNT_PERCENT, PRODUCT, FREE_PRODUCT, CASHBACK, VOUCHER, DONATION)
# Rewards that reduce the order being paid: only they count against the share of an
# order payable with points (``max_redeem_share``).
ORDER_REWARD_TYPES = frozenset({DISCOUNT_FIXED, DISCOUNT_PERCENT, FREE_PRODUCT})

UNLIMITED = -1

MEMBER_INACTIVE = "member_inactive"
REWARD_UNAVAILABLE = "reward_unavailable"
TIER_RESTRICTED = "tier_restricted"
OUT_OF_STOCK = "out_of_stock"
BELOW_MINIMUM_REDEMPTION = "below_minimum_redemption"
INSUFFICIENT_POINTS = "insufficient_points"
EXCEEDS_MAX_REDEMPTION = "exceeds_max_redemption"
ERROR_CODES = (MEMBER_INACTIVE, REWARD_UNAVAILABLE, TIER_RESTRICTED, OUT_OF_STOCK,
               BELOW_MINIMUM_REDEMPTION, INSUFFICIENT_POINTS, EXCEEDS_MAX_REDEMPTION)

CENT = Decimal("0.01")
_CODE_HEADERS = frozenset({"code", "codes", "voucher", "voucher code", "voucher_code"})


class Refusal(str):
    """An API error code (it *is* the string: ``refusal == "out_of_stock"``) with its details.

    ``details`` is the ``details`` object of the API error: ``reason`` names the precise
    situation when the code covers several, with the numbers that explain it.
    """

    __slots__ = ("details",)

    def __new__(cls, code, **details):
        if code not in ERROR_CODES:
            raise ValueError(f"unknown eligibility code {code!r}")
        refusal = super().__new__(cls, code)
        refusal.details = details
        return refusal

    @property
    def code(self):
        return str(self)

    @property
    def reason(self):
        return self.details.get("reason", str(self))

    def __repr__(self):
        return f"Refusal({str(self)!r}, **{self.details!r})"


@dataclass(frozen=True)
class Reward:
    reward_type: str
    points_cost: int
    value: Decimal = Decimal(0)  # money value; 0: worth its points (points_cost x point_value)
    discount_percent: Decimal = Decimal(0)
    max_discount: Decimal | None = None  # cap of a percentage discount; None or 0: no cap
    active: bool = True
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    min_tier_rank: int | None = None  # None: every member, whatever the tier
    stock: int | None = UNLIMITED  # None or -1: unlimited
    limit_per_member: int = 0  # 0: unlimited
    program_id: int | None = None


@dataclass(frozen=True)
class MemberContext:
    state: str = "active"
    balance: int = 0
    spendable: int = 0  # balance less the points held by pending redemptions
    tier_rank: int | None = None  # None: no tier yet (ranks below every tier)
    issued_count: int = 0  # this reward given to this member and not cancelled
    program_id: int | None = None


def _decimal(value):
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise TypeError(f"not an amount: {value!r}")
    return Decimal(str(value))


def round_money(amount, rounding=CENT, method=ROUND_HALF_UP):
    """``amount`` rounded to a multiple of the currency's ``rounding`` (0.01, 0.05, 1...)."""
    amount, rounding = _decimal(amount), _decimal(rounding)
    if rounding <= 0:
        raise ValueError("the currency rounding must be positive")
    return (amount / rounding).quantize(Decimal(1), rounding=method) * rounding


def tier_rank(ladder_keys, tier_key):
    """Rank (0 = lowest) of ``tier_key`` among ``ladder_keys``.

    Keys are tuples that sort tiers from the lowest up, such as
    ``(threshold_points, threshold_amount, sequence, id)``; None for None.
    """
    if tier_key is None:
        return None
    return sorted(set(ladder_keys) | {tier_key}).index(tier_key)


def is_unlimited(stock):
    return stock is None or stock == UNLIMITED


def discount_amount(reward, order_amount, currency_rounding=CENT):
    """Money the reward takes off an order of ``order_amount`` (never more than the order).

    Fixed discounts and free products take their value; a percentage takes its share
    of the order, capped by ``max_discount``, rounded half-up to the currency. Rewards
    that do not reduce the order (product delivered, cashback, voucher, donation) take 0.
    """
    order_amount = _decimal(order_amount)
    if order_amount < 0:
        raise ValueError("the order amount cannot be negative")
    if reward.reward_type not in ORDER_REWARD_TYPES:
        return round_money(0, currency_rounding)
    if reward.reward_type == DISCOUNT_PERCENT:
        percent = _decimal(reward.discount_percent)
        if not 0 <= percent <= 100:
            raise ValueError("a discount percentage is between 0 and 100")
        amount = round_money(order_amount * percent / 100, currency_rounding)
        cap = reward.max_discount
        if cap is not None and _decimal(cap) > 0:
            amount = min(amount, _decimal(cap))
    else:
        amount = _decimal(reward.value)
        if amount < 0:
            raise ValueError("a reward's value cannot be negative")
    return round_money(min(amount, order_amount), currency_rounding)


def reward_value(reward, point_value=Decimal(0), order_amount=None, currency_rounding=CENT):
    """Money value of the reward: on an order, what it takes off it; else its value
    (or, when it has none, what its points are worth)."""
    if order_amount is not None and reward.reward_type in ORDER_REWARD_TYPES:
        return discount_amount(reward, order_amount, currency_rounding)
    value = _decimal(reward.value or 0)
    if not value:
        value = amount_for_points(reward.points_cost, point_value, currency_rounding)
    return round_money(value, currency_rounding)


def max_redeemable_amount(order_amount, max_redeem_share, currency_rounding=CENT):
    """The most of an order that points may pay (rounded down to the currency)."""
    order_amount, share = _decimal(order_amount), _decimal(max_redeem_share)
    if order_amount < 0:
        raise ValueError("the order amount cannot be negative")
    return round_money(order_amount * share / 100, currency_rounding, ROUND_FLOOR)


def amount_for_points(points, point_value, currency_rounding=CENT):
    """Money ``points`` are worth, rounded down: the member never gets more than the points are worth."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise ValueError("points are a whole number, zero or more")
    point_value = _decimal(point_value)
    if point_value < 0:
        raise ValueError("a point's value cannot be negative")
    return round_money(points * point_value, currency_rounding, ROUND_FLOOR)


def points_for_amount(amount, point_value):
    """Points needed to pay ``amount``, rounded up: they are always worth at least the amount."""
    amount, point_value = _decimal(amount), _decimal(point_value)
    if amount < 0:
        raise ValueError("the amount cannot be negative")
    if point_value <= 0:
        raise ValueError("points without value cannot pay an amount")
    return int((amount / point_value).to_integral_value(rounding=ROUND_CEILING))


def check_eligibility(reward, member, today, order_amount=None, point_value=Decimal(0), min_redeem_balance=0,
                      max_redeem_share=Decimal(100), currency_rounding=CENT, check_points=True):
    """None when ``member`` may receive ``reward`` on ``today``, else the :class:`Refusal` saying why.

    :param order_amount: the order the reward applies to, when known: a reward that
        reduces it may take at most ``max_redeem_share`` percent of it.
    :param check_points: False to check only the reward's own conditions (tier,
        stock, dates, limit), as when the points are debited elsewhere.
    """
    if member.state != "active":
        return Refusal(MEMBER_INACTIVE, reason=member.state)
    if not reward.active:
        return Refusal(REWARD_UNAVAILABLE, reason="inactive")
    if reward.date_from and today < reward.date_from:
        return Refusal(REWARD_UNAVAILABLE, reason="not_started", date_from=reward.date_from.isoformat())
    if reward.date_to and today > reward.date_to:
        return Refusal(REWARD_UNAVAILABLE, reason="ended", date_to=reward.date_to.isoformat())
    if reward.program_id and member.program_id and reward.program_id != member.program_id:
        return Refusal(REWARD_UNAVAILABLE, reason="other_program")
    if reward.min_tier_rank is not None and (member.tier_rank is None or member.tier_rank < reward.min_tier_rank):
        return Refusal(TIER_RESTRICTED)
    if not is_unlimited(reward.stock) and reward.stock <= 0:
        return Refusal(OUT_OF_STOCK)
    if reward.limit_per_member and member.issued_count >= reward.limit_per_member:
        return Refusal(REWARD_UNAVAILABLE, reason="limit_reached", limit=reward.limit_per_member,
                       used=member.issued_count)
    if not check_points:
        return None
    if member.balance < 0:
        return Refusal(INSUFFICIENT_POINTS, reason="negative_balance", needed=reward.points_cost,
                       spendable=0, balance=member.balance)
    spendable = max(member.spendable, 0)
    if spendable < min_redeem_balance:
        return Refusal(BELOW_MINIMUM_REDEMPTION, minimum=min_redeem_balance, spendable=spendable)
    if spendable < reward.points_cost:
        return Refusal(INSUFFICIENT_POINTS, reason="not_enough", needed=reward.points_cost, spendable=spendable)
    if order_amount is not None and reward.reward_type in ORDER_REWARD_TYPES:
        value = reward_value(reward, point_value, order_amount, currency_rounding)
        maximum = max_redeemable_amount(order_amount, max_redeem_share, currency_rounding)
        if value > maximum:
            return Refusal(EXCEEDS_MAX_REDEMPTION, value=str(value), maximum=str(maximum))
    return None


def parse_codes(text):
    """Voucher codes from pasted text or a CSV file: the first column of each line.

    Blank lines, surrounding spaces and quotes, a ``code`` header and repeats are
    dropped; the order of first appearance is kept.
    """
    codes = []
    seen = set()
    first = True
    for row in csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))):
        code = row[0].strip().strip("\"'").strip() if row else ""
        if not code:
            continue
        if first and code.lower() in _CODE_HEADERS:
            first = False
            continue
        first = False
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes
