"""Pure-Python logic of the SMS addon (no ORM, no database): the DLT gateway request and
answer, and the promotional sending window. The provider adapters (``sms_api``) use them."""
from . import dlt, window  # noqa: F401
