"""Rewards: eligibility, discounts and point/money conversions (no database)."""
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools.rewards import (
    ERROR_CODES,
    MemberContext,
    Refusal,
    Reward,
    amount_for_points,
    check_eligibility,
    discount_amount,
    max_redeemable_amount,
    parse_codes,
    points_for_amount,
    round_money,
    tier_rank,
)

TODAY = date(2026, 3, 15)
D = Decimal
PROGRAM = {"point_value": D("0.25"), "min_redeem_balance": 100, "max_redeem_share": D(50)}

discount_50 = Reward("discount_fixed", 200, value=D(50), program_id=1)
member_ok = MemberContext(state="active", balance=500, spendable=500, tier_rank=0, program_id=1)


def check(reward=discount_50, member=member_ok, today=TODAY, **kwargs):
    return check_eligibility(reward, member, today, **{**PROGRAM, **kwargs})


def test_eligible():
    assert check() is None
    assert check(order_amount=D(100)) is None


@pytest.mark.parametrize(("reward", "member", "kwargs", "code", "reason"), [
    (discount_50, replace(member_ok, state="blocked"), {}, "member_inactive", "blocked"),
    (discount_50, replace(member_ok, state="erased"), {}, "member_inactive", "erased"),
    (replace(discount_50, active=False), member_ok, {}, "reward_unavailable", "inactive"),
    (replace(discount_50, date_from=date(2026, 3, 16)), member_ok, {}, "reward_unavailable", "not_started"),
    (replace(discount_50, date_to=date(2026, 3, 14)), member_ok, {}, "reward_unavailable", "ended"),
    (replace(discount_50, program_id=2), member_ok, {}, "reward_unavailable", "other_program"),
    (replace(discount_50, min_tier_rank=1), member_ok, {}, "tier_restricted", "tier_restricted"),
    (replace(discount_50, min_tier_rank=0), replace(member_ok, tier_rank=None), {}, "tier_restricted",
     "tier_restricted"),
    (replace(discount_50, stock=0), member_ok, {}, "out_of_stock", "out_of_stock"),
    (replace(discount_50, limit_per_member=2), replace(member_ok, issued_count=2), {}, "reward_unavailable",
     "limit_reached"),
    (discount_50, replace(member_ok, balance=-10, spendable=-10), {}, "insufficient_points", "negative_balance"),
    (discount_50, replace(member_ok, balance=99, spendable=99), {}, "below_minimum_redemption",
     "below_minimum_redemption"),
    (discount_50, replace(member_ok, balance=500, spendable=90), {}, "below_minimum_redemption",
     "below_minimum_redemption"),
    (discount_50, replace(member_ok, balance=199, spendable=199), {}, "insufficient_points", "not_enough"),
    (discount_50, member_ok, {"order_amount": D("99.99")}, "exceeds_max_redemption", "exceeds_max_redemption"),
    (replace(discount_50, reward_type="discount_percent", discount_percent=D(60)), member_ok,
     {"order_amount": D(1000)}, "exceeds_max_redemption", "exceeds_max_redemption"),
])
def test_each_refusal(reward, member, kwargs, code, reason):
    refusal = check(reward, member, **kwargs)
    assert refusal == code
    assert isinstance(refusal, Refusal) and refusal.code == code and refusal.reason == reason


def test_refusal_details_explain():
    refusal = check(member=replace(member_ok, balance=150, spendable=150))
    assert refusal.details == {"reason": "not_enough", "needed": 200, "spendable": 150}
    assert check(replace(discount_50, limit_per_member=1), replace(member_ok, issued_count=1)).details == {
        "reason": "limit_reached", "limit": 1, "used": 1}
    assert check(order_amount=D(60)).details == {"value": "50.00", "maximum": "30.00"}
    assert check(member=replace(member_ok, balance=10, spendable=10)).details == {"minimum": 100, "spendable": 10}


def test_refusal_is_its_code():
    refusal = Refusal("out_of_stock")
    assert refusal == "out_of_stock" and str(refusal) == "out_of_stock" and refusal.details == {}
    assert {"reason": refusal} == {"reason": "out_of_stock"}
    with pytest.raises(ValueError):
        Refusal("limit_reached")  # only the codes of API.md


def test_most_fundamental_reason_first():
    everything_wrong = replace(discount_50, active=False, min_tier_rank=3, stock=0, limit_per_member=1)
    poor_blocked = MemberContext(state="blocked", balance=-5, spendable=-5, tier_rank=0, issued_count=4)
    steps = [
        (poor_blocked, everything_wrong, "member_inactive"),
        (replace(poor_blocked, state="active"), everything_wrong, "reward_unavailable"),
        (replace(poor_blocked, state="active"), replace(everything_wrong, active=True), "tier_restricted"),
        (replace(poor_blocked, state="active", tier_rank=3), replace(everything_wrong, active=True), "out_of_stock"),
        (replace(poor_blocked, state="active", tier_rank=3), replace(everything_wrong, active=True, stock=5),
         "reward_unavailable"),
        (replace(poor_blocked, state="active", tier_rank=3, issued_count=0),
         replace(everything_wrong, active=True, stock=5), "insufficient_points"),
    ]
    for member, reward, code in steps:
        assert check(reward, member, order_amount=D(1)) == code


def test_window_bounds_are_inclusive():
    reward = replace(discount_50, date_from=TODAY, date_to=TODAY)
    assert check(reward) is None


def test_unlimited_stock_and_limits():
    for stock in (None, -1, 1):
        assert check(replace(discount_50, stock=stock)) is None
    assert check(replace(discount_50, limit_per_member=0), replace(member_ok, issued_count=99)) is None
    assert check(replace(discount_50, limit_per_member=3), replace(member_ok, issued_count=2)) is None


def test_without_points_only_the_rewards_own_conditions():
    poor = replace(member_ok, balance=-100, spendable=-100)
    assert check(member=poor, check_points=False, order_amount=D(1)) is None
    assert check(replace(discount_50, stock=0), poor, check_points=False) == "out_of_stock"


def test_order_share_applies_to_order_rewards_only():
    # a delivered product or a voucher does not pay the order: no share to respect
    for kind in ("product", "cashback", "voucher", "donation"):
        assert check(replace(discount_50, reward_type=kind, value=D(5000)), order_amount=D(10)) is None
    assert check(replace(discount_50, reward_type="free_product", value=D(80)), order_amount=D(100)) == \
        "exceeds_max_redemption"
    assert check(order_amount=D(100)) is None  # exactly 50% is allowed


def test_tier_rank():
    keys = [(0, 0, 10, 1), (1000, 0, 10, 2), (5000, 0, 10, 3)]
    assert [tier_rank(keys, k) for k in keys] == [0, 1, 2]
    assert tier_rank(keys, None) is None
    assert tier_rank(list(reversed(keys)), (5000, 0, 10, 3)) == 2
    # same threshold: the sequence decides
    assert tier_rank([(100, 0, 5, 9), (100, 0, 1, 8)], (100, 0, 1, 8)) == 0


@pytest.mark.parametrize(("reward", "order", "expected"), [
    (Reward("discount_fixed", 1, value=D(50)), D(200), D("50.00")),
    (Reward("discount_fixed", 1, value=D(50)), D("30.5"), D("30.50")),
    (Reward("discount_percent", 1, discount_percent=D(10)), D("199.95"), D("20.00")),  # 19.995 half up
    (Reward("discount_percent", 1, discount_percent=D(10)), D("199.94"), D("19.99")),
    (Reward("discount_percent", 1, discount_percent=D(20), max_discount=D(100)), D(1000), D("100.00")),
    (Reward("discount_percent", 1, discount_percent=D(20), max_discount=D(0)), D(1000), D("200.00")),
    (Reward("discount_percent", 1, discount_percent=D(100)), D("12.34"), D("12.34")),
    (Reward("free_product", 1, value=D("79.90")), D(500), D("79.90")),
    (Reward("product", 1, value=D(400)), D(500), D("0.00")),
    (Reward("voucher", 1, value=D(400)), D(500), D("0.00")),
    (Reward("discount_fixed", 1, value=D(50)), D(0), D("0.00")),
])
def test_discount_amount(reward, order, expected):
    amount = discount_amount(reward, order, D("0.01"))
    assert amount == expected and amount.as_tuple().exponent == -2


def test_discount_rounding_to_other_currencies():
    ten_percent = Reward("discount_percent", 1, discount_percent=D(10))
    assert discount_amount(ten_percent, D("123.75"), D("0.05")) == D("12.40")  # 12.375 -> 12.40
    assert discount_amount(ten_percent, D("125"), D(1)) == D(13)  # 12.5 -> 13
    assert discount_amount(ten_percent, D("125"), D("0.001")) == D("12.500")


def test_bad_amounts_refused():
    with pytest.raises(ValueError):
        discount_amount(discount_50, D(-1))
    with pytest.raises(ValueError):
        discount_amount(Reward("discount_percent", 1, discount_percent=D(101)), D(10))
    with pytest.raises(ValueError):
        points_for_amount(D(10), D(0))
    with pytest.raises(ValueError):
        amount_for_points(-1, D("0.25"))
    with pytest.raises(ValueError):
        amount_for_points(1.5, D("0.25"))
    with pytest.raises(ValueError):
        round_money(D(1), D(0))


def test_points_and_money():
    assert amount_for_points(200, D("0.25")) == D("50.00")
    assert amount_for_points(3, D("0.333")) == D("0.99")  # 0.999 rounded down
    assert points_for_amount(D(50), D("0.25")) == 200
    assert points_for_amount(D("50.01"), D("0.25")) == 201
    assert points_for_amount(D(0), D("0.25")) == 0
    assert max_redeemable_amount(D("99.99"), D(50)) == D("49.99")


@pytest.mark.parametrize(("text", "codes"), [
    ("AB-1\nAB-2\n\n  AB-3  \nAB-1\n", ["AB-1", "AB-2", "AB-3"]),
    ("code,expires\nGC100,2027-01-01\n\"GC101\",2027-01-01\r\nGC102\r\n", ["GC100", "GC101", "GC102"]),
    ("\ufeffCode\nX1\ncode\n", ["X1", "code"]),  # only the first line can be a header
    ("", []),
])
def test_parse_codes(text, codes):
    assert parse_codes(text) == codes


# ---------------------------------------------------------------- properties
money = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
point_values = st.decimals(min_value=D("0.01"), max_value=100, places=2, allow_nan=False, allow_infinity=False)


@given(money, st.decimals(min_value=0, max_value=100, places=2), st.one_of(st.none(), money))
def test_percent_discount_never_exceeds_order_or_cap(order, percent, cap):
    reward = Reward("discount_percent", 1, discount_percent=percent, max_discount=cap)
    amount = discount_amount(reward, order)
    assert D(0) <= amount <= order
    if cap:
        assert amount <= cap
    assert amount == amount.quantize(D("0.01"))
    assert abs(amount - min(order * percent / 100, cap or order)) <= D("0.005")


@given(money, money)
def test_fixed_discount_is_value_capped_by_order(order, value):
    assert discount_amount(Reward("discount_fixed", 1, value=value), order) == min(order, value)


@given(st.integers(min_value=0, max_value=10**9), point_values)
def test_points_never_worth_more_than_their_value(points, point_value):
    amount = amount_for_points(points, point_value)
    assert amount <= points * point_value < amount + D("0.01")
    assert points_for_amount(amount, point_value) <= points


@given(money, point_values)
def test_points_for_amount_pay_at_least_the_amount(amount, point_value):
    points = points_for_amount(amount, point_value)
    assert points * point_value >= amount
    assert (points - 1) * point_value < amount or points == 0
    assert amount_for_points(points, point_value) >= amount


@given(st.integers(min_value=-1000, max_value=10**6), st.integers(min_value=-1000, max_value=10**6),
       st.integers(min_value=0, max_value=10**4), st.integers(min_value=1, max_value=10**4))
def test_eligible_means_every_condition_holds(balance, spendable, minimum, cost):
    assume(spendable <= balance)
    member = replace(member_ok, balance=balance, spendable=spendable)
    reward = replace(discount_50, points_cost=cost)
    refusal = check(reward, member, min_redeem_balance=minimum)
    assert refusal is None or refusal in ERROR_CODES
    assert (refusal is None) == (balance >= 0 and spendable >= minimum and spendable >= cost)


@given(st.lists(st.text(alphabet="ABCXYZ0123456789-", min_size=1, max_size=8), max_size=40))
def test_parse_codes_keeps_each_code_once_in_order(codes):
    assume(not codes or codes[0].lower() not in ("code", "codes", "voucher"))
    parsed = parse_codes("\n".join(codes))
    assert parsed == list(dict.fromkeys(codes))
