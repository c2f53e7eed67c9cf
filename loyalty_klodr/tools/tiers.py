"""Tier of a member from what they earned (and spent) in the program's rolling window."""
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class TierLevel:
    id: int
    name: str
    threshold_points: int = 0
    threshold_amount: Decimal = Decimal(0)  # 0: no amount condition
    sequence: int = 10


def _ladder(levels):
    return sorted(levels, key=lambda t: (t.threshold_points, t.threshold_amount, t.sequence, t.id))


def qualifying_tier(levels, window_points, window_amount=Decimal(0)):
    """The highest tier whose thresholds the window meets (None when none does)."""
    best = None
    for level in _ladder(levels):
        if window_points >= level.threshold_points and window_amount >= level.threshold_amount:
            best = level
    return best


def next_tier(levels, current, window_points):
    """``(tier, points_needed)`` for the next tier up, or None at the top."""
    ladder = _ladder(levels)
    above = ladder[ladder.index(current) + 1:] if current in ladder else ladder
    for level in above:
        if level.threshold_points > window_points or current is None:
            return level, max(level.threshold_points - window_points, 0)
    return None


def decide_tier(levels, current, window_points, window_amount=Decimal(0), allow_downgrade=False):
    """The tier to hold now: up at once on earning, down only when ``allow_downgrade`` (nightly)."""
    qualified = qualifying_tier(levels, window_points, window_amount)
    if current is None or qualified is None:
        return qualified if (allow_downgrade or current is None) else current
    ladder = _ladder(levels)
    if current not in ladder:  # archived tier: re-rank
        return qualified
    if ladder.index(qualified) > ladder.index(current) or allow_downgrade:
        return qualified
    return current
