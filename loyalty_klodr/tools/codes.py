"""Promotional and scratch-off codes: generation, normalisation and export (no database).

Codes are read aloud, typed on phones and printed under scratch panels, so the
random part uses an alphabet without look-alikes (no 0/O, 1/I/L). What a person
types is normalised before it is looked up: surrounding spaces go, letters are
upper-cased, and the spaces and dashes used to group a printed code are removed.
"""
import csv
import io
import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
DEFAULT_LENGTH = 10
MIN_LENGTH = 6
MAX_LENGTH = 20
MAX_PREFIX_LENGTH = 12
GROUP_SIZE = 5

# Separators people type or see on printed cards; never part of a stored code.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_]+")
_PREFIX_OK = re.compile(r"^[A-Z0-9]*$")
# Largest multiple of the alphabet size that fits a byte: bytes above it are
# rejected so every character is equally likely.
_BYTE_LIMIT = 256 - 256 % len(ALPHABET)


class InvalidCodeSettings(ValueError):
    """A prefix or length that cannot make valid codes."""


def normalize_code(text):
    """The stored form of a code as typed: stripped, upper case, without spaces or dashes.

    ``None`` and blanks give ``""`` (which matches no code).
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    return _SEPARATORS.sub("", text.strip()).upper()


def normalize_prefix(prefix):
    """The prefix as it is stored at the start of codes.

    :raise InvalidCodeSettings: when it holds anything but letters and digits, or is too long.
    """
    prefix = normalize_code(prefix)
    if not _PREFIX_OK.match(prefix):
        raise InvalidCodeSettings("a code prefix holds only letters A-Z and digits")
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise InvalidCodeSettings(f"a code prefix has at most {MAX_PREFIX_LENGTH} characters")
    return prefix


def check_length(length):
    if isinstance(length, bool) or not isinstance(length, int) or not MIN_LENGTH <= length <= MAX_LENGTH:
        raise InvalidCodeSettings(f"the random part of a code has {MIN_LENGTH} to {MAX_LENGTH} characters")
    return length


def random_part(length=DEFAULT_LENGTH, token_bytes=secrets.token_bytes):
    """``length`` characters of :data:`ALPHABET`, uniformly at random (cryptographic source)."""
    chars = []
    while len(chars) < length:
        chars.extend(ALPHABET[b % len(ALPHABET)] for b in token_bytes(length * 2) if b < _BYTE_LIMIT)
    return "".join(chars[:length])


def generate_codes(count, length=DEFAULT_LENGTH, prefix="", exclude=frozenset(), token_bytes=secrets.token_bytes):
    """``count`` distinct codes ``prefix + random part``, none of them in ``exclude``.

    Fast enough for 100,000 codes in well under a second: one call to the random
    source per code batch of bytes, no per-character call.
    """
    check_length(length)
    prefix = normalize_prefix(prefix)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidCodeSettings("the number of codes is a whole number, zero or more")
    if count > len(ALPHABET) ** length // 2:
        raise InvalidCodeSettings("too many codes for this length: use longer codes")
    size = len(ALPHABET)
    codes = set()
    result = []
    while len(result) < count:
        missing = count - len(result)
        # About 3% of bytes are rejected: ask for a little more than needed.
        data = token_bytes(missing * length + missing * length // 16 + 16)
        usable = [ALPHABET[b % size] for b in data if b < _BYTE_LIMIT]
        for start in range(0, len(usable) - length + 1, length):
            code = prefix + "".join(usable[start:start + length])
            if code in codes or code in exclude:
                continue
            codes.add(code)
            result.append(code)
            if len(result) == count:
                break
    return result


def format_code(code, group=GROUP_SIZE, prefix=""):
    """A code as printed on a card: the prefix, then the random part in groups of ``group``.

    ``format_code("DIWALIABCDEFGHJK", prefix="DIWALI")`` → ``"DIWALI-ABCDE-FGHJK"``;
    :func:`normalize_code` turns it back into the stored code.
    """
    prefix = normalize_code(prefix)
    body = code[len(prefix):] if prefix and code.startswith(prefix) else code
    parts = [body[i:i + group] for i in range(0, len(body), group)] if group > 0 else [body]
    if prefix and code.startswith(prefix):
        parts.insert(0, prefix)
    return "-".join(p for p in parts if p)


def codes_csv(rows, header=("code", "printed", "state", "valid_until", "batch")):
    """CSV text (UTF-8 with BOM, so spreadsheet programs show it right) of ``rows`` (tuples)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None or value is False else _safe_cell(value) for value in row])
    return buffer.getvalue()


def _safe_cell(value):
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    text = str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def normalize_reference(text):
    """A receipt or document reference as compared for duplicates: trimmed, single spaces, upper case."""
    if text is None:
        return ""
    return " ".join(str(text).split()).upper()
