"""Routing between the pages of the one Dash app, and the « Aide » page (the user guide).

The three pages (the map ``/``, « Données » ``/donnees``, « Aide » ``/aide``) are in the layout from the start and a
clientside callback on ``dcc.Location.pathname`` shows one of them (:data:`ROUTER_JS`), so the map's callbacks and
its URL state are untouched. The header links are plain ``<a href>`` (a full page load): that is what lets the HTTP
guard of :mod:`dashboard.web.auth` ask an anonymous visitor of ``/donnees`` for the editor password before the page
appears. Static files (guide images, CAF templates) are served by name only, never by path (:func:`safe_file`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import flask
from dash import dcc, html

from dashboard.core import ids
from dashboard.core.widgets import make_nav
from geodata.settings import PROJECT_ROOT

GUIDE_FILE = PROJECT_ROOT / "docs" / "guide-utilisateur.md"
GUIDE_IMAGES = PROJECT_ROOT / "docs" / "guide"
GUIDE_IMAGE_ROUTE = "/aide/images"
_IMAGE_NAME = re.compile(r"^[a-z0-9_-]+\.png$")
_GUIDE_IMAGE_LINK = re.compile(r"\]\(guide/([a-z0-9_-]+\.png)\)")


def guide_markdown(text: str) -> str:
    """The guide's Markdown with its images (``guide/x.png``, relative to ``docs/``) pointing at the image route."""
    return _GUIDE_IMAGE_LINK.sub(lambda m: f"]({GUIDE_IMAGE_ROUTE}/{m.group(1)})", text)


def make_aide_page() -> html.Div:
    """The « Aide » page, empty until visited (:func:`make_guide`): a hidden page should not make every visitor of
    the map download the Markdown renderer and the guide's screenshots."""
    return html.Div(
        [
            html.Header([make_nav()], className="page-header"),
            html.Div(id=ids.AIDE_CONTENT),
        ],
        id=ids.AIDE_PAGE,
        className="page aide",
        hidden=True,
    )


def guide_for_territory(text: str, territory: Any = None) -> str:
    """The guide (written for the 66) naming the built territory: its Caf, its code, its example commune.

    The screenshots stay those of the 66: a line under the title says so."""
    if territory is None or territory.code == "66":
        return text
    for old, new in (
        ("Caf des Pyrénées-Orientales", territory.caf),
        ("département 66", f"département {territory.code}"),
        ("66136", territory.example_code or "CODE_INSEE"),
        ("Perpignan", territory.example_name or "la commune"),
    ):
        text = text.replace(old, new)
    title, _, rest = text.partition("\n")
    note = "\n\n*Les captures d'écran de ce guide montrent l'exemple des Pyrénées-Orientales (66).*\n"
    return f"{title}{note}{rest}"


def make_guide(path: Path = GUIDE_FILE, territory: Any = None) -> dcc.Markdown:
    """The user guide rendered as Markdown (no raw HTML), naming the built territory (:func:`guide_for_territory`)."""
    markdown = path.read_text(encoding="utf-8") if path.is_file() else "# Guide\n\nGuide absent."
    return dcc.Markdown(
        guide_markdown(guide_for_territory(markdown, territory)), className="guide", link_target="_self"
    )


ROUTER_JS = """
function(path) {
    const keep = window.dash_clientside.no_update;
    const page = ((path || "/").replace(/\\/+$/, "") || "/");
    const donnees = page === "/donnees", aide = page === "/aide";
    if (donnees || aide) { document.title = donnees ? "Données - ctg-carto" : "Aide - ctg-carto"; }
    return [donnees || aide ? true : keep, donnees ? false : keep, aide ? false : keep];
}
"""


def safe_file(name: str, directory: Path, pattern: re.Pattern[str]) -> Path | None:
    """``directory/name`` if ``name`` is a plain allowed file name of an existing file there, else None."""
    if not isinstance(name, str) or not pattern.match(name):
        return None
    path = (Path(directory) / name).resolve()
    if path.parent != Path(directory).resolve() or not path.is_file():
        return None
    return path


def send_static(path: Path | None, as_attachment: bool) -> flask.Response:
    """``path`` served by Flask, or a 404 when the page has no such file."""
    if path is None:
        flask.abort(404)
    response = flask.send_file(path, as_attachment=as_attachment, download_name=path.name, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def register_guide_route(server: flask.Flask) -> None:
    """``/aide/images/<name>.png``: the guide's screenshots (plain names only)."""
    server.add_url_rule(
        f"{GUIDE_IMAGE_ROUTE}/<name>",
        "ctg_aide_images",
        lambda name: send_static(safe_file(name, GUIDE_IMAGES, _IMAGE_NAME), as_attachment=False),
    )
