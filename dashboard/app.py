"""Application factory: load the bundle, compute the indicators once, build the model and the pages.

The only module that imports the callback modules (``dashboard.*.callbacks``): importing a layout never registers a
callback. Call :func:`create_app` once per process: ``dash.callback`` registers callbacks in a global list that the
first app to serve a request takes over (Dash's design), so a second app in the same process would have no
callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import dash
from dash import html
from dash.development.base_component import Component

from dashboard.core import runtime
from dashboard.core.model import DashboardModel, build_model
from dashboard.core.state import ViewState, default_indicator
from dashboard.donnees import callbacks as donnees_callbacks  # noqa: F401 (registers the « Données » callbacks)
from dashboard.donnees.page import make_donnees_page, register_template_route
from dashboard.exports.view import register_export_route
from dashboard.map import callbacks as map_callbacks  # noqa: F401 (registers the map callbacks)
from dashboard.map.layout import build_layout
from dashboard.meeting import callbacks as meeting_callbacks  # noqa: F401 (registers the presentation callbacks)
from dashboard.web import callbacks as web_callbacks  # noqa: F401 (registers the router and the guide)
from dashboard.web.auth import install_auth
from dashboard.web.geo import register_geo_route
from dashboard.web.limits import run_dir
from dashboard.web.pages import make_aide_page, register_guide_route
from dashboard.web.security import install_security_headers
from dashboard.web.static import install_compression
from geodata.bundle import Bundle, load_bundle
from geodata.rebuild import current_version
from geodata.settings import PROJECT_ROOT, Settings
from geodata.upload import UploadLimits
from indicators.compute import Indicators, compute_indicators
from indicators.indicator import Indicator
from indicators.registry import REGISTRY

ASSETS = PROJECT_ROOT / "assets"

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


def create_app(
    settings: Settings,
    bundle: Bundle | None = None,
    indicators: Indicators | None = None,
    registry: Mapping[str, Indicator] | None = None,
) -> dash.Dash:
    """Build the Dash app for a bundle (loaded from ``settings.bundle`` when not given).

    ``indicators`` and ``registry`` default to :func:`indicators.compute.compute_indicators` and
    :data:`indicators.registry.REGISTRY`; tests pass small fakes.
    """
    if bundle is None:
        bundle = load_bundle(settings.bundle)
    registry = REGISTRY if registry is None else registry
    first = _served_builder(settings, registry)(bundle, indicators)
    app = dash.Dash(
        __name__,
        assets_folder=str(ASSETS),
        title="Carte des services aux familles",
        update_title=None,  # type: ignore[arg-type]  # None keeps the tab title (documented; typed str)
        # No validation layout in the page: with a function layout and validation on, Dash copies the whole layout
        # into every page (257 KB) — a copy of the first bundle, never updated. The callbacks are all registered at
        # start-up, and tests/dashboard/test_app.py checks each of their ids against the layout instead.
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    app.index_string = INDEX
    server = app.server
    if settings.secret_key:
        server.secret_key = settings.secret_key
    build = _served_builder(settings, registry)
    live = runtime.LiveBundle(bundle.path, first, lambda new: build(new, None))
    runtime.install(server, runtime.Runtime(settings, live, UploadLimits(), run_dir(settings)))
    register_geo_route(server)
    register_export_route(server, settings)
    install_auth(server, settings)  # « Données » page and donnees-* callbacks reserved to editors
    install_security_headers(app, settings)  # CSP: the page talks to this server only; no framing
    install_compression(app, settings.cache_dir)  # brotli/gzip, precompressed plotly.js, long caches
    register_template_route(server)
    register_guide_route(server)
    # A function layout: each page load gets the layout of the bundle currently served (built once per bundle).
    app.layout = live.current_layout
    server.before_request(live.maybe_reload)
    return app


def _served_builder(
    settings: Settings, registry: Mapping[str, Indicator]
) -> Callable[[Bundle, Indicators | None], runtime.Served]:
    """How a bundle becomes what the app serves (at start-up, then for each bundle switched in)."""

    def build(bundle: Bundle, indicators: Indicators | None) -> runtime.Served:
        computed = compute_indicators(bundle) if indicators is None else indicators
        model = build_model(bundle, computed, registry, settings)
        version = current_version(settings)
        return runtime.Served(model, bundle.manifest, version, page_layout(model))

    return build


def with_pages(map_page: Component) -> html.Div:
    """The whole layout: the map page beside the « Données » and « Aide » pages (shown by URL path)."""
    return html.Div([map_page, make_donnees_page(), make_aide_page()], className="pages")


def page_layout(model: DashboardModel) -> html.Div:
    """The full page for a model: the map in its default view, and the « Données » and « Aide » pages."""
    state = ViewState()
    if state.indicator not in model.columns and model.columns:
        state = ViewState(indicator=default_indicator(model.columns) or state.indicator)
    classes = model.classification(state.indicator, state.method, state.k, ())
    return with_pages(build_layout(model, state, classes))
