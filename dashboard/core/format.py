"""Text for the browser: data text escaped for plotly, class breaks typed by a user. Pure functions.

Numbers themselves are written and read by :mod:`geodata.numbers` (one formatter, one parser for the whole project).
"""

from __future__ import annotations

import re

from geodata.numbers import parse_number


def parse_breaks(text: str) -> list[float]:
    """Manual class breaks typed by a user, separated by « ; » (``"10 ; 20,5 ; 1 000"``) → sorted unique floats.

    Raises:
        ValueError: one item is not a number (message in French naming it).
    """
    items = [item for item in re.split(r"[;|]", text or "") if item.strip()]
    values = set()
    for item in items:
        value = parse_number(item)
        if value is None:
            raise ValueError(f"« {item.strip()} » n'est pas un nombre")
        values.add(value)
    return sorted(values)


def escape_text(text: object) -> str:
    """Escape ``&``, ``<`` and ``>`` in data text put into plotly hover or text, which renders HTML-like tags."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
