"""Signed store check-in codes (no database)."""
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools import checkin

SECRET = "database-secret"
DAY = date(2026, 5, 1)


def test_a_code_checks_in_at_its_store_on_its_day():
    params = checkin.query(SECRET, 7, DAY)
    assert params["store"] == "7" and params["day"] == "2026-05-01"
    store_id, day, sig = checkin.parse(params["store"], params["day"], params["sig"])
    assert (store_id, day) == (7, DAY)
    assert checkin.check(SECRET, store_id, day, sig, today=DAY) is None


def test_a_code_is_bound_to_store_day_and_secret():
    sig = checkin.signature(SECRET, 7, DAY)
    assert checkin.check(SECRET, 8, DAY, sig, today=DAY) == checkin.BAD_SIGNATURE
    assert checkin.check(SECRET, 7, DAY + timedelta(days=1), sig, today=DAY + timedelta(days=1)) \
        == checkin.BAD_SIGNATURE
    assert checkin.check("another secret", 7, DAY, sig, today=DAY) == checkin.BAD_SIGNATURE
    assert checkin.check(SECRET, 7, DAY, sig[:-1], today=DAY) == checkin.BAD_SIGNATURE
    assert checkin.check(SECRET, 7, DAY, "", today=DAY) == checkin.BAD_SIGNATURE
    assert checkin.check(SECRET, 7, DAY, "é" * 22, today=DAY) == checkin.BAD_SIGNATURE


def test_yesterdays_code_does_not_check_in_today():
    sig = checkin.signature(SECRET, 7, DAY)
    assert checkin.check(SECRET, 7, DAY, sig, today=DAY + timedelta(days=1)) == checkin.WRONG_DAY
    assert checkin.check(SECRET, 7, DAY, sig, today=DAY - timedelta(days=1)) == checkin.WRONG_DAY


def test_signature_is_short_url_safe_and_stable():
    sig = checkin.signature(SECRET, 7, DAY)
    assert sig == checkin.signature(SECRET.encode(), 7, DAY)
    assert len(sig) == 22 and all(c.isalnum() or c in "-_" for c in sig)


@pytest.mark.parametrize("store, day, sig", [
    ("x", "2026-05-01", "abc"), ("0", "2026-05-01", "abc"), ("-3", "2026-05-01", "abc"),
    ("7", "2026-13-01", "abc"), ("7", None, "abc"), (None, "2026-05-01", "abc"), ("7", "2026-05-01", ""),
    ("7", "2026-05-01", None), ("7", "2026-05-01", "a" * 65), ("7", "2026-05-01", "\ud800"),
])
def test_malformed_links_are_refused(store, day, sig):
    assert checkin.parse(store, day, sig) is None


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        checkin.signature("", 7, DAY)
    with pytest.raises(ValueError):
        checkin.signature(SECRET, 0, DAY)
    with pytest.raises(ValueError):
        checkin.signature(SECRET, True, DAY)
    with pytest.raises(ValueError):
        checkin.signature(SECRET, 7, "2026-05-01")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared CI machine can be slow
@given(st.integers(min_value=1, max_value=10**9), st.dates(), st.integers(min_value=1, max_value=10**9), st.dates())
def test_distinct_store_days_never_share_a_signature(store_a, day_a, store_b, day_b):
    same = (store_a, day_a) == (store_b, day_b)
    assert (checkin.signature(SECRET, store_a, day_a) == checkin.signature(SECRET, store_b, day_b)) == same
