"""Pseudonymising a member's personal data (DPDP Act 2023), without the ORM.

The ledger never holds personal data: its entries name the member by id and their hash
covers ids, types, points, dates and references only (``tools.hashing.HASHED_FIELDS``).
What the erasure replaces lives on the member row and in copies of it kept as text
(webhook payloads, stored API answers), which ``scrub`` cleans.
"""
import json

REDACTED = "[erased]"


def pseudonyms(member_id, code):
    """The values that replace an erased member's name and mobile (unique per member)."""
    return {"name": f"ERASED {code or member_id}", "mobile": f"erased:{member_id}"}


def _forms(value):
    """``value`` as it appears in text: raw, and escaped inside a JSON string."""
    escaped = json.dumps(value)[1:-1]
    return {value, escaped} - {""}


def scrub(text, secrets, replacement=REDACTED):
    """``text`` with every occurrence of each secret (raw or JSON-escaped) replaced.

    Longer secrets go first, so that a secret containing another is replaced whole.
    """
    if not text:
        return text
    forms = set()
    for secret in secrets:
        if secret and isinstance(secret, str) and secret.strip():
            forms |= _forms(secret)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, replacement)
    return text
