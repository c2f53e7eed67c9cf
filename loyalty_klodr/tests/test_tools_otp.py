"""OTP codes, digests and throttles (no database)."""
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools import otp

SECRET = "s3cret"
BOUND = otp.binding(7, 3, 400, "100.00", 2, "POS/0001")
NOW = datetime(2026, 5, 1, 10, 0, 0)


def test_codes_are_six_random_digits():
    codes = {otp.generate_code() for _ in range(2000)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 1900  # 2000 draws from a million rarely collide
    with pytest.raises(ValueError):
        otp.generate_code(3)


def test_digest_binds_the_code_to_its_redemption():
    digest = otp.digest(SECRET, "123456", BOUND)
    assert otp.matches(SECRET, "123456", BOUND, digest)
    assert otp.matches(SECRET, " 123456 ", BOUND, digest)
    assert not otp.matches(SECRET, "123457", BOUND, digest)
    for other in (otp.binding(7, 3, 401, "100.00", 2, "POS/0001"), otp.binding(8, 3, 400, "100.00", 2, "POS/0001"),
                  otp.binding(7, 3, 400, "100.00", 5, "POS/0001"), otp.binding(7, 3, 400, "100.01", 2, "POS/0001")):
        assert not otp.matches(SECRET, "123456", other, digest)
    assert not otp.matches("other", "123456", BOUND, digest)
    assert "123456" not in digest


@pytest.mark.parametrize("typed", ["", None, "12345a", "1" * 200, "١٢٣٤٥٦", 123456])
def test_garbage_never_matches(typed):
    assert not otp.matches(SECRET, typed, BOUND, otp.digest(SECRET, "123456", BOUND))


def test_no_secret_refused():
    with pytest.raises(ValueError):
        otp.digest("", "123456", BOUND)


def test_resend_wait():
    policy = otp.Policy()
    assert otp.resend_wait(policy, 1, NOW, NOW) == 30
    assert otp.resend_wait(policy, 1, NOW, NOW + timedelta(seconds=29.5)) == 1
    assert otp.resend_wait(policy, 1, NOW, NOW + timedelta(seconds=30)) == 0
    assert otp.resend_wait(policy, 5, NOW, NOW + timedelta(hours=1)) is None
    assert otp.is_expired(NOW, NOW) and not otp.is_expired(NOW, NOW - timedelta(seconds=1))


@given(st.lists(st.integers(min_value=0, max_value=7200), max_size=30), st.integers(min_value=1, max_value=10))
def test_window_wait_lets_exactly_limit_through(offsets, limit):
    window = timedelta(hours=1)
    sent = [NOW - timedelta(seconds=s) for s in offsets]
    wait = otp.window_wait(sent, NOW, limit, window)
    recent = [t for t in sent if t > NOW - window]
    assert (wait == 0) == (len(recent) < limit)
    if wait:
        later = NOW + timedelta(seconds=wait)
        assert len([t for t in sent if t > later - window]) < limit
