"""Dashboard performance: start-up, first paint, interaction latency and bytes, against the naive approach.

Measured on the bundle given by ``CTG_CARTO_BUNDLE`` (default ``var/bundle``):

- **server side, in process**: each callback of an EPCI change / indicator change called directly (time p50 and
  p95 over many calls) and the JSON size of what it returns; the same change done the naive way — a new
  ``px.choropleth_map`` figure with inline GeoJSON — for comparison;
- **real browser** (headless Chromium + chromedriver): ``ctg-carto serve`` started in a subprocess, time until it
  answers, time until the map is painted after navigation, time until an EPCI / indicator change is reflected in the
  figure, and the bytes the browser received for each interaction (Resource Timing of ``_dash-update-component``:
  compressed bodies, every callback counted) — EPCI change, indicator change, layer ticked/unticked — and the
  transferred size of the layout JSON;
- **visits** (``bench.visit``): bytes of a first and a repeat visit, gunicorn as in the Procfile.

Then every target of issue 14 it measures is printed as RÉUSSI/ÉCHEC with the measured value (``app-targets``).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _size(obj: Any) -> int:
    import plotly.utils

    if hasattr(obj, "to_plotly_json"):
        obj = obj.to_plotly_json()
    return len(json.dumps(obj, cls=plotly.utils.PlotlyJSONEncoder, separators=(",", ":")).encode())


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, out


def _p(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1], 2) if len(values) > 2 else round(values[0], 2)


def server_side(bundle_path: Path, record: Callable[..., dict], repeat: int = 30) -> None:
    """Callback time and bytes per interaction, ours vs naive, in one process."""
    import plotly.express as px

    from dashboard.app import create_app
    from dashboard.core import runtime
    from dashboard.map import callbacks
    from geodata.bundle import load_bundle
    from geodata.settings import Settings

    bundle = load_bundle(bundle_path)
    start = time.perf_counter()
    app = create_app(Settings.from_env(), bundle)
    create_ms = (time.perf_counter() - start) * 1000
    model = runtime.of(app.server).served.model
    epcis = [*sorted(model.bounds), ""]
    indicator = "population"
    geojson = json.loads((Path(bundle.path) / "web" / "communes.json").read_text())
    values = bundle.communes[["code", "nom", "epci_code", "population"]].copy()
    with app.server.app_context():
        ours_ms, ours_bytes = [], []
        for epci in epcis:
            times, patch = _timed(lambda e=epci: callbacks.update_map_view(e, None, None), repeat)
            ours_ms += times
            ours_bytes.append(_size(patch))
        table_ms, table_bytes = [], []
        for epci in epcis:
            times, out = _timed(lambda e=epci: callbacks.update_table(indicator, e), max(3, repeat // 5))
            table_ms += times
            table_bytes.append(_size(list(out)))
        ind_ms, ind_bytes = [], []
        for ind in [c for c in model.columns if model.columns[c].meta.kind != "texte"][:8]:
            times, patch = _timed(lambda i=ind: callbacks.update_map_classes(i, "quantiles", 5, ""), repeat)
            ind_ms += times
            ind_bytes.append(_size(patch))

    def naive(epci: str) -> str:
        frame = (
            values if not epci else values.assign(population=values["population"].where(values["epci_code"] == epci))
        )
        fig = px.choropleth_map(
            frame,
            geojson=geojson,
            locations="code",
            featureidkey="id",
            color="population",
            hover_name="nom",
            map_style="white-bg",
            zoom=7.5,
            center={"lat": 42.6, "lon": 2.5},
        )
        return fig.to_json()

    naive_ms, naive_bytes = [], []
    for epci in epcis:
        times, text = _timed(lambda e=epci: naive(e), max(3, repeat // 10))
        naive_ms += times
        naive_bytes.append(len(text.encode()))
    ours_p50 = statistics.median(ours_ms)
    http = _http_callbacks(app, epcis, repeat)
    record(
        "app-server",
        bundle=str(bundle_path),
        communes=len(bundle.communes),
        create_app_ms=round(create_ms),
        epci_change_map_patch={
            "p50_ms": _p(ours_ms, 50),
            "p95_ms": _p(ours_ms, 95),
            "bytes_median": int(statistics.median(ours_bytes)),
            "bytes_max": max(ours_bytes),
        },
        epci_change_table={"p50_ms": _p(table_ms, 50), "bytes_median": int(statistics.median(table_bytes))},
        indicator_change_map_patch={
            "p50_ms": _p(ind_ms, 50),
            "p95_ms": _p(ind_ms, 95),
            "bytes_median": int(statistics.median(ind_bytes)),
            "bytes_max": max(ind_bytes),
        },
        naive_epci_change={"p50_ms": _p(naive_ms, 50), "bytes_median": int(statistics.median(naive_bytes))},
        ratio_bytes_naive_over_ours=round(statistics.median(naive_bytes) / statistics.median(ours_bytes), 1),
        ratio_time_naive_over_ours=round(statistics.median(naive_ms) / ours_p50, 1),
        http_epci_change_map=http,
        ratio_time_naive_over_http=round(statistics.median(naive_ms) / http["p50_ms"], 1),
        ratio_bytes_naive_over_http=round(statistics.median(naive_bytes) / http["bytes_median"], 1),
    )


def _http_callbacks(app: Any, epcis: list[str], repeat: int) -> dict[str, float]:
    """The EPCI → map callback through Dash's real HTTP endpoint (routing, JSON, Patch serialisation included)."""
    from dashboard.core import ids

    client = app.server.test_client()
    client.get("/")
    deps = client.get("/_dash-dependencies").get_json()
    epci_input = {"id": ids.EPCI_DROPDOWN, "property": "value"}
    dep = next(d for d in deps if d["inputs"][:1] == [epci_input] and ".figure" in d["output"])
    out_id, out_prop = dep["output"].split("@")[0].rsplit(".", 1)
    times, sizes = [], []
    for _ in range(max(1, repeat // 3)):
        for epci in epcis:
            body = {
                "output": dep["output"],
                "outputs": {"id": out_id, "property": dep["output"].split(".", 1)[1]},
                # The EPCI changes; the map's other inputs (commune, measured frame) keep their start value.
                "inputs": [{**epci_input, "value": epci}] + [{**other, "value": None} for other in dep["inputs"][1:]],
                "changedPropIds": [f"{ids.EPCI_DROPDOWN}.value"],
                "state": [],
            }
            start = time.perf_counter()
            response = client.post("/_dash-update-component", json=body)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.data[:200]
            sizes.append(len(response.data))
    del out_prop
    return {"p50_ms": _p(times, 50), "p95_ms": _p(times, 95), "bytes_median": int(statistics.median(sizes))}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--enable-unsafe-swiftshader",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1600,1100",
        f"--user-data-dir={tempfile.mkdtemp()}",
    ):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(options=options)


_PAINTED = """
const g = document.querySelector('.js-plotly-plot');
const canvas = document.querySelector('.maplibregl-canvas');
const geo = performance.getEntriesByType('resource').filter(e => e.name.includes('/communes.json'));
if (!g || !canvas || !g._fullData || !geo.length) return null;
const map = g._fullLayout.map && g._fullLayout.map._subplot && g._fullLayout.map._subplot.map;
if (!map || !map.loaded()) return null;
return performance.now();
"""


def browser_side(bundle_path: Path, record: Callable[..., dict], rounds: int = 5) -> dict:
    """Start the real server, navigate, and time paint and interactions in headless Chromium."""
    port = _free_port()
    env = {**os.environ, "CTG_CARTO_BUNDLE": str(bundle_path)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                if time.perf_counter() - start > 120:
                    raise
                time.sleep(0.05)
        ready_s = time.perf_counter() - start
        layout = urllib.request.Request(url + "_dash-layout", headers={"Accept-Encoding": "br, gzip"})
        with urllib.request.urlopen(layout, timeout=30) as response:
            layout_bytes = {"encoding": response.headers.get("Content-Encoding", ""), "bytes": len(response.read())}
        driver = _driver()
        try:
            paints = []
            for _ in range(rounds):
                driver.get("about:blank")
                driver.get(url)
                painted = None
                deadline = time.perf_counter() + 60
                while painted is None and time.perf_counter() < deadline:
                    painted = driver.execute_script(_PAINTED)
                    time.sleep(0.01)
                paints.append(painted)
            interactions = _interactions(driver, url)
        finally:
            driver.quit()
        return record(
            "app-browser",
            bundle=str(bundle_path),
            ready_after_start_s=round(ready_s, 2),
            layout_transfer=layout_bytes,
            map_painted_ms={"median": round(statistics.median(paints)), "all": [round(p) for p in paints]},
            **interactions,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _interactions(driver: Any, url: str) -> dict[str, Any]:
    """Change EPCI then indicator through the URL (as a shared link or the history does) and time the redraw."""
    epcis = driver.execute_script(
        "return Array.from(new Set(document.querySelector('.js-plotly-plot')._fullData.flatMap(t => [])))"
    )
    del epcis
    model_epcis = driver.execute_script(
        "return fetch('/_dash-layout').then(r => r.json()).then(l => JSON.stringify(l))"
    )
    codes = sorted(set(__import__("re").findall(r'"value":\s*"(2\d{8}|24\d{7})"', model_epcis)))[:6]
    results: dict[str, list[float]] = {
        "epci_change_ms": [],
        "epci_change_bytes": [],
        "indicator_change_ms": [],
        "indicator_change_bytes": [],
    }
    shown = ""  # the indicator in the URL: an EPCI change keeps it (else it would be an EPCI + indicator change)
    for i, code in enumerate(codes):
        indicator = "population" if i % 2 else "taux_pauvrete"
        for kind, query, probe in (
            (
                "epci",
                f"?epci={code}" + (f"&indicateur={shown}" if shown else ""),
                "g.layout.map.zoom + '|' + JSON.stringify(g.layout.map.center)",
            ),
            (
                "indicator",
                f"?epci={code}&indicateur={indicator}",
                "JSON.stringify(g.data.map(t => t.z && t.z.length).join()) + JSON.stringify(g.data[1].z)",
            ),
        ):
            shown = indicator if kind == "indicator" else shown
            script = f"const g = document.querySelector('.js-plotly-plot'); return {probe};"
            before = driver.execute_script(script)
            driver.execute_script("performance.clearResourceTimings();")
            t0 = time.perf_counter()
            driver.execute_script(
                "window.history.pushState({}, '', arguments[0]); window.dispatchEvent(new PopStateEvent('popstate'));",
                query,
            )
            deadline = t0 + 10
            while driver.execute_script(script) == before and time.perf_counter() < deadline:
                time.sleep(0.005)
            results[f"{kind}_change_ms"].append((time.perf_counter() - t0) * 1000)
            results[f"{kind}_change_bytes"].append(_settled_bytes(driver))
    results.update(_layer_toggles(driver, rounds=len(codes)))
    return {key: {"median": round(statistics.median(v), 1), "max": round(max(v), 1)} for key, v in results.items() if v}


_UPDATE_BYTES = """
const entries = performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update'));
return [entries.length, entries.reduce((a, e) => a + e.encodedBodySize, 0)];
"""


def _settled_bytes(driver: Any, quiet_s: float = 1.0) -> int:
    """Compressed bodies of every callback response of one change, once none has arrived for ``quiet_s`` (a chain of
    callbacks can end well after the map changed on a loaded machine)."""
    seen, since = None, time.perf_counter()
    deadline = since + 20
    while time.perf_counter() < deadline:
        now = driver.execute_script(_UPDATE_BYTES)
        if now != seen:
            seen, since = now, time.perf_counter()
        elif time.perf_counter() - since > quiet_s:
            break
        time.sleep(0.05)
    return int(seen[1]) if seen else 0


def _layer_toggles(driver: Any, rounds: int) -> dict[str, list[float]]:
    """Tick then untick the first point layer (a click, as a user does): time until the trace's visibility changes
    and bytes of every callback response it fires."""
    from dashboard.core import ids

    probe = (
        "const g = document.querySelector('.js-plotly-plot');"
        "return JSON.stringify(g.data.map(t => t.visible === false ? 0 : 1));"
    )
    click = f"document.querySelector('#{ids.POINT_LAYERS} input:not([disabled])').click();"
    out: dict[str, list[float]] = {"layer_toggle_ms": [], "layer_toggle_bytes": []}
    for _ in range(rounds):
        before = driver.execute_script(probe)
        driver.execute_script("performance.clearResourceTimings();")
        t0 = time.perf_counter()
        driver.execute_script(click)
        while driver.execute_script(probe) == before and time.perf_counter() < t0 + 10:
            time.sleep(0.005)
        out["layer_toggle_ms"].append((time.perf_counter() - t0) * 1000)
        out["layer_toggle_bytes"].append(_settled_bytes(driver))
    return out


def bench_app(record: Callable[..., dict]) -> None:
    """Run the server half, the browser half and the visits on the configured bundle, then the targets."""
    from geodata.settings import Settings

    bundle = Settings.from_env().bundle
    server_side(bundle, record)
    browser = browser_side(bundle, record)
    visits = visit_side(bundle, record)
    print_targets(record, browser, visits)


def visit_side(bundle_path: Path, record: Callable[..., dict]) -> dict:
    """Bytes of a first and a repeat visit, gunicorn as in the Procfile (``bench.visit``)."""
    from bench.load import gunicorn
    from bench.visit import visit

    with gunicorn(bundle_path, 2) as server:
        result = visit(f"http://127.0.0.1:{server.port}/")
    return record(
        "app-visits",
        bundle=str(bundle_path),
        **{
            name: {
                "requests": data["requests"],
                "bytes": data["bytes"],
                "largest": [(row["bytes"], row["path"]) for row in data["rows"][:5]],
            }
            for name, data in result.items()
        },
    )


TARGETS = (
    # (label, where in the records, limit, unit); a measured value ≤ limit passes.
    ("1re visite (octets transférés)", ("visits", "first", "bytes"), 1_800_000, "o"),
    ("2e visite (octets transférés)", ("visits", "repeat", "bytes"), 100_000, "o"),
    ("changement d'EPCI, toutes réponses (max)", ("browser", "epci_change_bytes", "max"), 3_000, "o"),
    ("changement d'indicateur, toutes réponses (max)", ("browser", "indicator_change_bytes", "max"), 3_000, "o"),
    ("couche cochée/décochée, toutes réponses (max)", ("browser", "layer_toggle_bytes", "max"), 3_000, "o"),
    ("mise en page JSON compressée", ("browser", "layout_transfer", "bytes"), 60_000, "o"),
    ("carte peinte (médiane de 5 navigations)", ("browser", "map_painted_ms", "median"), 1_500, "ms"),
    ("prête après démarrage", ("browser", "ready_after_start_s"), 2.0, "s"),
)
"""Targets of issue 14 measured by this bench (the national map, point 4, is not: see the README)."""


def target_results(rows: dict[str, dict]) -> list[tuple[str, float | None, float, str, bool]]:
    """(label, measured, limit, unit, passed) for each of :data:`TARGETS` (measured None: not in the records)."""
    out = []
    for label, path, limit, unit in TARGETS:
        value: Any = rows
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        out.append((label, value, limit, unit, value is not None and value <= limit))
    return out


def print_targets(record: Callable[..., dict], browser: dict, visits: dict) -> None:
    """One line per target: RÉUSSI/ÉCHEC, measured value and limit; recorded as ``app-targets``."""
    results = target_results({"browser": browser, "visits": visits})
    for label, value, limit, unit, passed in results:
        print(f"{'RÉUSSI' if passed else 'ÉCHEC ':7} {label} : {value} {unit} (cible ≤ {limit} {unit})")
    keys = ("cible", "mesure", "limite", "unite", "reussi")
    record("app-targets", targets=[dict(zip(keys, result, strict=True)) for result in results])
