"""Business refusals carrying the error codes of the REST contract (API.md)."""
from odoo.exceptions import UserError


class LoyaltyError(UserError):
    """A refusal a user or an integrator can act on.

    ``code`` is the machine-readable code of API.md (``insufficient_points``,
    ``member_inactive``, ...); ``details`` adds structured context.
    """

    code = "validation_error"

    def __init__(self, message, code=None, **details):
        super().__init__(message)
        if code:
            self.code = code
        self.details = details


class IdempotencyConflict(LoyaltyError):
    """The idempotency key was already used for a different operation."""

    code = "idempotency_key_reused"


class InsufficientPoints(LoyaltyError):
    code = "insufficient_points"
