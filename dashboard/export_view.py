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

Deployment: the worker that runs Chromium waits while Chromium requests the page, its assets and its callbacks from
the same server, so under gunicorn use at least 2 workers or ``--threads`` ≥ 2, otherwise the export deadlocks until
the timeout. The base URL is ``flask.request.host_url`` (behind a reverse proxy, let werkzeug's ``ProxyFix`` set it,
or the proxy must let the server reach itself at that address). After :data:`TIMEOUT_S` seconds the export stops
with a French error (HTTP 504).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import signal
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import flask

from dashboard.classify import METHODS
from dashboard.model import ZONE_LAYERS, DashboardModel
from dashboard.render import RenderError, find_chromium
from dashboard.state import ViewState, to_search

EXTENSION = "ctg_carto_export"
TIMEOUT_S = 30
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


def _source_text(info: Mapping[str, Any]) -> str:
    parts = [
        str(info.get("title") or info.get("id", "")),
        str(info.get("publisher", "")),
        f"millésime {info['vintage']}" if info.get("vintage") else "",
        "données fictives" if info.get("synthetic") else "",
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
    used = set()
    try:
        used = {str(p.get("id") or p.get("title")) for p in model.indicators.provenance(view.indicator)}
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
    sources = [
        _source_text(src)
        for src in model.sources
        if src.get("id") in layer_sources or src.get("id") in used or src.get("title") in used
    ]
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


def chromium_command(width: int, height: int, profile: Path) -> list[str]:
    """Headless Chromium driven through the DevTools protocol on a pipe (fds 3 and 4, no open port)."""
    return [
        find_chromium(),
        *CHROMIUM_FLAGS,
        "--remote-debugging-pipe",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "about:blank",
    ]


class _Pipe:
    """Minimal DevTools client: JSON messages separated by NUL bytes, answers matched by id."""

    def __init__(self, write_fd: int, read_fd: int, deadline: float):
        self.write_fd, self.read_fd, self.deadline = write_fd, read_fd, deadline
        self.buffer = b""
        self.next_id = 0

    def call(self, method: str, params: dict | None = None, session: str = "") -> dict:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buffer:
                left = self.deadline - time.monotonic()
                if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                    raise TimeoutError
                chunk = os.read(self.read_fd, 1 << 20)
                if not chunk:
                    raise RenderError("Chromium s'est arrêté pendant l'export.")
                self.buffer += chunk
            raw, _, self.buffer = self.buffer.partition(b"\0")
            answer = json.loads(raw)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RenderError(f"Chromium a refusé {method} : {answer['error'].get('message', '')}")
                return answer.get("result", {})


def _drive(pipe: _Pipe, url: str, kind: str) -> bytes:
    width, height = PNG_SIZE if kind == "png" else PDF_WINDOW
    target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    pipe.call("Page.enable", session=session)
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    pipe.call("Emulation.setDeviceMetricsOverride", metrics, session)
    pipe.call("Page.navigate", {"url": url}, session)
    while True:
        time.sleep(0.25)
        check = pipe.call("Runtime.evaluate", {"expression": READY_JS[kind], "returnByValue": True}, session)
        if check.get("result", {}).get("value") is True:
            break
    if kind == "png":
        data = pipe.call("Page.captureScreenshot", {"format": "png"}, session)["data"]
    else:
        params = {"printBackground": True, "preferCSSPageSize": True, "landscape": True, "pageRanges": "1"}
        data = pipe.call("Page.printToPDF", {**params, "marginTop": 0, "marginBottom": 0}, session)["data"]
    return base64.b64decode(data)


def capture(url: str, kind: str, timeout: float = TIMEOUT_S) -> bytes:
    """Bytes of the PNG (1920×1080) or one-page A4 landscape PDF of ``url``, taken as soon as the map is drawn.

    Why the DevTools pipe rather than ``--screenshot``/``--virtual-time-budget``: the WebGL map under SwiftShader
    takes a variable time to draw, so a fixed budget either cuts the map or wastes seconds; here Chromium is asked
    whether the page is ready (``window.ctgCarto`` in ``assets/presentation.js``) and captured at once.

    Raises:
        RenderError: Chromium missing, failed, or slower than ``timeout`` seconds (French message).
    """
    width, height = PNG_SIZE if kind == "png" else PDF_WINDOW
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    with tempfile.TemporaryDirectory(prefix="ctg-export-") as tmp:
        cmd = chromium_command(width, height, Path(tmp) / "profil")
        actions = [(os.POSIX_SPAWN_DUP2, to_chrome_r, 3), (os.POSIX_SPAWN_DUP2, from_chrome_w, 4)]
        devnull = os.open(os.devnull, os.O_RDWR)
        actions += [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
        pid = os.posix_spawn(cmd[0], cmd, dict(os.environ), file_actions=actions, setsid=True)
        for fd in (to_chrome_r, from_chrome_w, devnull):
            os.close(fd)
        pipe = _Pipe(to_chrome_w, from_chrome_r, time.monotonic() + timeout)
        try:
            return _drive(pipe, url, kind)
        except TimeoutError:
            raise RenderError(
                f"L'export a dépassé {timeout:.0f} s : réessayez, ou vérifiez que le serveur a au moins 2 workers "
                "ou threads (Chromium relit la carte sur ce même serveur)."
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


def _error(status: int, message: str) -> flask.Response:
    response = flask.Response(message + "\n", status=status, mimetype="text/plain")
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


def register_export_route(server: flask.Flask, model: DashboardModel, manifest: Mapping[str, Any] | None) -> None:
    """Add ``/export/vue.png`` and ``/export/vue.pdf`` and keep the bundle date for the print caption."""
    from dashboard.callbacks import current_model, parse_view

    del model  # read per request: a new bundle may have been switched in since start-up (dashboard.app)
    server.extensions[EXTENSION] = {"built_at": str((manifest or {}).get("built_at", "") or "")}

    def export(kind: str) -> flask.Response:
        if kind not in MEDIA:
            flask.abort(404)
        query = flask.request.query_string.decode("utf-8", "replace")
        model = current_model()
        view = export_state(parse_view(model, "?" + query))
        url = flask.request.host_url.rstrip("/") + "/" + to_search(view)
        try:
            content = capture(url, kind)
        except RenderError as exc:
            return _error(504 if "dépassé" in str(exc) else 500, str(exc))
        response = flask.Response(content, mimetype=MEDIA[kind])
        name = export_filename(model, view, kind, date.today())
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Cache-Control"] = "no-store"
        return response

    server.add_url_rule("/export/vue.<kind>", "ctg_export_view", export)


def export_href(search: str | None, kind: str) -> str:
    """Link of an export button: the route with the page's own query string (the view on screen)."""
    return f"/export/vue.{kind}{search or ''}"
