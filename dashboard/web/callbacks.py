"""Callbacks of the page router and of the « Aide » page (registered by the app factory, :mod:`dashboard.app`)."""

from __future__ import annotations

from typing import Any

import flask
from dash import Input, Output, callback, clientside_callback, no_update

from dashboard.core import ids
from dashboard.core.runtime import current_model
from dashboard.web.pages import ROUTER_JS, make_guide

clientside_callback(
    ROUTER_JS,
    Output(ids.PAGE, "hidden"),
    Output(ids.DONNEES_PAGE, "hidden"),
    Output(ids.AIDE_PAGE, "hidden"),
    Input(ids.URL, "pathname"),
)


@callback(Output(ids.AIDE_CONTENT, "children"), Input(ids.URL, "pathname"))
def show_guide(path: str | None) -> Any:
    """Render the guide the first time the « Aide » page is opened (nothing is sent for the other pages)."""
    if (path or "/").rstrip("/") != "/aide":
        return no_update
    model = current_model() if flask.has_app_context() else None
    return make_guide(territory=model.territory if model is not None else None)
