"""Webhook signatures, retry schedule and URLs (no database)."""
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools import webhooks

SECRET = "whsec_test"
BODY = '{"event":"points.earned","id":"7c1c"}'
T = 1_777_629_600  # 2026-05-01 10:00:00 UTC
NOW = datetime(2026, 5, 1, 10, 0, 0)


def test_sign_is_the_documented_hmac():
    expected = hmac.new(SECRET.encode(), f"{T}.{BODY}".encode(), hashlib.sha256).hexdigest()
    assert webhooks.sign(SECRET, BODY, T) == f"t={T},v1={expected}"
    assert webhooks.sign(SECRET, BODY.encode(), T) == webhooks.sign(SECRET, BODY, T)
    assert webhooks.sign(SECRET, BODY, T + 0.9) == webhooks.sign(SECRET, BODY, T)  # whole seconds


def test_verify_accepts_a_fresh_signature():
    header = webhooks.sign(SECRET, BODY, T)
    assert webhooks.verify(SECRET, BODY, header, T)
    assert webhooks.verify(SECRET, BODY.encode(), header, T + 300)
    assert webhooks.verify(SECRET, BODY, header, T - 300)  # receiver's clock a little behind
    assert webhooks.verify(SECRET, BODY, header, NOW)  # a naive datetime is UTC
    assert webhooks.verify(SECRET, BODY, header, NOW.replace(tzinfo=UTC))


def test_verify_rejects_replays_and_tampering():
    header = webhooks.sign(SECRET, BODY, T)
    assert not webhooks.verify(SECRET, BODY, header, T + 301)  # replayed 5 minutes later
    assert not webhooks.verify(SECRET, BODY, header, T - 301)
    assert not webhooks.verify(SECRET, BODY, header, T + 3600, tolerance=300)
    assert webhooks.verify(SECRET, BODY, header, T + 3600, tolerance=3600)
    assert not webhooks.verify("other", BODY, header, T)
    assert not webhooks.verify(SECRET, BODY.replace("earned", "redeemed"), header, T)
    assert not webhooks.verify(SECRET, BODY + " ", header, T)
    # The timestamp is part of what is signed: moving it forward breaks the signature.
    forged = header.replace(f"t={T}", f"t={T + 600}")
    assert not webhooks.verify(SECRET, BODY, forged, T + 600)
    assert not webhooks.verify("", BODY, header, T)


@pytest.mark.parametrize("header", [
    None, "", "v1=abc", f"t={T}", f"t=abc,v1={'0' * 64}", f"t={T},t={T},v1={'0' * 64}", f"t=-{T},v1=00",
    "x" * 5000, f"t=١٢٣,v1={'0' * 64}", 12345,
])
def test_garbage_headers_never_verify(header):
    assert not webhooks.verify(SECRET, BODY, header, T)


def test_parse_header_takes_every_v1_and_ignores_other_schemes():
    good = webhooks.signature(SECRET, BODY, T)
    header = f"t={T}, v0=deadbeef, v1={'0' * 64}, v1={good.upper()}"
    assert webhooks.parse_header(header) == (T, ["0" * 64, good])
    assert webhooks.verify(SECRET, BODY, header, T)  # a rotated secret signs twice
    with pytest.raises(webhooks.SignatureError):
        webhooks.parse_header(f"t={T},v0=deadbeef")


def test_no_secret_refused():
    with pytest.raises(ValueError):
        webhooks.sign("", BODY, T)


def test_generated_secrets_are_long_and_random():
    secrets = {webhooks.generate_secret() for _ in range(200)}
    assert len(secrets) == 200
    assert all(s.startswith("whsec_") and len(s) == 6 + 64 for s in secrets)


def test_backoff_schedule_then_dead():
    waits = [webhooks.next_attempt(n, NOW) - NOW for n in range(1, 8)]
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                     timedelta(hours=6), timedelta(hours=12), timedelta(hours=24)]
    assert webhooks.MAX_ATTEMPTS == 8
    assert webhooks.next_attempt(8, NOW) is None
    assert webhooks.next_attempt(9, NOW) is None
    assert webhooks.next_attempt(0, NOW) == NOW


@given(st.integers(min_value=1, max_value=20))
def test_backoff_never_shrinks(attempts):
    later = webhooks.next_attempt(attempts + 1, NOW)
    current = webhooks.next_attempt(attempts, NOW)
    if current is None:
        assert later is None
    elif later is not None:
        assert later > current > NOW


@given(st.text(max_size=300), st.text(min_size=1, max_size=80), st.integers(min_value=0, max_value=2**33),
       st.integers(min_value=-300, max_value=300))
def test_signature_round_trip(body, secret, timestamp, skew):
    header = webhooks.sign(secret, body, timestamp)
    assert webhooks.verify(secret, body, header, timestamp + skew)
    assert webhooks.verify(secret, body.encode("utf-8"), header, timestamp + skew)


@given(st.text(max_size=200), st.text(min_size=1, max_size=200), st.integers(min_value=0, max_value=2**33))
def test_any_other_body_fails(body, other, timestamp):
    if body == other:
        return
    header = webhooks.sign(SECRET, body, timestamp)
    assert not webhooks.verify(SECRET, other, header, timestamp)


@given(st.integers(min_value=0, max_value=2**33), st.integers(min_value=301, max_value=10**6), st.booleans())
def test_old_or_future_timestamps_fail(timestamp, skew, future):
    header = webhooks.sign(SECRET, BODY, timestamp)
    assert not webhooks.verify(SECRET, BODY, header, timestamp + (-skew if future else skew))


@pytest.mark.parametrize("url", [
    "https://crm.example.com/hooks/klodr", "https://10.0.0.4:8443/x?token=1", "http://127.0.0.1:8069/hook",
    "http://localhost/hook", "http://[::1]:9000/", "HTTPS://EXAMPLE.COM/", "http://127.0.0.2/",
])
def test_accepted_urls(url):
    assert webhooks.url_problem(url) is None


@pytest.mark.parametrize("url", [
    "", None, "http://crm.example.com/hook", "http://192.168.1.4/hook", "ftp://example.com/", "example.com/hook",
    "https://", "https://user:pw@example.com/", " https://example.com/", "https://exa mple.com/",
    "http://localhost.example.com/", "https://example.com:99999/", "javascript:alert(1)", "file:///etc/passwd",
])
def test_refused_urls(url):
    assert webhooks.url_problem(url)


def test_body_is_compact_sorted_utf8_json():
    body = webhooks.dumps({"b": 1, "a": {"name": "प्रिया"}})
    assert body == '{"a":{"name":"प्रिया"},"b":1}'
    assert json.loads(body) == {"a": {"name": "प्रिया"}, "b": 1}


def test_formats():
    assert webhooks.iso_utc(datetime(2026, 5, 1, 10, 0, 0, 123)) == "2026-05-01T10:00:00+00:00"
    assert webhooks.iso_utc(None) is None
    assert webhooks.unix(NOW) == T
    assert webhooks.money(1499) == "1499.00"
    assert webhooks.money(0.125) == "0.13"
    assert webhooks.money(5, 3) == "5.000"
    assert webhooks.truncate("x" * 5000) == "x" * 1999 + "…"
    assert len(webhooks.truncate("x" * 5000)) == 2000
    assert webhooks.truncate("short") == "short"
    assert webhooks.truncate(None) is None
