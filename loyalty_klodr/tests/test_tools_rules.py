"""Earn-rule evaluation and tier ladder (no database)."""
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools import rules as r
from odoo.addons.loyalty_klodr.tools.tiers import TierLevel, decide_tier, next_tier, qualifying_tier

WHEN = datetime(2026, 7, 15, 11, 0)  # a Wednesday
BASE = r.Rule(1, "1 point per 10", r.KIND_AMOUNT, points=1, spend_unit=D(10))
BANDS = r.Rule(2, "Bands", r.KIND_BANDS, bands=(r.Band(D(5000), D(10000), 100), r.Band(D(10000), None, 250)),
               tier_multiplied=False, entry_type="bonus")
CHECKIN = r.Rule(3, "Check-in", r.KIND_EVENT, event="checkin", points=20, tier_multiplied=False,
                 caps=r.Caps(day=1), entry_type="bonus")
REVIEW = r.Rule(4, "Review", r.KIND_EVENT, event="review", points=50, tier_multiplied=False,
                caps=r.Caps(month=3), entry_type="bonus")
DEMO = [BASE, BANDS, CHECKIN, REVIEW]
BRONZE, SILVER, GOLD = (r.Member(tier=t, multiplier=D(m)) for t, m in (("b", 1), ("s", "1.25"), ("g", "1.5")))


def order(amount, **kwargs):
    return r.Order(amount=D(str(amount)), when=kwargs.pop("when", WHEN), **kwargs)


@pytest.mark.parametrize(("member", "amount", "points"), [
    (SILVER, "5000.00", 725),  # floor(500 x 1.25) + 100: the example of the issue
    (BRONZE, "4999.99", 499),
    (BRONZE, "9999.99", 999 + 100),
    (GOLD, "10000", 1500 + 250),
    (SILVER, "9", 0),
    (GOLD, "0", 0),
    (SILVER, "17", 1),  # floor(1 x 1.25)
])
def test_demo_program_numbers(member, amount, points):
    assert r.evaluate(DEMO, member, order=order(amount)).points == points


def test_breakdown_names_each_rule_and_splits_types():
    evaluation = r.evaluate(DEMO, SILVER, order=order(5000))
    assert evaluation.breakdown() == [{"rule": "1 point per 10", "points": 625}, {"rule": "Bands", "points": 100}]
    assert evaluation.by_entry_type() == {"earn": 625, "bonus": 100}


@pytest.mark.parametrize(("rounding", "points"), [("down", 12), ("half_up", 13), ("up", 13)])
def test_rounding_modes(rounding, points):
    rule = r.Rule(1, "x", r.KIND_AMOUNT, points=1, spend_unit=D(10), rounding=rounding, tier_multiplied=False)
    assert r.evaluate([rule], BRONZE, order=order("125.00")).points == points
    assert r.evaluate([rule], BRONZE, order=order("124.99")).points == (12 if rounding != "up" else 13)


def test_fixed_and_per_unit_and_category_rules():
    fixed = r.Rule(1, "Visit", r.KIND_FIXED, points=5)
    books = r.Rule(2, "Books", r.KIND_AMOUNT, points=2, spend_unit=D(100), categories=frozenset({"books"}))
    pens = r.Rule(3, "Pens", r.KIND_PER_UNIT, points=3, products=frozenset({"pen"}))
    lines = (r.Line(D(450), D(1), "novel", frozenset({"books", "fiction"})),
             r.Line(D(60), D(4), "pen", frozenset({"stationery"})),
             r.Line(D(90), D(1), "mug", frozenset()))
    evaluation = r.evaluate([fixed, books, pens], BRONZE, order=order(600, lines=lines))
    assert [(a.label, a.points) for a in evaluation.awards] == [("Visit", 5), ("Books", 9), ("Pens", 12)]


def test_conditions_dates_weekdays_stores_tiers_segment_minimum():
    def points(rule, member=BRONZE, **kwargs):
        return r.evaluate([rule], member, order=order(kwargs.pop("amount", 1000), **kwargs)).points

    rule = r.Rule(1, "x", r.KIND_FIXED, points=10)
    assert points(rule) == 10
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, date_from=date(2026, 7, 16))) == 0
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, date_to=date(2026, 7, 15))) == 10  # inclusive
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, date_to=date(2026, 7, 14))) == 0
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, weekdays=frozenset({2}))) == 10  # Wednesday
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, weekdays=frozenset({5, 6}))) == 0
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, stores=frozenset({7})), store=7) == 10
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, stores=frozenset({7})), store=8) == 0
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, tiers=frozenset({"g"})), member=GOLD) == 15
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, tiers=frozenset({"g"})), member=SILVER) == 0
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, in_segment=False)) == 0
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, min_amount=D(1000))) == 10
    assert points(r.Rule(1, "x", r.KIND_FIXED, points=10, min_amount=D("1000.01"))) == 0


def test_exclusive_rule_stands_alone():
    weekend = r.Rule(9, "Weekend 3x", r.KIND_AMOUNT, points=3, spend_unit=D(10), exclusive=True, sequence=0,
                     tier_multiplied=False)
    assert r.evaluate([BASE, BANDS, weekend], BRONZE, order=order(5000)).breakdown() == [
        {"rule": "Weekend 3x", "points": 1500}]
    later = r.Rule(9, "Exclusive later", r.KIND_FIXED, points=1, exclusive=True, sequence=99)
    assert [a.label for a in r.evaluate([BASE, later], BRONZE, order=order(100)).awards] == ["Exclusive later"]


@pytest.mark.parametrize(("usage", "expected"), [
    (r.Usage(day=(0, 0)), 20), (r.Usage(day=(1, 20)), None),
])
def test_event_day_cap_boundary(usage, expected):
    member = r.Member(usage={3: usage})
    if expected is None:
        with pytest.raises(r.RuleError) as caught:
            r.evaluate(DEMO, member, event=r.Event("checkin", WHEN))
        assert caught.value.code == "cap_reached"
    else:
        assert r.evaluate(DEMO, member, event=r.Event("checkin", WHEN)).points == expected


def test_month_cap_and_points_cap():
    assert r.evaluate(DEMO, r.Member(usage={4: r.Usage(month=(2, 100))}), event=r.Event("review", WHEN)).points == 50
    with pytest.raises(r.RuleError):
        r.evaluate(DEMO, r.Member(usage={4: r.Usage(month=(3, 150))}), event=r.Event("review", WHEN))
    capped = r.Rule(1, "x", r.KIND_AMOUNT, points=1, spend_unit=D(1), caps=r.Caps(day=500, unit=r.CAP_POINTS),
                    tier_multiplied=False)
    assert r.evaluate([capped], r.Member(usage={1: r.Usage(day=(3, 450))}), order=order(200)).points == 50
    assert r.evaluate([capped], r.Member(usage={1: r.Usage(day=(3, 500))}), order=order(200)).points == 0
    lifetime = r.Rule(1, "x", r.KIND_FIXED, points=5, caps=r.Caps(lifetime=1))
    assert r.evaluate([lifetime], r.Member(usage={1: r.Usage(lifetime=(1, 5))}), order=order(10)).points == 0


def test_unknown_event_gives_nothing():
    assert r.evaluate(DEMO, BRONZE, event=r.Event("social_share", WHEN)).points == 0


def test_campaigns_layer_without_changing_base_rules():
    july = r.Campaign(1, "Double July", date_from=date(2026, 7, 1), date_to=date(2026, 7, 31), multiplier=D(2))
    evaluation = r.evaluate(DEMO, SILVER, order=order(5000), campaigns=[july])
    assert evaluation.breakdown() == [{"rule": "1 point per 10", "points": 625}, {"rule": "Bands", "points": 100},
                                      {"rule": "Double July", "points": 625}]
    august = r.Campaign(2, "August", date_from=date(2026, 8, 1), date_to=date(2026, 8, 31), multiplier=D(2))
    assert r.evaluate(DEMO, SILVER, order=order(5000), campaigns=[august]).points == 725
    bonus = r.Campaign(3, "Bonus", bonus_points=50, rule_ids=frozenset({2}), multiplier=D(3))
    assert r.evaluate(DEMO, SILVER, order=order(5000), campaigns=[bonus]).breakdown()[-1] == {
        "rule": "Bonus", "points": 200 + 50}


def test_promo_code_campaign_needs_its_code_once():
    promo = r.Campaign(4, "FESTIVE", promo_code="FEST50", bonus_points=50)
    assert r.evaluate([BASE], BRONZE, order=order(100), campaigns=[promo]).points == 10
    assert r.evaluate([BASE], BRONZE, order=order(100, promo_codes=frozenset({"fest50"})), campaigns=[promo]).points \
        == 60
    used = r.Campaign(4, "FESTIVE", promo_code="FEST50", bonus_points=50, promo_used=True)
    assert r.evaluate([BASE], BRONZE, order=order(100, promo_codes=frozenset({"FEST50"})), campaigns=[used]).points \
        == 10


def test_bad_input_refused():
    with pytest.raises(ValueError):
        r.evaluate(DEMO, BRONZE)
    with pytest.raises(ValueError):
        r.evaluate(DEMO, BRONZE, order=order(-1))
    for value in (float("nan"), float("inf"), None, True, "abc"):
        with pytest.raises((ValueError, ArithmeticError)):
            r.to_decimal(value)


amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
multipliers = st.sampled_from([D(1), D("1.25"), D("1.5"), D(2), D("0.5")])


@given(amounts, amounts, multipliers, st.sampled_from(["down", "half_up", "up"]),
       st.integers(min_value=1, max_value=50), st.sampled_from([D(1), D(10), D("7.5"), D(100)]))
def test_amount_rules_never_negative_and_non_decreasing(a, b, multiplier, rounding, points, unit):
    rule = r.Rule(1, "x", r.KIND_AMOUNT, points=points, spend_unit=unit, rounding=rounding)
    member = r.Member(multiplier=multiplier)
    low, high = sorted((a, b))
    p_low = r.evaluate([rule, BANDS], member, order=order(low)).points
    p_high = r.evaluate([rule, BANDS], member, order=order(high)).points
    assert 0 <= p_low <= p_high


@given(amounts, multipliers)
def test_every_award_positive(amount, multiplier):
    evaluation = r.evaluate(DEMO, r.Member(multiplier=multiplier), order=order(amount))
    assert all(a.points > 0 for a in evaluation.awards)


LADDER = [TierLevel(1, "Bronze", 0), TierLevel(2, "Silver", 1000), TierLevel(3, "Gold", 5000)]


@pytest.mark.parametrize(("points", "tier"), [(0, 1), (999, 1), (1000, 2), (4999, 2), (5000, 3), (10**6, 3)])
def test_qualifying_tier_edges(points, tier):
    assert qualifying_tier(LADDER, points).id == tier


def test_up_at_once_down_only_when_allowed():
    bronze, silver, gold = LADDER
    assert decide_tier(LADDER, bronze, 1200) == silver
    assert decide_tier(LADDER, gold, 1200) == gold
    assert decide_tier(LADDER, gold, 1200, allow_downgrade=True) == silver
    assert decide_tier(LADDER, None, 0) == bronze
    assert next_tier(LADDER, silver, 1200) == (gold, 3800)
    assert next_tier(LADDER, gold, 9000) is None
    with_amount = [TierLevel(1, "Std", 0), TierLevel(2, "Pro", 1000, D(50000))]
    assert qualifying_tier(with_amount, 2000, D(10000)).id == 1
    assert qualifying_tier(with_amount, 2000, D(50000)).id == 2
