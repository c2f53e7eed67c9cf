"""One-time passwords bound to one redemption.

A code is 6 random digits (``secrets``). Only an HMAC-SHA256 of it is stored,
keyed with the database secret and bound to what it authorises (redemption,
member, points, amount, store, order): the same digits for another redemption,
or for the same one with other points, do not verify. Comparison is
constant-time.
"""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta


def generate_code(digits=6):
    """A uniformly random numeric code with ``digits`` digits (leading zeros kept)."""
    if not 4 <= digits <= 10:
        raise ValueError("an OTP has 4 to 10 digits")
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def binding(redemption_id, member_id, points, amount, store_id, order_ref):
    """The canonical text of what a code authorises."""
    return "|".join(str(part) for part in (redemption_id, member_id, points, amount, store_id or "", order_ref or ""))


def digest(secret, code, bound_to):
    if not secret:
        raise ValueError("an OTP needs a secret key")
    return hmac.new(secret.encode(), f"{bound_to}|{code}".encode(), hashlib.sha256).hexdigest()


def matches(secret, code, bound_to, stored_digest):
    """Constant-time check of a code typed by the cashier against the stored digest."""
    if not isinstance(code, str) or not code.strip().isdigit() or not stored_digest:
        return False
    return hmac.compare_digest(digest(secret, code.strip(), bound_to), stored_digest)


@dataclass(frozen=True)
class Policy:
    validity: timedelta = timedelta(minutes=5)
    max_attempts: int = 3
    resend_interval: timedelta = timedelta(seconds=30)
    max_sends: int = 5  # the first send included


def resend_wait(policy, sends, last_sent, now):
    """Seconds to wait before another code may be sent (0: now); None when no more may be sent."""
    if sends >= policy.max_sends:
        return None
    if last_sent is None:
        return 0
    wait = (last_sent + policy.resend_interval - now).total_seconds()
    return max(int(wait + 0.999), 0)


def window_wait(sent_times, now, limit, window):
    """Seconds until one more send fits in a sliding ``window`` allowing ``limit`` sends (0: now)."""
    recent = sorted(t for t in sent_times if t > now - window)
    if len(recent) < limit:
        return 0
    return max(int((recent[len(recent) - limit] + window - now).total_seconds() + 0.999), 1)


def is_expired(expires_at, now):
    return expires_at is None or now >= expires_at
