"""« Exporter PNG / PDF »: a file of the view on screen, rendered server side by headless Chromium.

Approach: the route ``/export/vue.<png|pdf>?<the page's query string>`` opens the app's own URL with ``impression=1``
in headless Chromium. ``impression=1`` switches the page to a print layout (``.impression`` in ``style.css``): map,
legends and a caption block (territory, commune, indicator, classification, sources and vintages, bundle date,
export date, « Données fictives ») and no controls. So the exported map is drawn by the same figure, the same patch
callbacks and the same legend code as the screen: nothing to keep in sync, and a shared link and its export agree.
Alternatives rejected: ``Plotly.toImage`` in the browser (no caption, no PDF, depends on the adviser's browser) and
re-drawing with kaleido (a second renderer and a heavy dependency, and the legend is HTML, not plotly).

Chromium flags: the map is WebGL (MapLibre); headless Chromium only draws it with SwiftShader through ANGLE
(``--use-gl=angle --use-angle=swiftshader-webgl --enable-unsafe-swiftshader``; ``--disable-gpu`` alone leaves a blank
map, tested with Chromium 156). Printing a WebGL canvas to PDF gives a blank rectangle, so in print mode
``assets/presentation.js`` replaces the drawn map by a PNG of itself (``Plotly.toImage``) before the budget ends.
Chromium is driven through the DevTools protocol on a pipe (``--remote-debugging-pipe``: no port opened) and
captures as soon as the page says it is ready; SwiftShader is slow, so an export takes 10–20 s.

Safety: Chromium only ever opens the app's page ``/`` with a query string rebuilt from the parsed view, at the
address where the worker accepted the request (:func:`internal_origin`: the socket, never the ``Host`` header or any
user input), and every request it makes goes through the DevTools ``Fetch`` domain: the app's own allowed paths
(:data:`ALLOWED_PATHS`) continue, anything else fails before leaving Chromium. Host names do not resolve at all.

Load: the worker that runs Chromium waits while Chromium requests the page, its assets and its callbacks from the
same server, so under gunicorn use at least 2 workers. At most :data:`EXPORT_SLOTS` export runs at once per machine
and deployment (a lock shared by the workers); other requests get at once a French page « réessayez » (HTTP 503 with
``Retry-After``) rather than holding a worker that the running export's Chromium needs. Chromium runs at the lowest
CPU priority, so the map keeps answering while it draws. After :data:`TIMEOUT_S` seconds the export stops (503).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask

from dashboard.core.classify import METHODS
from dashboard.core.model import ZONE_LAYERS, DashboardModel
from dashboard.core.runtime import current
from dashboard.core.state import ViewState, parse_view, to_search
from dashboard.exports.chromium import RenderError, find_chromium
from dashboard.web.auth import french_page
from dashboard.web.limits import SlotBusy, export_slot
from geodata.manifest import Provenance
from geodata.settings import Settings

LOG = logging.getLogger(__name__)
TIMEOUT_S = 60
"""Longest an export may take (SwiftShader draws the map on the CPU: 10–30 s on a busy 2-core machine)."""
EXPORT_SLOTS = 1
"""Exports running at once per machine and deployment; the next ones are asked to retry."""
BUSY_RETRY_S = 30
PNG_SIZE = (1920, 1080)
"""A 1080p projector: the PNG drops straight into a slide."""
PDF_WINDOW = (1123, 794)
"""A4 landscape at 96 dpi (CSS pixels): the page is laid out at the size it is printed."""
MEDIA = {"png": "image/png", "pdf": "application/pdf"}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--use-gl=angle",
    "--use-angle=swiftshader-webgl",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--hide-scrollbars",
    "--mute-audio",
)


def export_state(view: ViewState) -> ViewState:
    """State of the page Chromium opens: the same view in the print layout (no presentation, no stop counter)."""
    return replace(view, presentation=False, impression=True, sequence="", arret=0)


def export_filename(model: DashboardModel, view: ViewState, kind: str, today: date) -> str:
    """``carte_66_<indicator>[_epci_<code>][_<commune>]_<date>.<kind>``: sortable and says what it shows."""
    parts = ["carte", model.departement, view.indicator]
    if view.epci:
        parts += ["epci", view.epci]
    if view.commune:
        parts.append(view.commune)
    return "_".join([*parts, today.isoformat()]) + f".{kind}"


def format_built_at(built_at: str) -> str:
    """« 27/11/2025 » from the manifest's ISO timestamp; the raw text when it is not a date, « inconnue » if empty."""
    if not built_at:
        return "inconnue"
    try:
        return datetime.fromisoformat(built_at).strftime("%d/%m/%Y")
    except ValueError:
        return built_at


def _source_text(info: Provenance) -> str:
    parts = [
        info.label,
        info.publisher,
        f"millésime {info.vintage}" if info.vintage else "",
        "données fictives" if info.synthetic else "",
    ]
    return " · ".join(part for part in parts if part)


def caption_items(model: DashboardModel, view: ViewState, built_at: str, today: date) -> list[tuple[str, str]]:
    """(label, text) pairs of the print caption: what a reader of the file needs to know what the map shows."""
    meta = model.columns[view.indicator].meta if view.indicator in model.columns else None
    whole = f"{model.departement_nom} ({model.departement})" if model.departement_nom else "tout le département"
    items = [("Territoire", model.epci_names.get(view.epci, view.epci) if view.epci else whole)]
    if view.commune and (i := model.index_of(view.commune)) is not None:
        items.append(("Commune", f"{model.names[i]} ({view.commune})"))
    if meta is not None:
        items.append(("Indicateur", f"{meta.label}" + (f" ({meta.unit})" if meta.unit else "")))
        if getattr(meta, "kind", "numeric") == "category":
            items.append(("Classes", "catégories de l'indicateur"))
        else:
            method = METHODS.get(view.method, view.method)
            detail = f" : {view.breaks}" if view.breaks and view.method == "manuel" else ""
            items.append(("Classes", f"{method}, {view.k} classes{detail}"))
    used: set[str] = set()
    try:
        used = {p.title for p in model.indicators.provenance(view.indicator)}
    except (KeyError, AttributeError, ValueError):
        used = set()
    layer_sources = {layer.spec.source for layer in model.point_layers if layer.spec.key in view.layers}
    zone_sources = {
        "zrr": "zrr2017",
        "zrr_sortante": "zrr2017",
        "frr": "frr2025",
        "qpv2015": "qpv2015",
        "qpv2024": "qpv2024",
    }
    layer_sources |= {zone_sources[k] for k in view.layers if k in zone_sources}
    sources = [_source_text(src) for src in model.sources if src.id in layer_sources or src.title in used]
    if sources:
        items.append(("Sources des couches", " ; ".join(sources)))
    zones = [ZONE_LAYERS[k] for k in view.layers if k in ZONE_LAYERS]
    if zones:
        items.append(("Zonages", ", ".join(zones)))
    items.append(("Données", f"bundle du {format_built_at(built_at)}, carte exportée le {today.strftime('%d/%m/%Y')}"))
    if model.synthetic:
        items.append(("Attention", "Données fictives : ne pas diffuser comme un diagnostic réel"))
    return items


READY_JS = {
    "png": "!!(window.ctgCarto && window.ctgCarto.ready())",
    "pdf": "!!(window.ctgCarto && window.ctgCarto.ready() && window.ctgCarto.frozen())",
}
"""Asked every 250 ms: map drawn, callbacks quiet (and, for a PDF, the map replaced by its image)."""

ALLOWED_PATHS = (
    "/",
    "/_dash-layout",
    "/_dash-dependencies",
    "/_dash-update-component",
    "/_favicon.ico",
    "/_dash-component-suites/",
    "/_ctg/plotly/",  # plotly.js at its hashed URL (dashboard/web/static.py)
    "/assets/",
    "/geo/",
)
"""What the export's Chromium may load from the app: the page, Dash's own routes, static files and the geometry
(exact paths, or prefixes when they end with ``/``). Everything else — ``/donnees``, ``/export`` itself, any other
server — is refused by the DevTools interception before a byte leaves Chromium."""


def path_allowed(path: str) -> bool:
    """Whether a path of the app is in :data:`ALLOWED_PATHS`."""
    return any(path.startswith(p) if p.endswith("/") and p != "/" else path == p for p in ALLOWED_PATHS)


def internal_origin(environ: Mapping[str, Any]) -> str:
    """``http://<address>:<port>`` where this very worker accepted the request: what its Chromium loads.

    Why from the socket: the ``Host`` header, ``X-Forwarded-Host`` or anything else in the request is chosen by the
    client; the local address of the accepted connection is where this server listens (gunicorn and werkzeug both
    expose the connection). Behind a reverse proxy it is the address the proxy talks to (``127.0.0.1:8050``).

    Raises:
        RenderError: no TCP connection to read it from (unix socket, test client).
    """
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    try:
        address = sock.getsockname() if sock is not None else None
    except OSError:
        address = None
    if not isinstance(address, tuple) or len(address) < 2:
        raise RenderError("Export indisponible : le serveur n'écoute pas sur une adresse TCP qu'il puisse relire.")
    host, port = str(address[0]), int(address[1])
    if host in {"0.0.0.0", "", "::"}:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def chromium_command(width: int, height: int, profile: Path, host: str = "127.0.0.1") -> list[str]:
    """Headless Chromium driven through the DevTools protocol on a pipe (fds 3 and 4, no open port).

    Run at the lowest CPU priority (``nice -n 19``): SwiftShader draws the map on the CPU for seconds, and the
    gunicorn workers answering the map must not wait behind it. No host but the app's ``host`` resolves
    (``--host-resolver-rules``): a stray request to another host fails before any DNS query.
    """
    nice = shutil.which("nice")
    return [
        *([nice, "-n", "19"] if nice else []),
        find_chromium(),
        *CHROMIUM_FLAGS,
        f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {host}",
        "--remote-debugging-pipe",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "about:blank",
    ]


class _Pipe:
    """Minimal DevTools client: JSON messages separated by NUL bytes, answers matched by id, events dispatched."""

    def __init__(self, write_fd: int, read_fd: int, deadline: float, on_event: Callable[[dict], None]):
        self.write_fd, self.read_fd, self.deadline = write_fd, read_fd, deadline
        self.on_event = on_event
        self.buffer = b""
        self.next_id = 0

    def send(self, method: str, params: dict | None = None, session: str = "") -> int:
        """Send a command without waiting for its answer; returns its id."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        return self.next_id

    def _read(self, until: float) -> dict | None:
        """Next message, or None when ``until`` passed first."""
        while b"\0" not in self.buffer:
            left = min(until, self.deadline) - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                if time.monotonic() >= self.deadline:
                    raise TimeoutError
                return None
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise RenderError("Chromium s'est arrêté pendant l'export.")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str = "") -> dict:
        """Send a command and wait for its answer, handling the events that arrive meanwhile."""
        wanted = self.send(method, params, session)
        while True:
            message = self._read(self.deadline)
            if message is None:
                continue
            if "method" in message:
                self.on_event(message)
            elif message.get("id") == wanted:
                if "error" in message:
                    raise RenderError(f"Chromium a refusé {method} : {message['error'].get('message', '')}")
                return message.get("result", {})

    def pump(self, seconds: float) -> None:
        """Handle events (paused requests) for ``seconds``: the page keeps loading while we wait."""
        until = time.monotonic() + seconds
        while (message := self._read(until)) is not None:
            if "method" in message:
                self.on_event(message)


class _RequestGuard:
    """Let Chromium load the app's own allowed paths only (``Fetch.requestPaused`` events), refuse the rest."""

    def __init__(self, origin: str, headers: Mapping[str, str]):
        self.origin = origin
        self.headers = dict(headers)
        self.pipe: _Pipe | None = None
        self.blocked: list[str] = []

    def allowed(self, url: str) -> bool:
        """Same scheme, host and port as the app, and an allowed path."""
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin and path_allowed(parts.path or "/")

    def __call__(self, event: dict) -> None:
        if event.get("method") != "Fetch.requestPaused" or self.pipe is None:
            return
        params = event["params"]
        request = params.get("request", {})
        url = str(request.get("url", ""))
        session = event.get("sessionId", "")
        if self.allowed(url):
            extra: dict[str, Any] = {"requestId": params["requestId"]}
            if self.headers:
                merged = {**request.get("headers", {}), **self.headers}
                extra["headers"] = [{"name": k, "value": v} for k, v in merged.items()]
            self.pipe.send("Fetch.continueRequest", extra, session)
        else:
            self.blocked.append(url[:200])
            LOG.warning("export : requête refusée vers %s", url[:200])
            self.pipe.send(
                "Fetch.failRequest", {"requestId": params["requestId"], "errorReason": "BlockedByClient"}, session
            )


def _drive(pipe: _Pipe, url: str, kind: str) -> bytes:
    width, height = PNG_SIZE if kind == "png" else PDF_WINDOW
    target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    pipe.call("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}, session)
    pipe.call("Page.enable", session=session)
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    pipe.call("Emulation.setDeviceMetricsOverride", metrics, session)
    pipe.call("Page.navigate", {"url": url}, session)
    while True:
        pipe.pump(0.25)
        check = pipe.call("Runtime.evaluate", {"expression": READY_JS[kind], "returnByValue": True}, session)
        if check.get("result", {}).get("value") is True:
            break
    if kind == "png":
        data = pipe.call("Page.captureScreenshot", {"format": "png"}, session)["data"]
    else:
        params = {"printBackground": True, "preferCSSPageSize": True, "landscape": True, "pageRanges": "1"}
        data = pipe.call("Page.printToPDF", {**params, "marginTop": 0, "marginBottom": 0}, session)["data"]
    return base64.b64decode(data)


def capture(
    origin: str, search: str, kind: str, timeout: float = TIMEOUT_S, headers: Mapping[str, str] | None = None
) -> bytes:
    """Bytes of the PNG (1920×1080) or one-page A4 landscape PDF of the app at ``origin`` + ``/`` + ``search``.

    Only ever the app's page ``/`` (``search`` is a query string made by :func:`dashboard.core.state.to_search`), and
    every request Chromium makes is checked by :class:`_RequestGuard`: same origin and :data:`ALLOWED_PATHS`, or
    refused. ``headers`` are added to those requests (the editor's credentials when the whole app is protected).

    Why the DevTools pipe rather than ``--screenshot``/``--virtual-time-budget``: the WebGL map under SwiftShader
    takes a variable time to draw, so a fixed budget either cuts the map or wastes seconds; here Chromium is asked
    whether the page is ready (``window.ctgCarto`` in ``assets/presentation.js``) and captured at once.

    Raises:
        RenderError: Chromium missing, failed, or slower than ``timeout`` seconds (French message).
    """
    if not search.startswith("?"):
        raise RenderError("Export refusé : seule la carte de l'application peut être exportée.")
    width, height = PNG_SIZE if kind == "png" else PDF_WINDOW
    guard = _RequestGuard(origin, headers or {})
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    with tempfile.TemporaryDirectory(prefix="ctg-export-") as tmp:
        cmd = chromium_command(width, height, Path(tmp) / "profil", urlsplit(origin).hostname or "127.0.0.1")
        actions = [(os.POSIX_SPAWN_DUP2, to_chrome_r, 3), (os.POSIX_SPAWN_DUP2, from_chrome_w, 4)]
        devnull = os.open(os.devnull, os.O_RDWR)
        actions += [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
        pid = os.posix_spawn(cmd[0], cmd, dict(os.environ), file_actions=actions, setsid=True)
        for fd in (to_chrome_r, from_chrome_w, devnull):
            os.close(fd)
        pipe = _Pipe(to_chrome_w, from_chrome_r, time.monotonic() + timeout, guard)
        guard.pipe = pipe
        try:
            return _drive(pipe, origin + "/" + search, kind)
        except TimeoutError:
            raise RenderTimeout(
                f"L'export a dépassé {timeout:.0f} s (serveur chargé) : réessayez dans une minute."
            ) from None
        except OSError as exc:
            raise RenderError(f"Échec de l'export {kind.upper()} par Chromium : {exc}") from None
        finally:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)  # its own session (setsid): the browser and its helpers only
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            for fd in (to_chrome_w, from_chrome_r):
                os.close(fd)


class RenderTimeout(RenderError):
    """The export took longer than its time limit (the server is busy: worth retrying)."""


def _retry(status: int, title: str, text: str, retry_after: int, search: str, kind: str) -> flask.Response:
    links = (("Réessayer", export_href(search, kind)), ("Retour à la carte", "/" + search))
    response = french_page(status, title, text, links)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def _credentials(settings: Any, request: flask.Request) -> dict[str, str]:
    """Headers proving who asked, when the map itself is protected (``CTG_CARTO_AUTH_SCOPE=tout``); else none."""
    if getattr(settings, "auth_scope", "donnees") != "tout":
        return {}
    names = ["Authorization", getattr(settings, "auth_header", "") or ""]
    return {name: request.headers[name] for name in names if name and name in request.headers}


def register_export_route(server: flask.Flask, settings: Settings) -> None:
    """Add ``/export/vue.png`` and ``/export/vue.pdf``.

    At most :data:`EXPORT_SLOTS` exports run at once on this machine for this deployment (a lock shared by the
    gunicorn workers, :func:`dashboard.web.limits.export_slot`); the others get at once a French « réessayez » (HTTP
    503, ``Retry-After``) instead of waiting in a worker. An export slower than :data:`TIMEOUT_S` is stopped (503).
    """

    def export(kind: str) -> flask.Response:
        if kind not in MEDIA:
            flask.abort(404)
        query = flask.request.query_string.decode("utf-8", "replace")
        runtime = current()
        model = runtime.served.model  # read per request: a new bundle may have been switched in since start-up
        view = export_state(parse_view(model, "?" + query))
        search = to_search(view)
        back = to_search(replace(view, impression=False))
        try:
            origin = internal_origin(flask.request.environ)
            with export_slot(runtime.slots_dir, EXPORT_SLOTS):
                content = capture(origin, search, kind, headers=_credentials(settings, flask.request))
        except SlotBusy:
            return _retry(
                503,
                "Export en attente",
                "Le serveur prépare déjà un autre export de carte (cela prend une vingtaine de secondes) : "
                f"réessayez dans {BUSY_RETRY_S} secondes.",
                BUSY_RETRY_S,
                back,
                kind,
            )
        except RenderTimeout as exc:
            return _retry(503, "Export interrompu", str(exc), 60, back, kind)
        except RenderError as exc:
            return _retry(500, "Export impossible", str(exc), 0, back, kind)
        response = flask.Response(content, mimetype=MEDIA[kind])
        name = export_filename(model, view, kind, date.today())
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Cache-Control"] = "no-store"
        return response

    server.add_url_rule("/export/vue.<kind>", "ctg_export_view", export)


def export_href(search: str | None, kind: str) -> str:
    """Link of an export button: the route with the page's own query string (the view on screen)."""
    return f"/export/vue.{kind}{search or ''}"
