"""Amounts in words in Indian numbering (lakh, crore), as Indian invoices print them.

``indian_amount_in_words(Decimal("12345678.90"))`` →
"Rupees One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred and Seventy-Eight and
Ninety Paise Only". The words always come from num2words' ``en_IN`` converter, whatever the
user's language: it is the only one that counts in lakh and crore (``hi`` is not implemented).
Amounts of a thousand crore and more, which num2words refuses, are read as "N Crore ..."
recursively ("One Lakh Crore").
"""
from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

CRORE = 10**7


def _dec(value):
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _title(words):
    """'six hundred and seventy-eight' → 'Six Hundred and Seventy-Eight' ("and" stays lower case)."""
    out = []
    for word in words.replace(",", " ").split():
        if word == "and":
            out.append(word)
        else:
            out.append("-".join(part[:1].upper() + part[1:] for part in word.split("-")))
    return " ".join(out)


def integer_in_words(number):
    """A non-negative integer in Indian numbering, title case ("Twelve Lakh Thirty-Four Thousand")."""
    number = int(number)
    if number < 0:
        raise ValueError("number must not be negative")
    if number >= CRORE:
        head, tail = divmod(number, CRORE)
        words = f"{integer_in_words(head)} Crore"
        return f"{words} {integer_in_words(tail)}" if tail else words
    return _title(num2words(number, lang="en_IN"))


def indian_amount_in_words(amount, unit="Rupees", subunit="Paise", suffix="Only", digits=2):
    """``amount`` (Decimal, int, str or float) in words, e.g. "Rupees One Hundred and Ninety Paise Only".

    - the amount is first rounded half-up to ``digits`` decimals (paise);
    - no paise: "Rupees Five Only"; no rupees: "Rupees Zero and Fifty Paise Only";
    - a negative amount reads "Minus Rupees ...".
    """
    amount = _dec(amount).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    sign = "Minus " if amount < 0 else ""
    amount = abs(amount)
    whole = int(amount)
    fraction = int((amount - whole) * (10**digits))
    text = f"{sign}{unit} {integer_in_words(whole)}"
    if fraction:
        text += f" and {integer_in_words(fraction)} {subunit}"
    return f"{text} {suffix}" if suffix else text
