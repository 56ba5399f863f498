"""A running server switches to a newly built bundle without restart, and keeps the old one if the new is broken."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from geodata.build import build_bundle
from geodata.demo import write_demo_extract
from geodata.settings import EMBEDDED_SOURCES, PROJECT_ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> str:
    """The layout as text with its accents (Dash escapes them in JSON)."""
    with urllib.request.urlopen(url, timeout=20) as response:
        return json.dumps(json.loads(response.read()), ensure_ascii=False)


def _wait_for(url: str, predicate, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            text = _get(url)
            if predicate(text):
                return text
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} n'a pas atteint l'état attendu en {timeout} s")
        time.sleep(0.3)


@pytest.mark.slow
def test_new_bundle_is_served_without_restart_and_a_broken_one_is_ignored(tmp_path, commune_base_66):
    out = tmp_path / "bundle"
    assert build_bundle(out, departement="66", sources_dir=EMBEDDED_SOURCES).ok
    first = out.resolve()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTG_CARTO_")}
    env["CTG_CARTO_BUNDLE"] = str(out)
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        layout_url = f"http://127.0.0.1:{port}/_dash-layout"
        # The demo extract's crèches appear in the layer list only once the new bundle is served.
        assert "EAJE (crèches) (90)" not in _wait_for(layout_url, lambda text: '"props"' in text)

        # Rebuild with the synthetic CAF extract: the next page load shows its banner.
        write_demo_extract(tmp_path / "caf", commune_base_66.communes)
        assert build_bundle(out, departement="66", sources_dir=EMBEDDED_SOURCES, caf_dir=tmp_path / "caf").ok
        assert out.resolve() != first
        _wait_for(layout_url, lambda text: "EAJE (crèches) (90)" in text, timeout=30)

        # A broken version made current by hand is refused: the server keeps the demo bundle.
        broken = out.parent / "bundle.versions" / "casse"
        broken.mkdir()
        (broken / "manifest.json").write_text("{pas du json", encoding="utf-8")
        link = out.parent / "tmp-link"
        link.symlink_to(broken)
        os.replace(link, out)
        time.sleep(1.5)
        assert "EAJE (crèches) (90)" in _get(layout_url)
        assert "EAJE (crèches) (90)" in _get(layout_url)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    assert "nouveau bundle refusé" in err
    assert "Traceback" not in err
