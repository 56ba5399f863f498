"""Export of the view on screen: caption (pure) and the ``/export/vue.<png|pdf>`` route against a live server."""

from __future__ import annotations

import struct
import subprocess
import urllib.request
from datetime import date

import pytest

from dashboard.core.state import ViewState, parse_state
from dashboard.exports.view import PNG_SIZE, caption_items, export_filename, export_state, format_built_at

EPCI = "200027183"


def test_caption_says_what_the_map_shows(model):
    view = ViewState("eaje_places", "jenks", 4, "", ("eaje", "zrr"), EPCI, "66136")
    items = dict(caption_items(model, view, "2025-11-20T10:00:00+00:00", date(2025, 11, 27)))
    assert items["Territoire"] == model.epci_names[EPCI]
    assert items["Commune"] == "Perpignan (66136)"
    assert items["Indicateur"] == "Places en EAJE (places)"
    assert items["Classes"] == "Seuils naturels (Jenks), 4 classes"
    assert (
        items["Sources des couches"]
        == "EAJE · Caf 66 · millésime 2024 · données fictives ; ZRR · ANCT · millésime 2017"
    )
    assert items["Données"] == "bundle du 20/11/2025, carte exportée le 27/11/2025"
    assert items["Attention"].startswith("Données fictives")


def test_export_state_and_file_name(model):
    page = ViewState(indicator="population", epci=EPCI, presentation=True, sequence="abc", arret=3)
    assert export_state(page) == ViewState(indicator="population", epci=EPCI, impression=True)
    name = export_filename(model, page, "pdf", date(2025, 11, 27))
    assert name == f"carte_66_population_epci_{EPCI}_2025-11-27.pdf"
    assert format_built_at("") == "inconnue"
    assert format_built_at("hier") == "hier"
    assert parse_state("?impression=1").impression


@pytest.fixture
def live(dash_thread_server, app):
    dash_thread_server(app)
    return dash_thread_server.url


@pytest.mark.browser
def test_pdf_export_is_one_page_with_the_caption(live, tmp_path):
    url = f"{live}/export/vue.pdf?indicateur=eaje_places&couches=eaje,epci&epci={EPCI}&commune=66136"
    with urllib.request.urlopen(url, timeout=90) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        assert "carte_66_eaje_places_epci_" in response.headers["Content-Disposition"]
        pdf = tmp_path / "vue.pdf"
        pdf.write_bytes(response.read())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    for expected in ("Places en EAJE", "Perpignan Méditerranée Métropole", "Perpignan (66136)",
                     "Caf 66 · millésime 2024", "Données fictives"):  # fmt: skip
        assert expected in text


@pytest.mark.browser
def test_png_export_is_a_1080p_image(live):
    with urllib.request.urlopen(f"{live}/export/vue.png?indicateur=sous_dotation&epci={EPCI}", timeout=90) as response:
        assert response.headers["Content-Type"] == "image/png"
        head = response.read()
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == PNG_SIZE
    # The map itself is drawn, not only its frame: most of the map area is coloured (a capture taken before the
    # GeoJSON layers render is white there).
    pixels = _png_rgb(head)
    height, width, _ = pixels.shape
    map_area = pixels[height // 8 : height * 3 // 4, width // 20 : width * 3 // 5].astype(int)
    coloured = (map_area.min(axis=2) < 235).mean()
    assert coloured > 0.3, coloured


def _png_rgb(data: bytes):
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into an array, with numpy and zlib only."""
    import zlib

    import numpy as np

    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * channels)
    out = np.zeros((height, width * channels), dtype=np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        above = out[y - 1] if y else np.zeros_like(line)
        if kind == 0:
            out[y] = line
        elif kind == 2:
            out[y] = (line + above) % 256
        else:  # 1 Sub, 3 Average, 4 Paeth depend on the left neighbour: pixel by pixel
            row = np.zeros_like(line)
            for x in range(len(line)):
                left = row[x - channels] if x >= channels else 0
                up, up_left = above[x], (above[x - channels] if x >= channels else 0)
                if kind == 1:
                    pred = left
                elif kind == 3:
                    pred = (left + up) // 2
                else:
                    p = left + up - up_left
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                    pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                row[x] = (line[x] + pred) % 256
            out[y] = row
    return out.reshape(height, width, channels)[:, :, :3]


# --- the renderer only loads the app itself ---------------------------------------------------------------------


def test_only_the_app_s_own_paths_are_allowed():
    from dashboard.exports.view import _RequestGuard, path_allowed

    for path in ("/", "/_dash-layout", "/_dash-dependencies", "/_dash-update-component", "/assets/style.css",
                 "/_dash-component-suites/dash/dcc/async-graph.js", "/geo/abc/communes.json",
                 "/_ctg/plotly/0123456789abcdef/plotly.min.js"):  # fmt: skip
        assert path_allowed(path), path
    for path in ("/donnees", "/export/vue.png", "/modeles/caf_eaje.csv", "/_dash-layoutX", "/aide", "/../etc"):
        assert not path_allowed(path), path
    guard = _RequestGuard("http://127.0.0.1:8050", {})
    assert guard.allowed("http://127.0.0.1:8050/?indicateur=x")
    assert guard.allowed("http://127.0.0.1:8050/assets/presentation.js?m=1")
    elsewhere = ("http://127.0.0.1:8051/", "http://localhost:8050/", "https://127.0.0.1:8050/", "file:///etc/passwd",
                 "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8050/donnees")  # fmt: skip
    for url in elsewhere:
        assert not guard.allowed(url), url


class _Sock:
    def __init__(self, address):
        self.address = address

    def getsockname(self):
        return self.address


def test_the_address_comes_from_the_socket_never_from_the_request():
    from dashboard.exports.chromium import RenderError
    from dashboard.exports.view import internal_origin

    environ = {
        "HTTP_HOST": "evil.example:80",
        "SERVER_NAME": "evil.example",
        "gunicorn.socket": _Sock(("10.0.0.5", 8050)),
    }
    assert internal_origin(environ) == "http://10.0.0.5:8050"
    assert internal_origin({"werkzeug.socket": _Sock(("::1", 9000, 0, 0))}) == "http://[::1]:9000"
    for environ in ({"HTTP_HOST": "127.0.0.1:8050"}, {"gunicorn.socket": _Sock("/run/ctg.sock")}):
        with pytest.raises(RenderError, match="Export indisponible"):
            internal_origin(environ)


@pytest.mark.browser
def test_a_capture_never_reaches_another_server_or_path(caplog):
    """A page asking for images, scripts and fetches elsewhere: Chromium loads none of them."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from dashboard.exports.view import capture

    hits: dict[str, list[str]] = {"app": [], "autre": []}

    def handler(name: str, body: bytes):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits[name].append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    other = ThreadingHTTPServer(("127.0.0.1", 0), handler("autre", b"secret"))
    port = other.server_address[1]
    page = f"""<!DOCTYPE html><html><body><h1>page</h1>
<img src="http://127.0.0.1:{port}/image.png"><img src="http://localhost:{port}/nom.png">
<script src="http://127.0.0.1:{port}/script.js"></script>
<script>
fetch("http://127.0.0.1:{port}/fetch").catch(function () {{}});
fetch("/donnees").catch(function () {{}});
window.ctgCarto = {{ ready: function () {{ return window.fini === true; }} }};
setTimeout(function () {{ window.fini = true; }}, 1500);
</script></body></html>""".encode()
    app = ThreadingHTTPServer(("127.0.0.1", 0), handler("app", page))
    for server in (other, app):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with caplog.at_level("WARNING", logger="dashboard.exports.view"):
            png = capture(f"http://127.0.0.1:{app.server_address[1]}", "?indicateur=x", "png", timeout=60)
    finally:
        for server in (other, app):
            server.shutdown()
            server.server_close()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert hits["app"] == ["/?indicateur=x"]  # the page only: « /donnees » was refused inside Chromium
    assert hits["autre"] == []
    refused = " ".join(r.getMessage() for r in caplog.records)
    for path in ("image.png", "script.js", "fetch"):
        assert f"127.0.0.1:{port}/{path}" in refused, path
    assert "/donnees" in refused
