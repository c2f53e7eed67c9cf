"""Pure-Python logic of Klodr Loyalty: no ORM, no database.

Models gather records, call these functions and write their results; every
function here is tested directly (unit and hypothesis property tests).
"""
from . import expiry, fifo, hashing, ledger_check, phone  # noqa: F401
