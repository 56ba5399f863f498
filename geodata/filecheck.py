"""One sanity check of a source file before it is parsed: present, not empty, not a web page saved in its place.

Why one place: the same three mistakes come with every kind of file (a CSV from data.caf.fr, an INSEE table, a
GeoJSON, a CAF extract uploaded on the « Données » page): a path that does not exist, a download that wrote nothing,
and — most often — the publisher's login or error page saved under the data's name. Each is refused with the same
French message whatever the reader (CSV/XLSX, GeoJSON, BPE, upload); the download command reuses the detection.
"""

from __future__ import annotations

import re
from pathlib import Path

from geodata.errors import DataError, Problem

EMPTY = "fichier vide"
EMPTY_HINT = "vérifiez l'export : aucune donnée n'a été écrite"
HTML = "ce fichier est une page HTML (page d'erreur ou de connexion enregistrée à la place des données)"
HTML_HINT = "téléchargez à nouveau le fichier depuis le site du producteur"
HEAD_BYTES = 4096
"""How much of a file the check reads (a page is recognised by its first bytes)."""

_MARKUP_START = re.compile(rb"^\s*<\s*(!doctype|html|head|body|\?xml|!--)", re.IGNORECASE)


def looks_like_html(head: bytes) -> bool:
    """Whether the first bytes of a file are a web page (or other markup) rather than data."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    return bool(_MARKUP_START.match(head[:1024])) or b"<html" in head[:2048].lower()


def check_head(head: bytes, file: str, *, html_hint: str = HTML_HINT) -> None:
    """Refuse an empty file or a web page from its first bytes (``file`` names it in the message).

    Raises:
        DataError: « fichier vide », or the page-instead-of-data message on line 1.
    """
    if not head.strip():
        raise DataError(Problem(file, EMPTY, suggestion=EMPTY_HINT))
    if looks_like_html(head):
        raise DataError(Problem(file, HTML, row=1, suggestion=html_hint))


def check_source(path: Path) -> None:
    """Refuse a missing, empty or HTML file before any reader opens it.

    Raises:
        DataError: « fichier introuvable » (with the path), or :func:`check_head`'s refusals.
    """
    if not path.is_file():
        raise DataError(Problem(path.name, "fichier introuvable", suggestion=str(path)))
    with path.open("rb") as handle:
        check_head(handle.read(HEAD_BYTES), path.name)
