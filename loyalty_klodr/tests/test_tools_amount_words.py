"""Indian amount in words: unit and property tests (no database)."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools.amount_words import indian_amount_in_words, integer_in_words

D = Decimal


def test_issue_example_one_crore():
    assert indian_amount_in_words(D("12345678.90")) == (
        "Rupees One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred and Seventy-Eight"
        " and Ninety Paise Only")


def test_float_and_string_inputs_agree():
    assert indian_amount_in_words(12345678.90) == indian_amount_in_words("12345678.90")


def test_whole_rupees_and_paise_only():
    assert indian_amount_in_words(D("5")) == "Rupees Five Only"
    assert indian_amount_in_words(D("0.50")) == "Rupees Zero and Fifty Paise Only"
    assert indian_amount_in_words(D("0")) == "Rupees Zero Only"
    assert indian_amount_in_words(D("100000.01")) == "Rupees One Lakh and One Paise Only"


def test_rounding_half_up_to_paise():
    assert indian_amount_in_words(D("1.005")) == "Rupees One and One Paise Only"
    assert indian_amount_in_words(D("1.999")) == "Rupees Two Only"


def test_negative_amount():
    assert indian_amount_in_words(D("-20.25")) == "Minus Rupees Twenty and Twenty-Five Paise Only"


def test_beyond_num2words_range_reads_crore_of_crore():
    assert integer_in_words(10**12) == "One Lakh Crore"
    assert integer_in_words(10**9) == "One Hundred Crore"
    assert integer_in_words(12345 * 10**7 + 1) == "Twelve Thousand Three Hundred and Forty-Five Crore One"


def test_other_labels():
    assert indian_amount_in_words(D("2.10"), unit="INR", subunit="Paisa", suffix="") == "INR Two and Ten Paisa"


def test_negative_integer_refused():
    with pytest.raises(ValueError):
        integer_in_words(-1)


@given(st.integers(min_value=0, max_value=10**14))
def test_words_are_title_case_without_commas(number):
    words = integer_in_words(number)
    assert "," not in words
    for word in words.split():
        assert word == "and" or word[0].isupper()
    # each scale word appears in descending order
    scales = [w for w in words.split() if w in ("Crore", "Lakh", "Thousand")]
    if "Crore" not in scales:
        assert scales == sorted(scales, key=["Lakh", "Thousand"].index)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_amount_has_rupees_and_only(amount):
    text = indian_amount_in_words(amount)
    assert text.startswith("Rupees ") and text.endswith(" Only")
    assert ("Paise" in text) == (amount % 1 != 0)
