"""``/geo/<hash>/<name>.json``: the browser geometry of the bundle served, cached for a year.

The geometry goes to the browser once, by URL (plotly.js fetches it, the browser caches it); the content hash in the
path changes with the bundle, so a new bundle is never hidden by an old cache.
"""

from __future__ import annotations

import flask

from dashboard.core.runtime import current_model

GEO_MAX_AGE = 31_536_000


def geo_response(digest: str, name: str) -> flask.Response:
    """The GeoJSON file ``name`` of the bundle served, if ``digest`` is its hash (else 404)."""
    model = current_model()
    data = model.geo.get(name)
    if digest != model.geo_hash or data is None:
        flask.abort(404)
    response = flask.Response(data, mimetype="application/geo+json")
    response.headers["Cache-Control"] = f"public, max-age={GEO_MAX_AGE}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def register_geo_route(server: flask.Flask) -> None:
    """Add the geometry route to ``server``."""
    server.add_url_rule("/geo/<digest>/<name>.json", "ctg_geo", geo_response)
