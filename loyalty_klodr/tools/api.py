"""Parsing and formatting of the REST contract (API.md), without Odoo.

Every parser raises :class:`FieldError` naming the field, which the controller
turns into ``400 validation_error`` with ``details.field``.
"""
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_AMOUNT = Decimal("1000000000")
MAX_TEXT = 128
FUTURE_TOLERANCE = timedelta(minutes=5)

STATUS_BY_CODE = {
    "validation_error": 400,
    "unauthorized": 401,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "duplicate_order": 409,
    "idempotency_key_reused": 409,
    "member_exists": 409,
    "rate_limited": 429,
}


def status_for(code):
    """HTTP status of an error code: business refusals are 422."""
    return STATUS_BY_CODE.get(code, 422)


class FieldError(ValueError):
    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def error_body(code, message, **details):
    return {"error": {"code": code, "message": message, "details": details}}


def fingerprint(method, path, body):
    """What makes two requests "the same" for idempotency: method, path and the JSON body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()


def require(body, field):
    if field not in body or body[field] is None:
        raise FieldError(field, f"{field} is required")
    return body[field]


_INTEGER_TEXT = re.compile(r"-?[0-9]{1,18}")


def parse_int(value, field, minimum=None, maximum=None):
    """A whole number: an integer, a float without fraction (JSON's 1.0), or ASCII digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        value = int(value.strip())
    elif isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, f"{field} must be a whole number")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise FieldError(field, f"{field} is out of range")
    return value


def parse_amount(value, field, allow_zero=True):
    """Money as a number or a decimal string; positive, finite, at most 2 decimals more than cents."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FieldError(field, f"{field} must be a number or a decimal string")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise FieldError(field, f"{field} must be a number") from exc
    if not amount.is_finite():
        raise FieldError(field, f"{field} must be a finite number")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise FieldError(field, f"{field} must be positive")
    if amount > MAX_AMOUNT:
        raise FieldError(field, f"{field} is too large")
    if amount != amount.quantize(Decimal("0.0001")):
        raise FieldError(field, f"{field} has too many decimals")
    return amount


def parse_text(value, field, maximum=MAX_TEXT, required=True):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise FieldError(field, f"{field} must be a non-empty text")
    if len(value) > maximum:
        raise FieldError(field, f"{field} is at most {maximum} characters")
    if any(ord(ch) < 32 for ch in value):
        raise FieldError(field, f"{field} contains control characters")
    return value.strip()


def parse_datetime(value, field, now, allow_future=FUTURE_TOLERANCE):
    """ISO 8601 (with or without offset; naive means UTC) to naive UTC, not in the future."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"{field} must be an ISO 8601 date-time")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        raise FieldError(field, f"{field} must be an ISO 8601 date-time") from exc
    if moment > now + allow_future:
        raise FieldError(field, f"{field} cannot be in the future")
    if moment.year < 2000:
        raise FieldError(field, f"{field} is too far in the past")
    return moment.replace(microsecond=0)


def parse_date(value, field):
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"{field} must be a date (YYYY-MM-DD)")
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError as exc:
        raise FieldError(field, f"{field} must be a date (YYYY-MM-DD)") from exc
    if not 1900 <= day.year <= 2999:
        raise FieldError(field, f"{field} must be between 1900 and 2999")
    return day


def money(value, digits=2):
    """Money in a response: a decimal string at the currency's precision."""
    quantum = Decimal(1).scaleb(-digits)
    return str(Decimal(str(value or 0)).quantize(quantum, rounding=ROUND_HALF_UP))


def timestamp(value):
    """A naive UTC datetime as ISO 8601 with its offset."""
    if not value:
        return None
    return value.replace(microsecond=0, tzinfo=UTC).isoformat()
