"""Security headers of every response: the page may only talk to its own server and cannot be framed.

The map carries CAF data marked « diffusion restreinte »: nothing in the page may send it elsewhere. Everything the
page needs (Dash, plotly.js, its French locale, the geometry) is served by the app (``serve_locally``), so the
Content-Security-Policy can say ``'self'`` for every kind of resource, with three exceptions the page really needs:

- ``script-src`` lists the SHA-256 hashes of Dash's inline scripts (the renderer start-up line and the clientside
  callbacks, from :meth:`dash.Dash.csp_hashes`) instead of ``'unsafe-inline'``: an injected ``<script>`` never runs;
- ``worker-src blob:`` and ``img-src data: blob:``: MapLibre starts its workers from ``blob:`` URLs and plotly makes
  images as ``data:`` URLs (the print layout freezes the map with one);
- ``style-src 'unsafe-inline'``: plotly and MapLibre write ``<style>`` elements and style attributes at run time
  (styles cannot send data anywhere: ``img-src``/``font-src`` still bind every URL a style could name).

The optional tile server of ``CTG_CARTO_TILE_URL`` is the only other origin allowed (for images and fetches), chosen
by the administrator. Also sent: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (a shared
view URL never leaks to a tile server), frame protection (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``:
no other site can embed the map to trick a click), and a ``Permissions-Policy`` refusing sensors the app never uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import dash
import flask

FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def tile_origin(tile_url: str) -> str:
    """CSP source of a tile URL template (``https://{s}.tile.example.org/{z}/{x}/{y}.png`` →
    ``https://*.tile.example.org``); "" when none is configured or it is not an http(s) URL."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ""
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    if "*" in host and not host.startswith("*."):
        return ""  # CSP only accepts a wildcard as the first label
    return f"{parts.scheme}://{host}"


def content_security_policy(script_hashes: Iterable[str], extra_origins: Iterable[str] = ()) -> str:
    """The Content-Security-Policy header value for the app's pages (see the module docstring)."""
    extra = " ".join(o for o in extra_origins if o)
    extra = f" {extra}" if extra else ""
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": f"'self' data: blob:{extra}",
        "font-src": "'self' data:",
        "connect-src": f"'self'{extra}",
        "worker-src": "'self' blob:",
        "child-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{key} {value}" for key, value in directives.items())


def install_security_headers(app: dash.Dash, settings: Any) -> None:
    """Add the headers above to every response of ``app``.

    The CSP is computed at the first response, once every clientside callback of the process is registered (their
    inline scripts are hashed by :meth:`dash.Dash.csp_hashes`).
    """
    origins = [tile_origin(getattr(settings, "tile_url", "") or "")]
    policy: list[str] = []

    @app.server.after_request
    def _headers(response: flask.Response) -> flask.Response:
        if not policy:
            policy.append(content_security_policy(app.csp_hashes(), origins))
        response.headers["Content-Security-Policy"] = policy[0]
        for name, value in FIXED_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
