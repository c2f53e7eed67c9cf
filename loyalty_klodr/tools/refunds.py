"""Points a refund takes back (and gives back), in proportion to the money refunded."""
from decimal import ROUND_HALF_UP, Decimal


def proportional_points(points, amount, refunded_before, refunding):
    """Points to reverse now so that, in total, ``points x refunded / amount`` are reversed.

    Cumulative rounding (half up on the running total, minus what earlier refunds
    took) makes a series of partial refunds that adds up to the whole amount reverse
    exactly ``points``, never one point more or less.
    """
    amount, refunded_before, refunding = (Decimal(str(v)) for v in (amount, refunded_before, refunding))
    if points < 0 or amount < 0 or refunded_before < 0 or refunding <= 0:
        raise ValueError("points and amounts are positive")
    if refunded_before + refunding > amount:
        raise ValueError("a refund cannot exceed what remains of the purchase")
    if amount == 0:
        return 0

    def share(refunded):
        if refunded == amount:
            return points
        return int((Decimal(points) * refunded / amount).to_integral_value(rounding=ROUND_HALF_UP))

    return share(refunded_before + refunding) - share(refunded_before)
