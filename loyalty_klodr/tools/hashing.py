"""Hash chain of ledger entries.

Each entry's hash covers its content and the hash of the member's previous
entry, so that altering, removing or reordering an entry breaks the chain
(as Odoo's inalterable journals do for moves). The chain is per member: the
member row, locked anyway when points move, holds the chain's head, so
members never wait for each other.
"""
import hashlib
import json
from datetime import date, datetime

GENESIS = "0" * 64

# The entry columns the hash covers, in a fixed order. Never reorder or
# remove one: every stored hash would stop matching.
HASHED_FIELDS = (
    "program_id",
    "member_id",
    "entry_type",
    "points",
    "balance_after",
    "date",
    "expiry_date",
    "idempotency_key",
    "source_model",
    "source_id",
    "source_ref",
    "store_id",
)
_INTEGER_FIELDS = frozenset({"points", "balance_after"})


def _canonical(value):
    if value is None or value is False:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0, tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)):
        return value
    raise TypeError(f"cannot hash a {type(value).__name__}")


def entry_hash(prev_hash, values):
    """SHA-256 (hex) of the previous hash and the hashed fields of ``values``.

    Falsy relational values (False, None, 0 ids from Odoo) hash alike, as
    they are the same thing once stored.
    """
    if not isinstance(prev_hash, str) or len(prev_hash) != 64:
        raise ValueError("prev_hash must be a 64-character hex digest")
    payload = [prev_hash]
    for name in HASHED_FIELDS:
        value = values.get(name)
        if name not in _INTEGER_FIELDS and not value:
            value = None
        payload.append(_canonical(value))
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def expire_entry_hash(prev_hash, program_id, member_id, points, balance_after, date_text, lot_id):
    """``entry_hash`` of an ``expire`` entry, without building a dict: the expiry run hashes
    a million of these.

    The JSON is written directly; it is byte-for-byte what ``entry_hash`` dumps for the
    same entry (ids and points are integers, ``date_text`` is ``YYYY-MM-DD HH:MM:SS``, the
    key ``expire:<lot id>``, source and store empty), which a property test checks.
    """
    data = (f'["{prev_hash}",{int(program_id)},{int(member_id)},"expire",{int(points)},{int(balance_after)},'
            f'"{date_text}",null,"expire:{int(lot_id)}",null,null,null,null]')
    return hashlib.sha256(data.encode()).hexdigest()
