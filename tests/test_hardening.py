"""Attacks from an anonymous client against gunicorn started from the ``Procfile`` (helpers of ``bench/load.py``).

- the page talks to its own server only (every request a real browser makes is listed), its toolbar uploads nothing
  and is in French, and the Content-Security-Policy does not break it;
- the view export ignores the ``Host`` header (no request reaches another local server) and exports run one at a
  time, the others being told « réessayez » at once while the map keeps answering;
- wrong passwords are throttled by all workers together.

Timing targets (map p95 while exports run, login figures) are measured by ``python -m bench.run hardening``.
"""

from __future__ import annotations

import base64
import http.client
import importlib.util
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dashboard.core import ids

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _load_bench() -> object:
    spec = importlib.util.spec_from_file_location("ctg_bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


load = _load_bench()
EXPORT = "/export/vue.png?indicateur=eaje_nb&epci=200027183"


@pytest.fixture(scope="module")
def server(bundle_66_demo_dir, tmp_path_factory):
    """3 workers; TMPDIR private to this test module, so the shared limits start empty and are cleaned up."""
    env = {"TMPDIR": str(tmp_path_factory.mktemp("tmp-gunicorn"))}
    with load.gunicorn(bundle_66_demo_dir, 3, extra_env=env, timeout=90) as srv:
        yield srv


class _Recorder(ThreadingHTTPServer):
    """Another local service: records every request it receives."""

    def __init__(self):
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"service interne")

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.hits = hits
        threading.Thread(target=self.serve_forever, daemon=True).start()


def _get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# --- nothing leaves the page --------------------------------------------------------------------------------------


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900",
                "--use-gl=angle", "--use-angle=swiftshader-webgl", "--enable-unsafe-swiftshader"):  # fmt: skip
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(options=options)


MAP_DRAWN = """
const gd = document.querySelector('#carte .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
return !!(sub && sub.map && sub.map.loaded() && document.querySelectorAll('#carte .modebar-btn').length > 0);
"""


@pytest.mark.browser
def test_the_page_makes_no_request_to_another_origin_and_its_toolbar_is_french(server):
    origin = f"http://127.0.0.1:{server.port}"
    driver = _browser()
    try:
        urls: list[str] = []
        console: list[str] = []
        for path in ("/?presentation=1", "/?commune=66136&couches=eaje,alsh,qpv,zrr,epci,ctg", "/aide", "/donnees"):
            driver.get(origin + path)
            deadline = time.monotonic() + 60
            while path.startswith("/?") and not driver.execute_script(MAP_DRAWN) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.5)  # late requests (geometry, async chunks, callbacks)
            for entry in driver.get_log("performance"):
                message = json.loads(entry["message"])["message"]
                if message["method"] in {"Network.requestWillBeSent", "Network.webSocketCreated"}:
                    urls.append(message["params"].get("request", message["params"]).get("url", ""))
            console += [e["message"] for e in driver.get_log("browser") if "GL Driver" not in e["message"]]
            if path.startswith("/?"):
                titles = driver.execute_script(
                    "return Array.from(document.querySelectorAll('#carte .modebar-btn'))"
                    ".map(b => b.getAttribute('data-title'))"
                )
        assert len(urls) > 20
        elsewhere = [u for u in urls if not u.startswith((origin + "/", "blob:" + origin + "/", "data:"))]
        assert elsewhere == []
        assert not [line for line in console if "Content Security Policy" in line or "Refused to" in line]
        assert titles == ["Déplacer", "Sélection rectangulaire", "Sélection au lasso", "Zoom avant", "Zoom arrière",
                          "Revenir à la vue d'origine"]  # fmt: skip
    finally:
        driver.quit()


# --- exports --------------------------------------------------------------------------------------------------------


def test_the_export_ignores_the_host_header_and_never_reaches_another_server(server):
    other = _Recorder()
    try:
        target = f"127.0.0.1:{other.server_address[1]}"
        headers = {
            "Host": target,
            "X-Forwarded-Host": target,
            "X-Forwarded-Proto": "http",
            "Forwarded": f"host={target}",
        }
        status, answer_headers, body = _get(server.port, EXPORT, headers)
    finally:
        other.shutdown()
        other.server_close()
    assert other.hits == []
    if status == 503:  # a slow machine: the export may time out, but never by asking someone else
        assert "réessayez" in body.decode()
    else:
        assert status == 200, body[:300]
        assert answer_headers["Content-Type"] == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n"


def test_simultaneous_exports_run_one_at_a_time_and_the_others_are_told_to_retry(server):
    workflow = load.Workflow.discover(server.port)
    epci = workflow.callbacks["epci_map"]

    def export(_: int) -> tuple[int, dict, bytes, float, float]:
        start = time.monotonic()
        status, headers, body = _get(server.port, EXPORT)
        return status, headers, body, start, time.monotonic()

    with ThreadPoolExecutor(max_workers=4) as pool:
        exports = [pool.submit(export, n) for n in range(4)]
        time.sleep(1.0)  # the exports have started; the map must still answer
        map_answers = []
        while not all(f.done() for f in exports) and len(map_answers) < 30:
            body = load.callback_body(
                epci, {ids.EPCI_DROPDOWN: workflow.epcis[len(map_answers) % 3]}, ids.EPCI_DROPDOWN
            )
            map_answers.append(
                (load.request(server.port, "POST", "/_dash-update-component", body)[0], time.monotonic())
            )
        results = [f.result() for f in exports]
    statuses = sorted(r[0] for r in results)
    assert statuses.count(503) >= 3, statuses  # only one export slot
    for status, headers, body, _, _ in results:
        if status == 503:
            assert int(headers["Retry-After"]) > 0
            text = body.decode()
            assert "réessayez" in text and "Réessayer" in text and "Retour à la carte" in text
    finished = max(r[4] for r in results)
    assert map_answers and all(status == 200 for status, _ in map_answers)
    assert any(when < finished for _, when in map_answers)  # answered while an export was running


# --- failed logins ------------------------------------------------------------------------------------------------


def test_wrong_passwords_are_throttled_by_all_workers_together(bundle_66_demo_dir, tmp_path):
    from werkzeug.security import generate_password_hash

    # TMPDIR: the failed-login state starts empty (nothing left by another run) and is cleaned up.
    env = {"CTG_CARTO_AUTH_PASSWORD_HASH": generate_password_hash("bon-mot-de-passe"), "TMPDIR": str(tmp_path)}
    with load.gunicorn(bundle_66_demo_dir, 2, extra_env=env, timeout=90) as srv:

        def attempt(n: int) -> tuple[int, dict, bytes]:
            token = base64.b64encode(f"editeur:faux-{n}".encode()).decode()
            return _get(srv.port, "/donnees", {"Authorization": f"Basic {token}"}, timeout=30)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(attempt, range(16)))
        statuses = sorted(a[0] for a in answers)
        assert statuses == [401] * 5 + [429] * 11  # 5 checks per client, whichever worker answers
        refused = next(a for a in answers if a[0] == 429)
        assert 0 < int(refused[1]["Retry-After"]) <= 300
        assert "Trop de tentatives de connexion" in refused[2].decode()
        assert _get(srv.port, "/")[0] == 200  # the map stays open
