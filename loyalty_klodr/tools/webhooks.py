"""Webhooks: signatures, retry schedule, URLs and bodies (no ORM, no database).

A delivery is a POST of a JSON body with these headers::

    X-Klodr-Event: points.earned
    X-Klodr-Delivery: 1b4e28ba-2fa1-11d2-883f-0016d3cca427
    X-Klodr-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

``v1`` is the hex HMAC-SHA256, keyed with the webhook's secret, of ``f"{t}.{body}"`` (the
timestamp, a dot and the raw body bytes). A receiver checks it before trusting anything::

    from loyalty_klodr.tools.webhooks import verify
    if not verify(secret, request_body_bytes, request.headers["X-Klodr-Signature"], time.time()):
        return 400

that is: parse ``t`` and every ``v1`` from the header, recompute the HMAC over the raw body
(not a re-serialisation of the parsed JSON), compare in constant time, and reject when
``|now - t|`` exceeds 300 seconds (a captured request replayed later fails). Deliveries are
at-least-once: a retry carries the same ``X-Klodr-Delivery`` (the ``id`` of the body), so
receivers drop the ids they already processed.
"""

import hashlib
import hmac
import ipaddress
import json
import secrets
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-Klodr-Signature"
EVENT_HEADER = "X-Klodr-Event"
DELIVERY_HEADER = "X-Klodr-Delivery"
ATTEMPT_HEADER = "X-Klodr-Attempt"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds

# Waits after the 1st, 2nd, ... failed attempt; the attempt after the last wait is the last one.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1  # 8: dead after the 8th failure

RESPONSE_LIMIT = 2000  # characters of an answer kept on the delivery

EVENTS = (
    ("member.enrolled", "Member enrolled"),
    ("points.earned", "Points earned"),
    ("points.redeemed", "Points redeemed"),
    ("redemption.cancelled", "Redemption cancelled"),
    ("tier.changed", "Tier changed"),
    ("points.expiring", "Points expiring"),
)
TEST_EVENT = "ping"

_LOOPBACK_NAMES = frozenset({"localhost"})


class SignatureError(ValueError):
    """A signature header that cannot be read."""


def generate_secret():
    """A new signing secret: 256 random bits, printable."""
    return "whsec_" + secrets.token_hex(32)


def _bytes(value):
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def signature(secret, body, timestamp):
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` keyed with ``secret``."""
    if not secret:
        raise ValueError("A webhook secret is required to sign.")
    message = f"{int(timestamp)}.".encode() + _bytes(body)
    return hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def sign(secret, body, timestamp):
    """The ``X-Klodr-Signature`` header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={int(timestamp)},{SCHEME}={signature(secret, body, timestamp)}"


def parse_header(header):
    """``(timestamp, [v1 signatures])`` from a header value.

    Unknown schemes are ignored (a later version may add them); several ``v1`` are allowed
    (a sender rotating its secret may sign with both).
    :raise SignatureError: no timestamp, a timestamp that is not an integer, or no ``v1``.
    """
    if not isinstance(header, str) or len(header) > 4096:
        raise SignatureError("missing or oversized signature header")
    timestamp = None
    signatures = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not value.isascii() or not value.isdigit() or timestamp is not None:
                raise SignatureError("bad timestamp")
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value.lower())
    if timestamp is None:
        raise SignatureError("no timestamp")
    if not signatures:
        raise SignatureError(f"no {SCHEME} signature")
    return timestamp, signatures


def _unix(now):
    if isinstance(now, datetime):
        return (now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp()
    return float(now)


def verify(secret, body, header, now, tolerance=DEFAULT_TOLERANCE):
    """Whether ``header`` is a valid signature of ``body`` made within ``tolerance`` seconds of ``now``.

    ``now``: unix seconds, or a datetime (naive means UTC). ``body``: the raw bytes (or text) received.
    Never raises for a malformed header: it is simply not valid.
    """
    if not secret:
        return False
    try:
        timestamp, signatures = parse_header(header)
    except SignatureError:
        return False
    if abs(_unix(now) - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp)
    # Compare with every candidate, without stopping at the first match (constant time per candidate).
    found = False
    for candidate in signatures:
        found |= hmac.compare_digest(expected, candidate)
    return found


def next_attempt(attempts, now):
    """When to try again after ``attempts`` failed attempts (1 = the first one failed), or None: dead."""
    if attempts < 1:
        return now
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + BACKOFF[attempts - 1]


def url_problem(url):
    """Why ``url`` cannot receive webhooks (a short English reason), or None when it can.

    https anywhere; plain http only to this machine (127.0.0.1, ::1, localhost) for tests and local
    relays: anything else would send signed member data in clear.
    """
    if not isinstance(url, str) or not url.strip():
        return "empty URL"
    if url != url.strip() or any(ch.isspace() for ch in url):
        return "spaces in URL"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _port = parts.port  # raises ValueError on a bad port
    except ValueError:
        return "malformed URL"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return "only https URLs are accepted"
    if not host:
        return "no host in URL"
    if parts.username or parts.password:
        return "credentials in URL"
    if scheme == "http" and not is_loopback(host):
        return "plain http is only accepted for 127.0.0.1 or localhost: use https"
    return None


def is_loopback(host):
    host = (host or "").lower().rstrip(".")
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dumps(payload):
    """The body sent (and stored, and signed): compact JSON, keys sorted, UTF-8 text."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def iso_utc(value):
    """A naive UTC datetime as ISO 8601 with its offset (``2026-05-01T10:00:00+00:00``)."""
    if not value:
        return None
    return value.replace(microsecond=0, tzinfo=UTC).isoformat()


def unix(value):
    """A naive UTC datetime as unix seconds."""
    return int(value.replace(tzinfo=UTC).timestamp())


def money(value, digits=2):
    """Money as a decimal string at the currency's precision (API.md convention)."""
    quantum = Decimal(1).scaleb(-digits)
    return str(Decimal(str(value or 0)).quantize(quantum, rounding=ROUND_HALF_UP))


def truncate(text, limit=RESPONSE_LIMIT):
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"
