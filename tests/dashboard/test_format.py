"""French number formatting (narrow no-break space U+202F for thousands, comma for decimals)."""

from __future__ import annotations

import pytest

from dashboard.core.format import escape_text, parse_breaks
from geodata.numbers import format_number, format_value, parse_number

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234.5, 1, f"1{NNBSP}234,5"),
        (1234567, 0, f"1{NNBSP}234{NNBSP}567"),
        (0.05, 1, "0,1"),
        (12, 1, "12,0"),
        (-0.01, 1, "0,0"),
        (-2500, 0, f"-2{NNBSP}500"),
        (float("nan"), 1, "n.d."),
        (None, 1, "n.d."),
    ],
)
def test_format_number(value, decimals, expected):
    assert format_number(value, decimals) == expected


def test_format_value_spells_out_states_and_appends_unit_with_nbsp():
    assert format_value(3.0, "valeur", 1, "km") == "3,0\u00a0km"
    assert format_value(0.0, "valeur", 0, "places") == "0\u00a0place"  # French: singular below 2
    assert format_value(2.0, "valeur", 0, "places") == "2\u00a0places"
    assert format_value(float("nan"), "secret", 1, "km") == "secret statistique"
    assert format_value(5.0, "nd", 1, "km") == "non disponible"


def test_parse_number_and_breaks_accept_french_input():
    assert parse_number(f"1{NNBSP}234,5") == 1234.5
    assert parse_number("1 000") == 1000.0
    assert parse_breaks("1.234,5 ; 2") == [2.0, 1234.5]  # the one parser of geodata.numbers
    with pytest.raises(ValueError, match=r"« 1,234\.5 » n'est pas un nombre"):
        parse_breaks("1,234.5")
    assert parse_breaks("20 ; 10,5;10,5 ; 1 000") == [10.5, 20.0, 1000.0]
    assert parse_breaks("") == []
    with pytest.raises(ValueError, match="« dix » n'est pas un nombre"):
        parse_breaks("5 ; dix")


def test_escape_text_neutralises_tags():
    assert escape_text("<b>A & B</b>") == "&lt;b&gt;A &amp; B&lt;/b&gt;"
