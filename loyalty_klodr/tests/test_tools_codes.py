"""Promotional code generation, normalisation and export (no database)."""
import csv
import io
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.loyalty_klodr.tools.codes import (
    ALPHABET,
    InvalidCodeSettings,
    codes_csv,
    format_code,
    generate_codes,
    normalize_code,
    normalize_prefix,
    normalize_reference,
    random_part,
)


def test_alphabet_has_no_look_alikes():
    assert not set("01OIL") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31


def test_generated_codes_are_unique_and_well_formed():
    codes = generate_codes(20_000, length=10, prefix="diwali")
    assert len(codes) == len(set(codes)) == 20_000
    for code in codes[:500]:
        assert code.startswith("DIWALI") and len(code) == 16
        assert set(code[6:]) <= set(ALPHABET)


def test_generation_of_100000_codes():
    codes = generate_codes(100_000)
    assert len(set(codes)) == 100_000


def test_excluded_codes_are_never_generated():
    # A random source that repeats itself: the generator must skip repeats and excluded codes.
    stream = itertools.cycle(range(31))

    def token_bytes(n):
        return bytes(next(stream) for _ in range(n))

    first = generate_codes(1, length=6, token_bytes=token_bytes)
    assert first == ["ABCDEF"]
    more = generate_codes(3, length=6, exclude=set(first), token_bytes=token_bytes)
    assert "ABCDEF" not in more and len(set(more)) == 3


def test_bytes_outside_an_even_range_are_rejected():
    # 248 = 8 * 31: bytes 248..255 would favour the first letters; they are skipped.
    data = iter([255, 250, 248, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9] + [0] * 100)
    assert random_part(10, token_bytes=lambda n: bytes(next(data) for _ in range(n))) == "ABCDEFGHJK"


@pytest.mark.parametrize("bad", [0, 5, 21, True, "10", None])
def test_invalid_lengths(bad):
    with pytest.raises(InvalidCodeSettings):
        generate_codes(1, length=bad)


@pytest.mark.parametrize("bad", ["DI WALI!", "ÄBC", "X" * 13, "A/B"])
def test_invalid_prefixes(bad):
    with pytest.raises(InvalidCodeSettings):
        normalize_prefix(bad)


def test_prefix_is_normalised():
    assert normalize_prefix(" diw-ali ") == "DIWALI"
    assert normalize_prefix(None) == ""


@pytest.mark.parametrize("typed", ["abcde-fghjk", " ABCDE FGHJK ", "abcde–fghjk", "Abcde_Fghjk", "ABCDEFGHJK\n"])
def test_typed_forms_normalise_to_the_stored_code(typed):
    assert normalize_code(typed) == "ABCDEFGHJK"


def test_blank_codes_normalise_to_empty():
    assert normalize_code(None) == normalize_code("  - ") == ""


def test_format_groups_and_keeps_prefix():
    assert format_code("DIWALIABCDEFGHJK", prefix="diwali") == "DIWALI-ABCDE-FGHJK"
    assert format_code("ABCDEFGHJK") == "ABCDE-FGHJK"
    assert format_code("ABCDEFGHJKM") == "ABCDE-FGHJK-M"


@given(st.integers(min_value=6, max_value=20), st.text(alphabet="ABCDEFGHJKXYZ0189", max_size=12))
def test_printed_form_reads_back_as_the_code(length, prefix):
    code = generate_codes(1, length=length, prefix=prefix)[0]
    assert normalize_code(format_code(code, prefix=prefix)) == code
    assert normalize_code(format_code(code, prefix=prefix).lower()) == code


@given(st.text(max_size=40))
def test_normalisation_is_idempotent_and_never_crashes(text):
    once = normalize_code(text)
    assert normalize_code(once) == once
    assert once == once.upper() and " " not in once and "-" not in once


def test_csv_export_reads_back_and_defuses_formulas():
    text = codes_csv([("ABCDEFGHJK", "ABCDE-FGHJK", "Available", "2025-12-31", "=HYPERLINK(1)"),
                      ("MNPQRSTUVW", "MNPQR-STUVW", "Used", None, "Batch")])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["code", "printed", "state", "valid_until", "batch"]
    assert rows[1] == ["ABCDEFGHJK", "ABCDE-FGHJK", "Available", "2025-12-31", "'=HYPERLINK(1)"]
    assert rows[2][3] == ""


@pytest.mark.parametrize(("raw", "expected"), [(" inv-42 ", "INV-42"), ("Inv  42\t", "INV 42"), (None, "")])
def test_reference_normalisation(raw, expected):
    assert normalize_reference(raw) == expected
