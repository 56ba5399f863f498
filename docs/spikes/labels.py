"""Spike (issue 13, point 1): commune names drawn by MapLibre inside plotly's map, offline, under the app's CSP.

Standalone, NOT wired into the app. It takes the real map figure of the app (``dashboard.map.figures.build_map_figure``
on a real bundle), replaces ``layout.map.style`` by a full MapLibre style object whose ``glyphs`` are the PBFs served
from ``assets/glyphs/`` and whose two ``symbol`` layers draw the names, puts every plotly trace *below* those layers,
serves it with a tiny Dash app that sends the app's own security headers (``dashboard.web.security``), and checks it in
headless Chromium: labels drawn per view (``queryRenderedFeatures``), screenshots, every request the page made (same
origin only?), CSP violations, glyph bytes, ``Plotly.toImage`` (the PDF export's print mode), cost of switching the
names off and on.

    .venv/bin/ctg-carto data build --out /tmp/x/bundle
    .venv/bin/python docs/spikes/labels.py --bundle /tmp/x/bundle --out /tmp/labels-spike

Writes ``results.json`` and PNGs in ``--out``. Design note and figures: ``docs/spikes/labels.md``.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[2]
GLYPHS_URL = "/assets/glyphs/{fontstack}/{range}.pbf"
FONT_REGULAR = "Klokantech Noto Sans Regular"
FONT_BOLD = "Klokantech Noto Sans Bold"
TOWNS_LAYER = "ctg-noms-villes"
NAMES_LAYER = "ctg-noms-communes"
"""Style layer ids. Every plotly trace gets ``below=NAMES_LAYER`` (the lowest label layer)."""
TOWN_MIN_POPULATION = 10_000
SIZES = ((1400, 900), (1920, 1080))
VIEWS = ("", "200027183", "200049211")
"""Département, Perpignan Méditerranée Métropole (dense), Conflent-Canigó (rural, labels around Prades)."""
HEADER_PX = 34


# --- data ----------------------------------------------------------------------------------------------------------


def label_features(communes: Any, population: dict[str, float]) -> list[dict[str, Any]]:
    """One GeoJSON point per commune, inside its polygon (pole of inaccessibility: far from every edge), with the
    name, a placement order (``ordre``: 0 is placed first) and whether it is a main town.

    Main town (``ville``): the most populated commune of each EPCI (its « ville-centre », so every part of the
    département has a name at full view) and every commune of at least :data:`TOWN_MIN_POPULATION` inhabitants.
    """
    from shapely.ops import polylabel

    rows = []
    for row in communes.itertuples(index=False):
        geom = row.geometry
        part = max(geom.geoms, key=lambda g: g.area) if geom.geom_type == "MultiPolygon" else geom
        point = polylabel(part, tolerance=0.0005)
        rows.append((str(row.code), str(row.nom), str(row.epci_code), float(population.get(str(row.code), 0.0)), point))
    centres = {}
    for code, _name, epci, pop, _point in rows:
        if epci not in centres or pop > centres[epci][1]:
            centres[epci] = (code, pop)
    main = {code for code, _pop in centres.values()}
    ranked = sorted(rows, key=lambda r: (r[0] not in main and r[3] < TOWN_MIN_POPULATION, -r[3]))
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(point.x, 5), round(point.y, 5)]},
            "properties": {
                "nom": name,
                "ordre": order,
                "ville": code in main or pop >= TOWN_MIN_POPULATION,
            },
        }
        for order, (code, name, _epci, pop, point) in enumerate(ranked)
    ]


def slot_id(index: int) -> str:
    """Id of the empty style layer that trace ``index`` is drawn under (``below``)."""
    return f"ctg-trace-{index:02d}"


def labels_style(
    features: list[dict[str, Any]], names_minzoom: float, traces: int, glyphs: str = GLYPHS_URL
) -> dict[str, Any]:
    """A complete MapLibre style: white background, one empty slot layer per plotly trace (see :func:`slot_id`), the
    label points as an inline GeoJSON source and two symbol layers above everything.

    Main towns (bold) show at every zoom; the other names from ``names_minzoom`` (between the département's zoom and
    the EPCIs'). Collision is MapLibre's default (no overlap), ``symbol-sort-key`` = ``ordre`` decides who wins.
    """
    common = {
        "text-field": ["get", "nom"],
        "symbol-sort-key": ["get", "ordre"],
        "text-padding": 2,
        "text-variable-anchor": ["center", "top", "bottom", "left", "right"],
        "text-radial-offset": 0.4,
        "text-max-width": 11,
        "text-allow-overlap": False,
        "text-ignore-placement": False,
        "visibility": "visible",
    }
    paint = {"text-color": "#111111", "text-halo-color": "#ffffff", "text-halo-width": 1.8, "text-halo-blur": 0.2}
    return {
        "version": 8,
        "id": "ctg-carto-noms",
        "name": "ctg-carto : fond blanc et noms des communes",
        "glyphs": glyphs,
        "sources": {"ctg-noms": {"type": "geojson", "data": {"type": "FeatureCollection", "features": features}}},
        "layers": [
            {"id": "fond", "type": "background", "paint": {"background-color": "#ffffff"}},
            *({"id": slot_id(i), "type": "background", "layout": {"visibility": "none"}} for i in range(traces)),
            {
                "id": NAMES_LAYER,
                "type": "symbol",
                "source": "ctg-noms",
                "minzoom": names_minzoom,
                "filter": ["!", ["get", "ville"]],
                "layout": {
                    **common,
                    "text-font": ["literal", [FONT_REGULAR]],
                    "text-size": ["interpolate", ["linear"], ["zoom"], 9, 12.5, 12, 15],
                },
                "paint": paint,
            },
            {
                "id": TOWNS_LAYER,
                "type": "symbol",
                "source": "ctg-noms",
                "filter": ["get", "ville"],
                "layout": {
                    **common,
                    "text-font": ["literal", [FONT_BOLD]],
                    "text-size": ["interpolate", ["linear"], ["zoom"], 8, 13.5, 12, 17],
                },
                "paint": paint,
            },
        ],
    }


# --- the page ------------------------------------------------------------------------------------------------------


def spike_figure(
    model: Any, features: list[dict[str, Any]], epci: str, size: tuple[int, int], names_minzoom: float
) -> Any:
    """The app's real map figure for a view, with the label style, every trace below the names, fitted to the map's
    real pixel size (``size`` is the browser window; the map takes all of it but a title line)."""
    from dashboard.core.state import ViewState, default_indicator
    from dashboard.map.figures import build_map_figure, view_for_bounds

    state = ViewState(epci=epci)
    if state.indicator not in model.columns:
        state = ViewState(epci=epci, indicator=default_indicator(model.columns))
    classes = model.classification(state.indicator, state.method, state.k, ())
    fig = build_map_figure(model, state, classes)
    center, zoom = view_for_bounds(model.bounds.get(epci, model.bounds[""]), size[0], size[1] - HEADER_PX)
    for index, trace in enumerate(fig.data):
        # Each trace goes right under its own empty « slot » layer of the style, all slots under the names: the
        # z-order is the trace order whatever plotly re-adds (a shared ``below`` makes plotly remove and re-add every
        # trace sharing it at each update, and a scattermap shown again is not moved: it ends under the choropleths).
        trace.below = slot_id(index)
        # visible=False: plotly coerces no attribute of the trace (``below`` included), so its layers go on top of
        # the names; « legendonly » hides it the same way on a map (layer visibility « none ») and keeps them.
        if trace.visible is False:
            trace.visible = "legendonly"
    fig.update_layout(
        height=None,
        autosize=True,
        map={"style": labels_style(features, names_minzoom, len(fig.data)), "center": center, "zoom": zoom},
    )
    return fig


def names_minzoom(model: Any) -> tuple[float, dict[str, float]]:
    """Zoom from which every name shows: above the département's full view on the largest screen, below every
    EPCI's view on the smallest (checked); plus the zooms it was chosen from."""
    from dashboard.map.figures import view_for_bounds

    zooms = {}
    for width, height in SIZES:
        for code in VIEWS if model.bounds.get(VIEWS[1]) else ("",):
            bounds = model.bounds.get(code, model.bounds[""])
            zooms[f"{code or 'dep'}@{width}"] = round(view_for_bounds(bounds, width, height - HEADER_PX)[1], 2)
    dep_max = max(v for k, v in zooms.items() if k.startswith("dep@"))
    epci_min = min(view_for_bounds(b, SIZES[0][0], SIZES[0][1] - HEADER_PX)[1] for k, b in model.bounds.items() if k)
    threshold = round(min(dep_max + 0.25, (dep_max + epci_min) / 2), 2)
    if not dep_max < threshold < epci_min:
        raise ValueError(f"Pas de seuil entre la vue département ({dep_max}) et la plus large des EPCI ({epci_min}).")
    zooms["epci_min@1400"] = round(epci_min, 2)
    return threshold, zooms


def make_app(model: Any, features: list[dict[str, Any]], threshold: float) -> Any:
    """Tiny Dash app: the figure of ``?epci=&w=&h=``, the app's assets folder (glyphs) and security headers."""
    import dash
    import flask
    from dash import Input, Output, dcc, html

    from dashboard.web.security import install_security_headers

    app = dash.Dash(
        __name__,
        assets_folder=str(ROOT / "assets"),
        assets_ignore=r".*\.(js|css)$",  # glyphs are served, the app's own scripts and styles are not needed here
        serve_locally=True,
        title="Spike : noms des communes",
    )

    def geo(digest: str, name: str) -> flask.Response:
        data = model.geo.get(name)
        if digest != model.geo_hash or data is None:
            flask.abort(404)
        return flask.Response(data, mimetype="application/geo+json")

    app.server.add_url_rule("/geo/<digest>/<name>.json", "geo", geo)
    install_security_headers(app, object())

    @app.callback(Output("carte", "figure"), Output("titre", "children"), Input("url", "search"))
    def show(search: str | None) -> tuple[Any, str]:
        args = dict(parse_qsl((search or "").lstrip("?")))
        epci = args.get("epci", "")
        size = (int(args.get("w", 1400)), int(args.get("h", 900)))
        title = model.epci_names.get(epci, f"Département {model.departement}")
        return spike_figure(model, features, epci, size, threshold), f"Spike noms — {title}"

    layout = html.Div(
        [
            dcc.Location(id="url"),
            html.Div(id="titre", style={"height": f"{HEADER_PX - 6}px", "font": "16px sans-serif"}),
            dcc.Graph(
                id="carte",
                config={"displaylogo": False, "responsive": True, "scrollZoom": True},
                style={"height": f"calc(100vh - {HEADER_PX}px)", "width": "100%"},
            ),
        ],
        style={"margin": 0},
    )
    app.layout = layout
    return app


# --- the browser ---------------------------------------------------------------------------------------------------

_READY = """
const g = document.getElementById('carte') && document.getElementById('carte').querySelector('.js-plotly-plot');
const map = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot && g._fullLayout.map._subplot.map;
if (!map || !map.loaded() || !map.isStyleLoaded()) return null;
const layers = map.getStyle().layers.map(l => l.id + ':' + l.type + ':' + ((l.layout || {}).visibility || 'visible'));
const count = id => map.getLayer(id) ? map.queryRenderedFeatures({layers: [id]}).length : -1;
return {zoom: map.getZoom(), towns: count(arguments[0]), names: count(arguments[1]), layers: layers,
        shown: map.queryRenderedFeatures({layers: [arguments[0], arguments[1]]}).map(f => f.properties.nom)};
"""

_TO_IMAGE = """
const done = arguments[arguments.length - 1];
const g = document.getElementById('carte').querySelector('.js-plotly-plot');
const t0 = performance.now();
Plotly.toImage(g, {format: 'png', width: 1200, height: 800}).then(
    url => done({url: url, ms: performance.now() - t0}), err => done({error: String(err)}));
"""

_TOGGLE_RELAYOUT = """
const done = arguments[arguments.length - 1];
const g = document.getElementById('carte').querySelector('.js-plotly-plot');
const style = JSON.parse(JSON.stringify(g.layout.map.style));
style.layers.forEach(l => { if (l.type === 'symbol') l.layout.visibility = arguments[0]; });
const t0 = performance.now();
Plotly.relayout(g, {'map.style': style}).then(() => {
    const map = g._fullLayout.map._subplot.map;
    const wait = () => map.loaded() ? done({ms: performance.now() - t0,
        traces: map.getStyle().layers.filter(l => l.id.startsWith('plotly-')).length}) : setTimeout(wait, 20);
    wait();
});
"""

_TOGGLE_DIRECT = """
const g = document.getElementById('carte').querySelector('.js-plotly-plot');
const map = g._fullLayout.map._subplot.map;
const t0 = performance.now();
[arguments[0], arguments[1]].forEach(id => map.setLayoutProperty(id, 'visibility', arguments[2]));
return performance.now() - t0;
"""


def _driver(size: tuple[int, int]) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--use-gl=angle",
        "--use-angle=swiftshader-webgl",
        "--enable-unsafe-swiftshader",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--hide-scrollbars",
        f"--window-size={size[0]},{size[1]}",
        f"--user-data-dir={tempfile.mkdtemp(prefix='ctg-spike-')}",
    ):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False},
    )
    return driver


def _network(driver: Any) -> list[dict[str, Any]]:
    """Every request of the page (DevTools performance log), with the bytes received when it finished."""
    sent: dict[str, dict[str, Any]] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            if not params["request"]["url"].startswith(("http:", "https:", "ws:", "wss:")):
                continue  # the browser's own pages (chrome://), data: and blob: URLs never leave the machine
            sent[params["requestId"]] = {"url": params["request"]["url"], "bytes": 0, "status": None}
        elif message["method"] == "Network.responseReceived" and params["requestId"] in sent:
            sent[params["requestId"]]["status"] = params["response"]["status"]
            sent[params["requestId"]]["type"] = params["response"].get("mimeType")
        elif message["method"] == "Network.loadingFinished" and params["requestId"] in sent:
            sent[params["requestId"]]["bytes"] = int(params.get("encodedDataLength", 0))
        elif message["method"] == "Network.loadingFailed" and params["requestId"] in sent:
            sent[params["requestId"]]["failed"] = params.get("errorText") or params.get("blockedReason")
    return list(sent.values())


def _wait(driver: Any, script: str, *args: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError("carte non prête")


def browse(base: str, out: Path, model: Any) -> dict[str, Any]:
    """Screenshots and checks at every size and view; the results dictionary."""
    results: dict[str, Any] = {"views": [], "requests": [], "console": []}
    for size in SIZES:
        driver = _driver(size)
        try:
            for epci in VIEWS:
                url = f"{base}/?epci={epci}&w={size[0]}&h={size[1]}"
                start = time.monotonic()
                driver.get(url)
                ready = _wait(driver, _READY, TOWNS_LAYER, NAMES_LAYER)
                time.sleep(1.0)  # symbol fade-in (300 ms) and the last placement pass
                ready = _wait(driver, _READY, TOWNS_LAYER, NAMES_LAYER)
                name = f"labels-{epci or 'dep'}-{size[0]}x{size[1]}.png"
                driver.save_screenshot(str(out / name))
                requests = _network(driver)
                results["requests"].extend({**r, "page": url} for r in requests)
                results["console"].extend(e["message"] for e in driver.get_log("browser"))
                results["views"].append(
                    {
                        "epci": epci or "dep",
                        "epci_nom": model.epci_names.get(epci, ""),
                        "size": f"{size[0]}x{size[1]}",
                        "zoom": round(ready["zoom"], 2),
                        "towns_drawn": ready["towns"],
                        "names_drawn": ready["names"],
                        "shown": sorted(set(ready["shown"])),
                        "epci_names_missing": sorted(
                            {n for n, e in zip(model.names, model.epci_codes, strict=True) if e == epci}
                            - set(ready["shown"])
                        )
                        if epci
                        else [],
                        "epci_communes": sum(e == epci for e in model.epci_codes) if epci else 0,
                        "ready_s": round(time.monotonic() - start, 1),
                        "screenshot": name,
                        "glyph_requests": [
                            {"url": r["url"].split("/assets/glyphs/")[1], "bytes": r["bytes"], "status": r["status"]}
                            for r in requests
                            if "/assets/glyphs/" in r["url"]
                        ],
                        "layer_order": ready["layers"],
                        "labels_above_every_shown_trace": all(
                            i < ready["layers"].index(f"{NAMES_LAYER}:symbol:visible")
                            for i, lid in enumerate(ready["layers"])
                            if lid.startswith("plotly-") and lid.endswith(":visible")
                        ),
                    }
                )
                if size == SIZES[0] and epci == VIEWS[2]:
                    results.update(_extras(driver, out))
        finally:
            driver.quit()
    return results


def _extras(driver: Any, out: Path) -> dict[str, Any]:
    """On one view: Plotly.toImage (print mode) and the two ways to switch the names off and on."""
    image = driver.execute_async_script(_TO_IMAGE)
    extras: dict[str, Any] = {"to_image": {k: v for k, v in image.items() if k != "url"}}
    if "url" in image:
        png = base64.b64decode(image["url"].split(",", 1)[1])
        (out / "labels-toimage-1200x800.png").write_bytes(png)
        extras["to_image"]["bytes"] = len(png)
    off = driver.execute_async_script(_TOGGLE_RELAYOUT, "none")
    time.sleep(0.5)
    driver.save_screenshot(str(out / "labels-off-relayout.png"))
    on = driver.execute_async_script(_TOGGLE_RELAYOUT, "visible")
    direct_off = driver.execute_script(_TOGGLE_DIRECT, NAMES_LAYER, TOWNS_LAYER, "none")
    direct_on = driver.execute_script(_TOGGLE_DIRECT, NAMES_LAYER, TOWNS_LAYER, "visible")
    extras["toggle"] = {
        "relayout_style_off_ms": round(off["ms"]),
        "relayout_style_on_ms": round(on["ms"]),
        "plotly_layers_after": on["traces"],
        "set_layout_property_ms": [round(direct_off, 1), round(direct_on, 1)],
    }
    return extras


def main() -> None:
    """Build the model of ``--bundle``, serve the spike page, browse it, write ``results.json``."""
    import geopandas as gpd
    from werkzeug.serving import make_server

    from dashboard.core.model import build_model
    from geodata.bundle import load_bundle
    from geodata.settings import Settings
    from indicators.compute import compute_indicators
    from indicators.registry import REGISTRY

    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/labels-spike"))
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    bundle = load_bundle(args.bundle)
    model = build_model(bundle, compute_indicators(bundle), REGISTRY, Settings.from_env())
    communes = gpd.read_parquet(Path(bundle.path) / "communes.parquet")
    features = label_features(communes, dict(zip(model.codes, model.population, strict=True)))
    threshold, zooms = names_minzoom(model)

    server = make_server("127.0.0.1", args.port, make_app(model, features, threshold).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        results = browse(base, args.out, model)
    finally:
        server.shutdown()
    inline = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    glyph_files = sorted((ROOT / "assets" / "glyphs").rglob("*.pbf"))
    origin = base + "/"
    results.update(
        {
            "names_minzoom": threshold,
            "zooms": zooms,
            "labels": len(features),
            "towns": sum(f["properties"]["ville"] for f in features),
            "towns_list": [f["properties"]["nom"] for f in features if f["properties"]["ville"]],
            "inline_source_bytes": len(inline.encode()),
            "glyph_files_bytes": {str(p.relative_to(ROOT / "assets")): p.stat().st_size for p in glyph_files},
            "other_origin_requests": sorted(
                {r["url"] for r in results["requests"] if not r["url"].startswith((origin, "data:", "blob:"))}
            ),
            "failed_requests": [r for r in results["requests"] if r.get("failed")],
            "csp_messages": [m for m in results["console"] if "Content Security Policy" in m or "CSP" in m],
        }
    )
    results["glyph_bytes_per_page"] = {
        v["epci"] + "@" + v["size"]: sum(g["bytes"] for g in v["glyph_requests"]) for v in results["views"]
    }
    del results["requests"]
    (args.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    sys.stdout.write(json.dumps({k: v for k, v in results.items() if k != "views"}, ensure_ascii=False, indent=1))
    for v in results["views"]:
        sys.stdout.write(
            f"\n{v['epci']} {v['size']} zoom {v['zoom']} villes {v['towns_drawn']} noms {v['names_drawn']}"
        )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
