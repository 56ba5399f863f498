"""One parser and one formatter of French numbers (geodata.numbers): the rule for every ambiguous writing."""

from __future__ import annotations

import pytest

from geodata.numbers import (
    MINUS,
    NBSP,
    THOUSANDS,
    format_count,
    format_euros,
    format_number,
    format_short,
    format_value,
    parse_number,
    plural,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", 1234.5),
        ("1 234,5", 1234.5),
        ("1\u00a0234,5", 1234.5),  # no-break space (Excel's French export)
        (f"1{THOUSANDS}234,5", 1234.5),  # narrow no-break space (what we write)
        ("1\u2009234", 1234.0),  # thin space
        ("1,234", 1.234),  # a comma alone is the decimal mark: French writing
        ("1.234", 1.234),  # a dot alone is the decimal mark: publishers' files
        ("1.234,5", 1234.5),  # dots grouping thousands exactly, then the decimal comma
        ("1.234.567,8", 1234567.8),
        ("12 %", 12.0),
        ("12%", 12.0),
        ("−5,5", -5.5),  # U+2212, the typographic minus
        ("-5", -5.0),
        ("+3", 3.0),
        ("1e3", 1000.0),
        ("2,5E-1", 0.25),
        ("0", 0.0),
    ],
)
def test_accepted_writings(text, expected):
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text",
    [
        "1,234.5",  # English grouping: ambiguous for a French reader, refused rather than guessed
        "12.34,5",  # dots that do not group thousands
        "1,234,567",  # several commas
        "1.234.567",  # several dots and no comma
        "",
        "dix",
        "12 km",
        "nan",
        "inf",
        "--1",
    ],
)
def test_refused_writings(text):
    assert parse_number(text) is None


def test_an_overflowing_writing_is_infinite_for_the_bounds_to_refuse():
    assert parse_number("1e400") == float("inf")


def test_format_number_is_the_inverse_of_parse_number():
    for value in (0.0, 1.5, 1234.5, 1234567.25, -2500.0):
        assert parse_number(format_number(value, 2)) == pytest.approx(value)


def test_formats():
    assert format_number(1234.5) == f"1{THOUSANDS}234,5"
    assert format_number(-0.01) == "0,0"
    assert format_number(None) == "n.d."
    assert format_number(-90.0, 0, minus=MINUS) == "−90"
    assert format_number(3600, 0, group=" ") == "3 600"
    assert format_short(2.5) == "2,5" and format_short(3600) == "3600"
    assert format_euros(3600) == f"3{THOUSANDS}600{NBSP}€"
    assert format_count(20_000) == f"20{THOUSANDS}000"
    assert format_value(float("nan"), "valeur", 1, "km") == "non disponible"
    assert format_value(0.0, "valeur", 0, "places") == f"0{NBSP}place"  # French: singular below 2
    assert format_value(12.0, "valeur", 0, "places") == f"12{NBSP}places"


@pytest.mark.parametrize(
    ("count", "word", "expected"),
    [
        (1, "structure", "1 structure"),
        (2, "structure", "2 structures"),
        (0, "commune", "0 commune"),
        (1234, "commune", f"1{THOUSANDS}234 communes"),
        (3, "fichier vérifié", "3 fichiers vérifiés"),
        (2, "erreur bloquante", "2 erreurs bloquantes"),
        (5, "commune sans population", "5 communes sans population"),
        (4, "niveau", "4 niveaux"),  # irregular: given
        (2, "prix", "2 prix"),
    ],
)
def test_plural_agrees_from_two(count, word, expected):
    irregular = "niveaux" if word == "niveau" else ""
    assert plural(count, word, irregular) == expected.replace(" ", NBSP, 1)


@pytest.mark.parametrize(
    ("value", "decimals", "unit", "expected"),
    [
        (1, 0, "structures", "1 structure"),
        (1, 0, "sites", "1 site"),
        (2, 0, "sites", "2 sites"),
        (
            1.24,
            1,
            "places accessibles pour 100 enfants de moins de 3 ans",
            "1,2 place accessible pour 100 enfants de moins de 3 ans",
        ),
        (1.96, 1, "places pour 100 enfants", "2,0 places pour 100 enfants"),  # agrees with the number written
        (1, 0, "habitants par km²", "1 habitant par km²"),
        (1.5, 1, "km", "1,5 km"),
        (1, 1, "%", "1,0 %"),
    ],
)
def test_units_agree_with_their_value(value, decimals, unit, expected):
    assert format_value(value, "valeur", decimals, unit) == expected.replace(" ", NBSP, 1)
