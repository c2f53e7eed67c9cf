"""Signed check-in codes: one per store and day.

A store shows a QR code that opens ``/my/loyalty/checkin?store=<id>&day=<YYYY-MM-DD>&sig=<signature>``.
The signature is an HMAC-SHA256 of the store and the day, keyed with a server secret, so
a member cannot make one for another store or day; a code seen yesterday no longer checks
in today. Verification is constant-time.
"""
import base64
import hashlib
import hmac
from datetime import date

# The part of the HMAC kept in the code: 128 bits, 22 URL-safe characters.
SIGNATURE_BYTES = 16

BAD_SIGNATURE = "bad_signature"
WRONG_DAY = "wrong_day"


def _message(store_id, day):
    if isinstance(store_id, bool) or not isinstance(store_id, int) or store_id <= 0:
        raise ValueError("a store id is a positive integer")
    if not isinstance(day, date):
        raise ValueError("a check-in day is a date")
    return f"klodr-checkin|{store_id}|{day.isoformat()}".encode()


def signature(secret, store_id, day):
    """The signature of ``store_id`` on ``day`` (URL-safe base64, no padding)."""
    if not secret:
        raise ValueError("a check-in signature needs a secret key")
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, _message(store_id, day), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def query(secret, store_id, day):
    """The query parameters of the store's check-in link for ``day``."""
    return {"store": str(store_id), "day": day.isoformat(), "sig": signature(secret, store_id, day)}


def parse(store, day, sig):
    """``(store id, day, signature)`` from the link's text parameters, or None when malformed."""
    try:
        store_id = int(store)
        parsed_day = date.fromisoformat(day)
    except (TypeError, ValueError):
        return None
    if store_id <= 0 or not isinstance(sig, str) or not sig or len(sig) > 64 or not sig.isascii():
        return None
    return store_id, parsed_day, sig


def check(secret, store_id, day, sig, today):
    """Why the code does not check in on ``today`` (``BAD_SIGNATURE``, ``WRONG_DAY``), or None.

    The signature is checked first: a forged code says nothing about days.
    """
    expected = signature(secret, store_id, day)
    if not isinstance(sig, str) or not sig.isascii() or not hmac.compare_digest(expected.encode(), sig.encode()):
        return BAD_SIGNATURE
    if day != today:
        return WRONG_DAY
    return None
