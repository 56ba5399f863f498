"""French numbers, read and written in one place: every importer, indicator, export and screen uses these.

Writing (:func:`format_number`): the thousands separator is the narrow no-break space U+202F (French typography,
CLDR ``fr``), so « 1 234,5 » never wraps between its digits; the decimal mark is a comma; a value that rounds to
zero is never written « -0 ». Why not ``locale``: the server's locale is unknown and process-wide, and this must be
identical everywhere.

Reading (:func:`parse_number`), the rule for every ambiguous case (tested in ``tests/geodata/test_numbers.py``):

- spaces of any kind (space, no-break U+00A0, narrow no-break U+202F, thin U+2009) group thousands and are dropped:
  « 1 234,5 » → 1234.5;
- a comma alone is the decimal mark: « 1,234 » → 1.234 and « 12,5 » → 12.5 (French writing);
- a dot alone is the decimal mark: « 1.234 » → 1.234 (publishers' files write « 1234.5 »; a dot is never read as a
  thousands separator when it is the only mark);
- dots *and* a comma: dots group thousands only when they do so exactly (groups of three before the comma):
  « 1.234,5 » → 1234.5, « 1.234.567,8 » → 1234567.8; any other mix is refused as ambiguous, in particular the
  English « 1,234.5 » (a comma before a dot) and « 12.34,5 »;
- several commas (« 1,234,567 ») or several dots without a comma (« 1.234.567 »): refused;
- a trailing « % » is dropped: « 12 % » → 12.0;
- the minus sign may be « - » or « − » (U+2212), a leading « + » is accepted;
- scientific notation is accepted: « 1e3 » → 1000.0; a writing too large for a float (« 1e400 ») reads as infinite,
  which every caller's bounds then refuse (« hors limites »), while the words « inf » and « nan » are not numbers.

A refused text gives ``None``: the caller names the file, line and column (:func:`geodata.readers.to_number`) or the
field typed by a user.
"""

from __future__ import annotations

import math
import re

THOUSANDS = "\u202f"
"""Narrow no-break space between groups of three digits."""
NBSP = "\u00a0"
"""No-break space between a number and its unit."""
MINUS = "\u2212"
"""The typographic minus sign, for bounds shown to people (« −90 »)."""
SECRET_TEXT = "secret statistique"
MISSING_TEXT = "non disponible"
NOT_AVAILABLE = "n.d."
STATE_VALUE = "valeur"
STATE_SECRET = "secret"
STATE_MISSING = "nd"
"""The three states of a statistic: a real value (possibly a true zero), a secret value, a value not available."""

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")
_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")
_DOT_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")


def parse_number(text: object) -> float | None:
    """The number a French or publisher's cell means, or None when it is not one (see the module docstring)."""
    t = _SPACES.sub("", "" if text is None else str(text)).replace(MINUS, "-")
    if t.endswith("%"):
        t = t[:-1]
    if "," in t and "." in t:
        if not _DOT_GROUPED.match(t):
            return None
        t = t.replace(".", "").replace(",", ".")
    elif t.count(",") == 1:
        t = t.replace(",", ".")
    if not _PLAIN.match(t):
        return None
    return float(t)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_number(value: float | None, decimals: int = 1, *, group: str = THOUSANDS, minus: str = "-") -> str:
    """``1234.5`` → ``"1 234,5"`` (``group`` between thousands); NaN or None → ``"n.d."``."""
    if value is None or _missing(float(value)):
        return NOT_AVAILABLE
    text = f"{float(value):,.{max(decimals, 0)}f}"
    if re.fullmatch(r"-0(\.0*)?", text):
        text = text[1:]
    return text.replace(",", "\0").replace(".", ",").replace("\0", group).replace("-", minus)


def format_short(value: float, *, minus: str = "-") -> str:
    """The shortest writing of a parameter or a bound: ``2.5`` → ``"2,5"``, ``3600`` → ``"3600"`` (``%g``)."""
    return f"{float(value):g}".replace(".", ",").replace("-", minus)


def format_euros(value: float | None, decimals: int = 0) -> str:
    """``3600`` → ``"3 600 €"`` (no-break space before the sign)."""
    return f"{format_number(value, decimals)}{NBSP}€"


def format_count(value: int) -> str:
    """A whole count with its thousands separated: ``20000`` → ``"20 000"``."""
    return format_number(value, 0)


_SINGULAR = {
    "structures": "structure",
    "places": "place",
    "enfants": "enfant",
    "habitants": "habitant",
    "quartiers": "quartier",
    "sites": "site",
    "points": "point",
    "communes": "commune",
    "accessibles": "accessible",
}
"""Plural words of the registry's units and of counts → their singular (the words before « pour » / « par »)."""
_UNIT_STOP = {"pour", "par", "de", "du", "("}


def is_plural(value: float) -> bool:
    """French rule: plural from 2 (« 0 structure », « 1,5 place », « 2 places »)."""
    return abs(float(value)) >= 2


def plural(count: float, singular: str, plural_form: str = "") -> str:
    """« 1 structure », « 2 structures », « 3 fichiers vérifiés », « 0 erreur bloquante » (``plural_form`` for
    irregular words: « niveaux »). A no-break space keeps the number with its word.

    Why one helper: every count written to a person (cards, legends, messages) agrees with its number, instead of
    « 1 structures » or « commune(s) ».
    """
    word = (plural_form or _plural_words(singular)) if is_plural(count) else singular
    decimals = 0 if float(count).is_integer() else 1
    return f"{format_number(count, decimals)}{NBSP}{word}"


_PLURAL_STOP = {"de", "d'", "du", "des", "sans", "à", "au", "en", "par", "pour", "sur", "avec", "dans", "hors", "non"}


def _plural_words(singular: str) -> str:
    """« fichier vérifié » → « fichiers vérifiés », « commune sans population » → « communes sans population »:
    every word up to the first preposition takes an s (words already ending in s, x or z stay)."""
    words = singular.split(" ")
    for j, word in enumerate(words):
        if word in _PLURAL_STOP or not word[:1].isalpha():
            break
        if not word.endswith(("s", "x", "z")):
            words[j] = word + "s"
    return " ".join(words)


def unit_agreed(value: float, unit: str) -> str:
    """The unit agreeing with its value: « 1 structure », « 1,2 place accessible pour 100 enfants », « 3 places »."""
    if not unit or is_plural(value):
        return unit
    words = unit.split(" ")
    for j, word in enumerate(words):
        if word in _UNIT_STOP or word.startswith("("):
            break
        words[j] = _SINGULAR.get(word, word)
    return " ".join(words)


def format_value(value: float | None, state: str = STATE_VALUE, decimals: int = 1, unit: str = "") -> str:
    """A statistic as a reader should see it: its state spelled out when it is not a real value, else number + unit
    (the unit agreeing with the number: « 1 structure », « 2 structures»)."""
    if state == STATE_SECRET:
        return SECRET_TEXT
    if state != STATE_VALUE or _missing(value):
        return MISSING_TEXT
    number = format_number(value, decimals)
    if not unit:
        return number
    shown = round(float(value or 0.0), max(decimals, 0))  # agree with the number written: « 1,96 » shown « 2,0 »
    return f"{number}{NBSP}{unit_agreed(shown, unit)}"
