"""Application factory: load the bundle, compute the indicators once, build the model and the page.

Call :func:`create_app` once per process: ``dash.callback`` registers callbacks in a global list that the first app
to serve a request takes over (Dash's design), so a second app in the same process would have no callbacks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dash
import flask
from dash import html

from dashboard.core.model import DashboardModel, build_model
from dashboard.core.state import ViewState, default_indicator
from dashboard.donnees import callbacks as donnees_callbacks  # noqa: F401 (registers the « Données » callbacks)
from dashboard.donnees.page import EXTENSION as DONNEES_EXTENSION
from dashboard.donnees.page import make_donnees_page, register_donnees
from dashboard.exports.view import EXTENSION as EXPORT_EXTENSION
from dashboard.exports.view import register_export_route
from dashboard.map import callbacks as map_callbacks
from dashboard.map.layout import build_layout
from dashboard.meeting import callbacks as meeting_callbacks  # noqa: F401 (registers the presentation callbacks)
from dashboard.web import callbacks as web_callbacks  # noqa: F401 (registers the router and the guide)
from dashboard.web.auth import install_auth
from dashboard.web.pages import make_aide_page, register_guide_route
from dashboard.web.security import install_security_headers
from geodata.settings import PROJECT_ROOT

LOG = logging.getLogger(__name__)
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


def _register_geo_route(server: flask.Flask) -> None:
    """``/geo/<hash>/<name>.json``: the browser geometry, cached for a year (the hash changes with the bundle)."""

    def geo(digest: str, name: str) -> flask.Response:
        model = server.extensions[map_callbacks.EXTENSION]
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
    server.extensions[map_callbacks.EXTENSION] = model
    _register_geo_route(server)
    register_export_route(server, model, bundle.manifest, settings)
    install_auth(server, settings)  # « Données » page and donnees-* callbacks reserved to editors
    install_security_headers(app, settings)  # CSP: the page talks to this server only; no framing
    register_donnees(app, settings, bundle.manifest)
    register_guide_route(server)
    live = LiveBundle(server, settings, registry, bundle, page_layout(model))
    # A function layout: each page load gets the layout of the bundle currently served (built once per bundle).
    app.layout = live.current_layout
    server.before_request(live.maybe_reload)
    return app


def with_pages(map_page: Any) -> html.Div:
    """The whole layout: the map page beside the « Données » and « Aide » pages (shown by URL path)."""
    return html.Div([map_page, make_donnees_page(), make_aide_page()], className="pages")


def page_layout(model: DashboardModel) -> Any:
    """The full page for a model: the map in its default view, and the « Données » and « Aide » pages."""
    state = ViewState()
    if state.indicator not in model.columns and model.columns:
        state = ViewState(indicator=default_indicator(model.columns))
    classes = model.classification(state.indicator, state.method, state.k, ())
    return with_pages(build_layout(model, state, classes))


class LiveBundle:
    """Switch a running worker to a newly built bundle, without restart.

    ``ctg-carto data build`` (or the « Données » page) swaps the bundle symlink atomically. Before serving a request,
    each worker checks — at most once a second, a ``resolve()`` of the symlink — whether it now points to another
    version; if so it loads it, recomputes indicators, model and layout, then replaces the references the
    callbacks and routes read, in one assignment each. A bundle that fails to load is logged and skipped: the worker
    keeps serving the previous one. Pages already open keep their view until reloaded (their geometry URLs carry
    the old hash, still served by workers that have not switched yet, or 404 afterwards).
    """

    CHECK_SECONDS = 1.0

    def __init__(self, server: flask.Flask, settings: Any, registry: Mapping[str, Any], bundle: Any, layout: Any):
        self.server = server
        self.settings = settings
        self.registry = registry
        self.layout = layout
        self.watch: Path | None = Path(bundle.path) if getattr(bundle, "path", None) else None
        self.target = self._target()
        self.refused = ""
        self.checked = time.monotonic()
        self.lock = threading.Lock()

    def _target(self) -> str:
        return str(self.watch.resolve()) if self.watch is not None else ""

    def current_layout(self) -> Any:
        """Layout of the bundle currently served (Dash calls this for each page load)."""
        return self.layout

    def maybe_reload(self) -> None:
        """``before_request`` hook: switch to the new bundle when the symlink has moved."""
        if self.watch is None or time.monotonic() - self.checked < self.CHECK_SECONDS:
            return
        self.checked = time.monotonic()
        target = self._target()
        if target in (self.target, self.refused) or not self.lock.acquire(blocking=False):
            return
        try:
            self._switch(target)
        finally:
            self.lock.release()

    def _switch(self, target: str) -> None:
        from geodata.bundle import BundleError, load_bundle
        from geodata.rebuild import current_version
        from indicators.compute import compute_indicators

        try:
            bundle = load_bundle(target)
            model = build_model(bundle, compute_indicators(bundle), self.registry, self.settings)
            layout = page_layout(model)
        except BundleError as exc:
            LOG.error("nouveau bundle refusé, le précédent reste servi : %s", exc)
            self.refused = target
            return
        extensions = self.server.extensions
        extensions[map_callbacks.EXTENSION] = model
        extensions.setdefault(EXPORT_EXTENSION, {})["built_at"] = str(bundle.manifest.get("built_at", "") or "")
        donnees = extensions.get(DONNEES_EXTENSION)
        if isinstance(donnees, dict):
            donnees["manifest"] = dict(bundle.manifest)
            donnees["loaded_version"] = current_version(self.settings)
        self.layout = layout
        self.target = target
        LOG.info("bundle %s chargé sans redémarrage", target)
