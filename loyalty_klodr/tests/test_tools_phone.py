"""Mobile number normalisation (no database)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools.phone import InvalidPhoneNumber, normalize_mobile


@pytest.mark.parametrize("raw", ["98450 12345", "+91-98450-12345", "0091 9845012345", "09845012345",
                                 "+91 (98450) 12345", " 9845012345 "])
def test_indian_formats(raw):
    assert normalize_mobile(raw, "IN") == "+919845012345"


def test_international_number_keeps_its_country():
    assert normalize_mobile("+44 7911 123456", "IN") == "+447911123456"


@pytest.mark.parametrize("raw", ["", "   ", "12345", "080 2222 3333", "abcdefghij", "+91 98450 12345 678",
                                 "9" * 40, None, 9845012345])
def test_invalid_numbers_refused(raw):
    with pytest.raises(InvalidPhoneNumber):
        normalize_mobile(raw, "IN")


@given(st.text(max_size=40))
def test_never_crashes_and_output_is_e164(text):
    try:
        result = normalize_mobile(text, "IN")
    except InvalidPhoneNumber:
        return
    assert result.startswith("+") and result[1:].isdigit()
    assert normalize_mobile(result, "IN") == result
