"""Split a discount over the lines (or tax groups) it discounts, exact to the last unit.

A redemption worth 100.00 on an order with lines at 5 %, 12 % and 18 % GST becomes one
discount line per tax set, each proportional to the value it discounts, so that tax is
computed on the discounted value (CGST Act s.15(3)(a)). Rounding each share on its own can
lose or invent a paisa; the largest-remainder method (Hamilton) hands the units left over
to the shares whose exact value was rounded down the most, so the parts always sum to the
total exactly.
"""
from decimal import ROUND_FLOOR, Decimal

CENT = Decimal("0.01")


def _dec(value):
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def largest_remainder(total, weights, rounding=CENT):
    """Split ``total`` in proportion to ``weights``, each part a multiple of ``rounding``.

    - the parts sum to ``total`` exactly (``total`` is first rounded to ``rounding``);
    - a part is never above its weight when ``total`` ≤ sum of weights (a discount never
      exceeds what it discounts), and a zero weight gets zero;
    - ties in remainders go to the larger weight, then to the earlier position, so the
      result is deterministic.

    :param total: amount to split (Decimal, int, str or float); may be negative (a refund).
    :param weights: non-negative amounts (the discounted values).
    :param rounding: the currency's smallest unit (Decimal('0.01') for INR).
    :return: list of Decimal, same length as ``weights``.
    :raise ValueError: on a negative weight, a zero/negative rounding, or a non-zero total
        over weights that are all zero.
    """
    rounding = _dec(rounding)
    if rounding <= 0:
        raise ValueError("rounding must be positive")
    weights = [_dec(w) for w in weights]
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    total = _dec(total)
    sign = -1 if total < 0 else 1
    units_total = int((abs(total) / rounding).to_integral_value())  # half-even: total in units
    weight_sum = sum(weights, Decimal(0))
    if not weights:
        if units_total:
            raise ValueError("nothing to apportion over")
        return []
    if weight_sum == 0:
        if units_total:
            raise ValueError("cannot apportion a non-zero total over zero weights")
        return [Decimal(0) * rounding for _ in weights]
    exact = [Decimal(units_total) * w / weight_sum for w in weights]
    floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    left = units_total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), -weights[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * units * rounding for units in floors]


def apportion_by_key(total, amounts_by_key, rounding=CENT):
    """``largest_remainder`` over a mapping ``{key: amount}`` (e.g. tax set → discounted base).

    Keys keep their insertion order; keys with a zero amount are left out of the result.
    """
    keys = list(amounts_by_key)
    parts = largest_remainder(total, [amounts_by_key[k] for k in keys], rounding)
    return {k: p for k, p in zip(keys, parts, strict=True) if _dec(amounts_by_key[k]) != 0}
