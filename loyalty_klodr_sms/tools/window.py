"""When a promotional SMS may leave: between 10:00 and 21:00, the member's (program's) local time."""
from datetime import datetime, time, timedelta

import pytz

WINDOW_START = time(10, 0)
WINDOW_END = time(21, 0)


def next_send_time(now_utc, tz_name, start=WINDOW_START, end=WINDOW_END):
    """The moment (naive UTC) a promotional message may be sent, or ``None`` if it may leave now.

    :param now_utc: naive UTC datetime (Odoo's ``fields.Datetime.now()``).
    :param tz_name: the program's timezone (``Asia/Kolkata``); unknown or empty means UTC.
    The window is ``[start, end)``: at ``end`` exactly the message waits for the next day's ``start``.
    """
    try:
        tz = pytz.timezone(tz_name or "UTC")
    except pytz.UnknownTimeZoneError:
        tz = pytz.utc
    local = pytz.utc.localize(now_utc).astimezone(tz)
    if start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    opening = tz.localize(datetime.combine(day, start))
    return opening.astimezone(pytz.utc).replace(tzinfo=None)
