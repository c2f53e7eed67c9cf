"""Mobile numbers: parse any common format, keep E.164."""
import phonenumbers

_MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


class InvalidPhoneNumber(ValueError):
    """The text is not a valid mobile number."""


def normalize_mobile(raw, default_region=None):
    """``raw`` ("98450 12345", "+91-98450-12345", "0091 9845012345", ...) as E.164.

    :param default_region: ISO country code used when the number has no
        country prefix (the company's country).
    :raise InvalidPhoneNumber: when it is not a valid mobile number.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhoneNumber("a mobile number is required")
    text = raw.strip()
    if len(text) > 32:
        raise InvalidPhoneNumber("a mobile number is at most 32 characters")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (default_region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidPhoneNumber(f"{raw!r} is not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
