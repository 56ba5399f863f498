"""French number formatting for everything the app shows (legend, hover, card, table): pure functions.

Choice: the thousands separator is the narrow no-break space U+202F (French typography, CLDR ``fr``), so « 1 234,5 »
never wraps between its digits; the decimal mark is a comma. Parsing accepts any space, a comma or a dot.
"""

from __future__ import annotations

import math
import re

THOUSANDS = "\u202f"
"""Narrow no-break space between groups of three digits."""
NBSP = "\u00a0"
"""No-break space between a number and its unit."""

SECRET_TEXT = "secret statistique"
MISSING_TEXT = "non disponible"


def format_number(value: float | int | None, decimals: int = 1) -> str:
    """``1234.5`` → ``"1 234,5"`` (narrow no-break space); NaN or None → ``"n.d."``.

    Why not ``locale``: the server's locale is unknown and process-wide; this must be identical everywhere.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.d."
    text = f"{float(value):,.{max(decimals, 0)}f}"
    if text in {"-0", "-0.0", "-0.00"} or re.fullmatch(r"-0\.0*", text):
        text = text[1:]
    return text.replace(",", THOUSANDS).replace(".", ",")


def format_value(value: float | None, state: str = "valeur", decimals: int = 1, unit: str = "") -> str:
    """A statistic as a reader should see it: its state spelled out when it is not a real value, else number + unit."""
    if state == "secret":
        return SECRET_TEXT
    if state != "valeur" or value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_TEXT
    number = format_number(value, decimals)
    if not unit:
        return number
    return f"{number}{NBSP}{unit}"


def parse_number(text: str) -> float:
    """``"1 234,5"`` or ``"1234.5"`` → ``1234.5``.

    Raises:
        ValueError: the text is not a number (message in French).
    """
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", str(text)).replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"« {text.strip()} » n'est pas un nombre") from None


def parse_breaks(text: str) -> list[float]:
    """Manual class breaks typed by a user, separated by « ; » (``"10 ; 20,5 ; 1 000"``) → sorted unique floats.

    Raises:
        ValueError: one item is not a number (message in French naming it).
    """
    items = [item for item in re.split(r"[;|]", text or "") if item.strip()]
    return sorted({parse_number(item) for item in items})


def escape_text(text: object) -> str:
    """Escape ``&``, ``<`` and ``>`` in data text put into plotly hover or text, which renders HTML-like tags."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
