"""Application factory: load the bundle, compute the indicators once, build the model and the page.

Call :func:`create_app` once per process: ``dash.callback`` registers callbacks in a global list that the first app
to serve a request takes over (Dash's design), so a second app in the same process would have no callbacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash
import flask

from dashboard import callbacks, presentation_callbacks  # noqa: F401 (registers the presentation callbacks)
from dashboard.auth import install_auth
from dashboard.donnees import register_donnees
from dashboard.export_view import register_export_route
from dashboard.layout import build_layout
from dashboard.model import DashboardModel, build_model
from dashboard.state import ViewState
from geodata.settings import PROJECT_ROOT

ASSETS = PROJECT_ROOT / "assets"
GEO_MAX_AGE = 31_536_000

INDEX = """<!DOCTYPE html>
<html lang="fr">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def _register_geo_route(server: flask.Flask, model: DashboardModel) -> None:
    """``/geo/<hash>/<name>.json``: the browser geometry, cached for a year (the hash changes with the bundle)."""

    def geo(digest: str, name: str) -> flask.Response:
        data = model.geo.get(name)
        if digest != model.geo_hash or data is None:
            flask.abort(404)
        response = flask.Response(data, mimetype="application/geo+json")
        response.headers["Cache-Control"] = f"public, max-age={GEO_MAX_AGE}, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    server.add_url_rule("/geo/<digest>/<name>.json", "ctg_geo", geo)


def create_app(
    settings: Any,
    bundle: Any = None,
    indicators: Any = None,
    registry: Mapping[str, Any] | None = None,
) -> dash.Dash:
    """Build the Dash app for a bundle (loaded from ``settings.bundle`` when not given).

    ``indicators`` and ``registry`` default to :func:`indicators.compute.compute_indicators` and
    :data:`indicators.registry.REGISTRY`; tests pass small fakes.
    """
    if bundle is None:
        from geodata.bundle import load_bundle

        bundle = load_bundle(settings.bundle)
    if indicators is None:
        from indicators.compute import compute_indicators

        indicators = compute_indicators(bundle)
    if registry is None:
        from indicators.registry import REGISTRY

        registry = REGISTRY
    model = build_model(bundle, indicators, registry, settings)
    app = dash.Dash(
        __name__,
        assets_folder=str(ASSETS),
        title="Carte des services aux familles",
        update_title=None,
        suppress_callback_exceptions=False,
        serve_locally=True,
    )
    app.index_string = INDEX
    server = app.server
    if getattr(settings, "secret_key", ""):
        server.secret_key = settings.secret_key
    server.extensions[callbacks.EXTENSION] = model
    _register_geo_route(server, model)
    register_export_route(server, model, bundle.manifest)
    state = ViewState()
    if state.indicator not in model.columns and model.columns:
        state = ViewState(indicator=next(iter(model.columns)))
    classes = model.classification(state.indicator, state.method, state.k, ())
    app.layout = build_layout(model, state, classes)
    install_auth(server, settings)  # « Données » page and donnees-* callbacks reserved to editors
    register_donnees(app, settings, bundle.manifest)  # wraps the layout: pages « Données » and « Aide »
    return app
