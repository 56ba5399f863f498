"""Small components every page uses: the header links between pages and the guard of an upload area. Pure."""

from __future__ import annotations

from typing import Any

from dash import html
from dash.development.base_component import Component


def aria(**values: str) -> dict[str, Any]:
    """``aria-*`` attributes for a component (``**aria(live="polite")``): Dash takes them only as keywords with a
    dash, which Python cannot write directly and which the components' signatures do not declare."""
    return {f"aria-{name}": value for name, value in values.items()}


def make_nav() -> html.Nav:
    """Header links between the pages (plain links: a full load, so ``/donnees`` can ask for the password)."""
    return html.Nav(
        [html.A("Carte", href="/"), html.A("Données", href="/donnees"), html.A("Aide", href="/aide")],
        className="page-nav",
        **aria(label="Pages"),
    )


def upload_guard(upload: Component, max_bytes: int, too_large: str, message_id: str) -> html.Div:
    """``upload`` wrapped so that a file over ``max_bytes`` (which ``dcc.Upload`` drops without a sign) gets
    ``too_large`` — the server's own message — in the element ``message_id`` (``assets/upload-limits.js``)."""
    attributes: dict[str, Any] = {
        "data-max-bytes": str(max_bytes),
        "data-too-large": too_large,
        "data-message-id": message_id,
    }
    return html.Div(upload, className="upload-guard", **attributes)
