"""Screenshots of the user guide (``docs/guide/*.png``), taken by driving the real app, each screen checked first.

Window 1400×900; each PNG is rewritten as a 252-colour palette PNG (pixels read with ``convert FILE.png ppm:-``; PIL is
not a dependency; without ``convert`` the plain screenshot is kept), and must stay under 250 KB.

A test run never writes tracked files: the screens go to ``tmp_path`` and are compared with the guide's (same size).
``make guide-screens`` refreshes the guide after a visible change of the app: it sets :data:`OUT_ENV` to
``docs/guide``.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.by import By

from dashboard.core import ids
from dashboard.web.pages import GUIDE_FILE, GUIDE_IMAGES
from tests.dashboard.test_browser_donnees import hostile_extract
from tests.dashboard.test_donnees import page_settings  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

MAX_BYTES = 250 * 1024
OUT_ENV = "CTG_GUIDE_SCREENS"
"""Directory the screens are written to (``make guide-screens``); unset, a temporary one."""
MAP_GRAPH = f"#{ids.MAP} .js-plotly-plot"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def palette_png(pixels: np.ndarray) -> bytes:
    """An 8-bit palette PNG of an RGB array, colours rounded to a 6×7×6 cube (252 colours: flat UI, small file)."""
    levels = np.array([6, 7, 6])
    q = np.rint(pixels.astype(float) / 255 * (levels - 1)).astype(np.uint8)
    index = (q[..., 0].astype(np.uint16) * 7 + q[..., 1]) * 6 + q[..., 2]
    grid = np.stack(np.meshgrid(*(np.arange(n) for n in levels), indexing="ij"), -1).reshape(-1, 3)
    palette = np.rint(grid / (levels - 1) * 255).astype(np.uint8).tobytes()
    height, width = index.shape
    raw = np.hstack([np.zeros((height, 1), np.uint8), index.astype(np.uint8)]).tobytes()  # filter 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        [
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", palette),
            _chunk(b"IDAT", zlib.compress(raw, 9)),
            _chunk(b"IEND", b""),
        ]
    )


def _ppm_pixels(ppm: bytes) -> np.ndarray:
    parts = ppm.split(maxsplit=4)  # P6 width height maxval data
    assert parts[0] == b"P6" and parts[3] == b"255"
    width, height = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][: width * height * 3], np.uint8).reshape(height, width, 3)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, read from its IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def save(dash_duo, out: Path, name: str) -> Path:
    """Screenshot of the window as ``<out>/<name>.png``, palette-reduced, checked under 250 KB and, when ``out`` is not
    the guide's folder, of the size of the guide's screen of the same name."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    dash_duo.driver.save_screenshot(str(path))
    convert = shutil.which("convert")  # ImageMagick, or the stand-in that only does « FILE.png ppm:- »
    if convert:
        done = subprocess.run([convert, str(path), "ppm:-"], capture_output=True, timeout=30)
        if done.returncode == 0 and done.stdout.startswith(b"P6"):
            reduced = palette_png(_ppm_pixels(done.stdout))
            if len(reduced) < path.stat().st_size:
                path.write_bytes(reduced)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size < MAX_BYTES, f"{path.name}: {path.stat().st_size} octets"
    tracked = GUIDE_IMAGES / path.name
    if path.resolve() != tracked.resolve():
        assert png_size(path.read_bytes()) == png_size(tracked.read_bytes()), f"{name} : taille différente du guide"
    return path


def _wait_map(dash_duo) -> None:
    dash_duo.wait_for_element(MAP_GRAPH, timeout=20)
    dash_duo.wait_for_text_to_equal(f"#{ids.SYNTHETIC_BANNER}", "Données fictives", timeout=10)


def test_guide_screens(dash_duo, app, page_settings, tmp_path):  # noqa: F811
    out = Path(os.environ[OUT_ENV]).resolve() if os.environ.get(OUT_ENV) else tmp_path / "guide"
    dash_duo.driver.set_window_size(1400, 900)
    dash_duo.start_server(app)
    _wait_map(dash_duo)

    # 1. The map, with the header links to the other pages.
    nav = [a.text for a in dash_duo.driver.find_elements(By.CSS_SELECTOR, f"#{ids.PAGE} .page-nav a")]
    assert nav == ["Carte", "Données", "Aide"]
    dash_duo.driver.get(dash_duo.server_url + "/?indicateur=population")
    _wait_map(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.LEGEND}", "Population municipale", timeout=10)
    save(dash_duo, out, "carte")

    # 2. The under-served layer (P1/P2/P3) with a commune chosen: legend and commune card.
    dash_duo.driver.get(dash_duo.server_url + "/?indicateur=sous_dotation&commune=66136")
    _wait_map(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.LEGEND}", "P3 vigilance", timeout=10)
    dash_duo.wait_for_contains_text(f"#{ids.COMMUNE_CARD}", "Perpignan", timeout=10)
    save(dash_duo, out, "sous_dotation")

    # 3. Presentation mode (projector): the bar with the stop counter is shown.
    dash_duo.driver.get(dash_duo.server_url + "/?indicateur=sous_dotation&presentation=1")
    _wait_map(dash_duo)
    dash_duo.wait_for_element(f"#{ids.PRESENTATION_BAR}", timeout=10)
    assert dash_duo.find_element(f"#{ids.PRESENTATION_BAR}").is_displayed()
    save(dash_duo, out, "presentation")

    # 4. The « Données » page after a faulty upload: the report names line and column, confirm stays disabled.
    dash_duo.driver.get(dash_duo.server_url + "/donnees")
    dash_duo.wait_for_contains_text(f"#{ids.DONNEES_LAYERS}", "Couches absentes", timeout=15)
    upload = dash_duo.driver.find_element(By.CSS_SELECTOR, f"#{ids.DONNEES_UPLOAD} input[type=file]")
    upload.send_keys(str(hostile_extract(tmp_path / "eaje_2025-03-31.csv")))
    dash_duo.wait_for_contains_text(f"#{ids.DONNEES_REPORT}", "bloquante", timeout=15)
    headers = [th.text for th in dash_duo.driver.find_elements(By.CSS_SELECTOR, f"#{ids.DONNEES_REPORT} th")]
    assert headers == ["Fichier", "Ligne", "Colonne", "Gravité", "Problème", "Suggestion"]
    assert dash_duo.find_element(f"#{ids.DONNEES_CONFIRM}").get_attribute("disabled") == "true"
    dash_duo.driver.execute_script(f"document.getElementById('{ids.DONNEES_REPORT}').scrollIntoView()")
    save(dash_duo, out, "donnees")

    # 5. The guide itself, with its first image served by the app.
    dash_duo.driver.get(dash_duo.server_url + "/aide")
    dash_duo.wait_for_contains_text(f"#{ids.AIDE_PAGE} h1", "Guide", timeout=10)
    images = dash_duo.driver.find_elements(By.CSS_SELECTOR, f"#{ids.AIDE_PAGE} img")
    assert images and dash_duo.driver.execute_script("return arguments[0].naturalWidth", images[0]) > 0
    referenced = {p.name for p in GUIDE_IMAGES.glob("*.png")}
    assert {"carte.png", "sous_dotation.png", "presentation.png", "donnees.png"} <= referenced
    assert all(f"guide/{name}" in GUIDE_FILE.read_text(encoding="utf-8") for name in referenced)
