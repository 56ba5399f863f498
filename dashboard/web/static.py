"""Compressed transfer: static JavaScript precompressed once, dynamic responses compressed on the fly, long caches.

Partners open the map from town halls and meeting rooms with poor connections: uncompressed, the page was 7.6 MB,
4.8 MB of it plotly.js (``docs/spikes/performance.md``). Three mechanisms, the same with or without a proxy:

- **static JavaScript** (plotly.js, Dash's bundles and async chunks): compressed once into ``<cache_dir>/compressed``
  (brotli and gzip; plotly.js at the best quality by ``python -m dashboard.web.static``, run by ``make setup``;
  everything else, and plotly.js when that was not run, at a fast quality on first use) and served from there with
  ``Content-Encoding`` and ``Vary: Accept-Encoding``: no CPU per visit. plotly.js gets a URL with its content hash,
  cached for a year (``immutable``); so do Dash's fingerprinted bundles. The other chunks are revalidated with a
  strong ETag (a 304 of a few hundred bytes);
- **dynamic responses** (page, layout, callbacks, geometry, small assets) of at least :data:`MIN_SIZE` bytes:
  brotli or gzip on the fly (flask-compress), a few milliseconds for the largest (the layout);
- ``/assets/`` URLs carry ``?m=<mtime>`` (Dash): they are cached for a year too, a changed file gets a new URL.

Measured (``bench/visit.py``, dept-66 bundle): first visit 7 633 711 → 1 676 024 bytes, repeat visit
534 723 → 42 823 bytes, the same behind nginx.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
from pathlib import Path

import brotli
import dash
import flask
from dash.fingerprint import check_fingerprint
from flask_compress import Compress

YEAR = 31_536_000
MIN_SIZE = 500
"""Smaller responses are sent as they are: compressing them saves less than the header costs."""
PRECOMPRESS_MIN = 10_000
"""Static files under this size are left to the on-the-fly compression."""
COMPRESSIBLE = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "image/svg+xml",
]
ENCODINGS = {"br": ".br", "gzip": ".gz"}
"""Content codings we precompress, in order of preference."""
BEST_BROTLI, FAST_BROTLI = 11, 5
"""brotli -11 on plotly.js takes ~18 s on a shared 2-core machine (done once, by ``make setup``); -5 ~0.5 s."""
PLOTLY_URL = "/_ctg/plotly/{digest}/plotly.min.js"
_MIMETYPES = {".js": "application/javascript", ".css": "text/css", ".map": "application/json"}


def plotly_js() -> Path:
    """The plotly.js of the installed ``plotly`` package (the one the figures are built for)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def content_digest(path: Path) -> str:
    """Short SHA-256 of a file's content: its cache key and the version in its URL."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def compress_bytes(data: bytes, encoding: str, best: bool) -> bytes:
    """``data`` compressed with ``encoding`` (``br`` or ``gzip``); gzip without a timestamp, so reproducible."""
    if encoding == "br":
        return brotli.compress(data, quality=BEST_BROTLI if best else FAST_BROTLI)
    return gzip.compress(data, compresslevel=9, mtime=0)


def precompressed(source: Path, encoding: str, cache: Path, best: bool = False) -> Path:
    """The compressed copy of ``source`` in ``cache``, made now if missing (best quality first when present).

    The name carries the source's size and modification time: a reinstalled package gets new copies. Written to a
    temporary name then renamed, so concurrent workers never read a half-written file.
    """
    stat = source.stat()
    key = hashlib.sha256(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    suffix = ENCODINGS[encoding]
    best_copy = cache / f"{key}-best-{source.name}{suffix}"
    fast_copy = cache / f"{key}-fast-{source.name}{suffix}"
    if best_copy.exists():
        return best_copy
    target = best_copy if best else fast_copy
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(compress_bytes(source.read_bytes(), encoding, best))
    os.replace(temporary, target)
    return target


def accepted_encoding(header: str | None) -> str:
    """The content coding to send for an ``Accept-Encoding`` header: ``br``, ``gzip`` or "" (identity)."""
    offered = {}
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        offered[name.strip().lower()] = quality
    for encoding in ENCODINGS:
        if offered.get(encoding, offered.get("*", 0.0)) > 0:
            return encoding
    return ""


def compressed_file_response(source: Path, cache: Path, immutable: bool) -> flask.Response:
    """``source`` as its precompressed copy when the client accepts one, with validators and cache headers."""
    encoding = accepted_encoding(flask.request.headers.get("Accept-Encoding"))
    path = precompressed(source, encoding, cache) if encoding else source
    stat = source.stat()
    etag = f"{stat.st_size:x}-{stat.st_mtime_ns:x}-{encoding or 'identity'}"
    mimetype = _MIMETYPES.get(source.suffix, "application/octet-stream")
    if flask.request.if_none_match.contains(etag):
        response = flask.Response(status=304)
    else:
        response = flask.Response(path.read_bytes(), mimetype=mimetype)
        if encoding:
            response.headers["Content-Encoding"] = encoding
    response.set_etag(etag)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable" if immutable else "no-cache"
    return response


def suite_file(app: dash.Dash, package: str, fingerprinted: str) -> tuple[Path, bool] | None:
    """File behind ``/_dash-component-suites/<package>/<fingerprinted>`` if Dash registered it (else None: Dash
    answers, with its own checks), and whether its URL carries a fingerprint."""
    path_in_package, has_fingerprint = check_fingerprint(fingerprinted)
    if path_in_package not in app.registered_paths.get(package, ()) or package not in sys.modules:
        return None
    module_file = sys.modules[package].__file__
    if not module_file:
        return None
    root = Path(module_file).parent.resolve()
    path = (root / path_in_package).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.stat().st_size < PRECOMPRESS_MIN:
        return None
    return path, has_fingerprint


def install_compression(app: dash.Dash, cache_dir: Path) -> None:
    """Compressed transfer and long caches for ``app`` (see the module docstring).

    plotly.js is loaded by a ``<script>`` of the page (before Dash's scripts) at a URL carrying its content hash;
    ``dcc.Graph`` then finds ``window.Plotly`` and never asks Dash for its unversioned ``plotly.min.js``.
    """
    server = app.server
    cache = cache_dir / "compressed"
    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br", "deflate"],  # files sent by Flask (assets) are streamed; no gzip there
        COMPRESS_BR_LEVEL=4,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=MIN_SIZE,
        COMPRESS_MIMETYPES=COMPRESSIBLE,
    )
    Compress(server)
    source = plotly_js()
    digest = content_digest(source)
    url = PLOTLY_URL.format(digest=digest)
    app.config.external_scripts = [url, *app.config.external_scripts]

    def plotly_response(version: str) -> flask.Response:
        if version != digest:
            flask.abort(404)
        return compressed_file_response(source, cache, immutable=True)

    server.add_url_rule("/_ctg/plotly/<version>/plotly.min.js", "ctg_plotly", plotly_response)

    @server.before_request
    def _precompressed_suites() -> flask.Response | None:
        prefix = "/_dash-component-suites/"
        if not flask.request.path.startswith(prefix) or flask.request.method != "GET":
            return None
        package, _, rest = flask.request.path[len(prefix) :].partition("/")
        found = suite_file(app, package, rest)
        if found is None:
            return None
        return compressed_file_response(found[0], cache, immutable=found[1])

    @server.after_request
    def _asset_cache(response: flask.Response) -> flask.Response:
        if flask.request.path.startswith("/assets/") and flask.request.args.get("m") and response.status_code == 200:
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response


def warm(cache_dir: Path) -> int:
    """Precompress plotly.js (three quarters of the page) at the best quality, once; later runs find the copies.

    Dash's own bundles (≤ 0.5 MB each) are compressed on first use at the fast quality (~0.1 s each). Returns the
    size of the two copies.
    """
    cache = cache_dir / "compressed"
    return sum(precompressed(plotly_js(), encoding, cache, best=True).stat().st_size for encoding in ENCODINGS)


if __name__ == "__main__":  # pragma: no cover - run by `make setup`
    from geodata.settings import Settings

    settings = Settings.from_env()
    size = warm(settings.cache_dir)
    sys.stdout.write(f"JavaScript précompressé dans {settings.cache_dir / 'compressed'} ({size} octets)\n")
