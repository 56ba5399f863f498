"""Compressed transfer and caches (issue 14, point 1), and the callback validation the page no longer carries."""

from __future__ import annotations

import gzip
import json
import re

import brotli
import pytest

from dashboard.core import ids
from dashboard.web import static

BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}


def _ids(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), str):
            found.add(props["id"])
        for value in node.values():
            _ids(value, found)
    elif isinstance(node, list):
        for value in node:
            _ids(value, found)
    return found


def _callback_ids(dep: dict) -> set[str]:
    """String ids of a dependency's outputs, inputs and states (wildcard ids are matched in the browser)."""
    outputs = re.sub(r"@[0-9a-f]+", "", dep["output"]).strip(".").split("...")
    found = {out.rsplit(".", 1)[0] for out in outputs if not out.startswith("{")}
    found |= {item["id"] for item in dep["inputs"] + dep["state"]}
    return {cid for cid in found if not cid.startswith("{")}


def test_every_callback_id_is_in_the_layout(app):
    """Dash no longer validates callbacks in the browser (no validation layout in the page): this test does."""
    client = app.server.test_client()
    layout = client.get("/_dash-layout").get_json()
    deps = client.get("/_dash-dependencies").get_json()
    present = _ids(layout, set())
    missing = {cid for dep in deps for cid in _callback_ids(dep)} - present
    assert not missing, f"callbacks on ids absent from the layout: {sorted(missing)}"
    assert ids.MAP in present
    assert len(deps) > 20


def test_the_page_carries_no_copy_of_the_layout(app):
    page = app.server.test_client().get("/").get_data(as_text=True)
    assert "validation_layout" not in page
    assert len(page.encode()) < 20_000  # was 257 690 bytes with the validation layout


def test_layout_and_geometry_are_compressed_when_the_browser_accepts_it(app, model):
    client = app.server.test_client()
    raw = client.get("/_dash-layout").data
    response = client.get("/_dash-layout", headers=BROWSER)
    assert response.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert brotli.decompress(response.data) == raw
    assert len(response.data) < len(raw) / 4
    geo = client.get(model.geo_url("communes"), headers={"Accept-Encoding": "gzip"})
    assert geo.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(geo.data))["features"]
    assert "Content-Encoding" not in client.get("/_dash-layout").headers  # no Accept-Encoding: identity


def test_small_callback_responses_are_not_compressed(app):
    client = app.server.test_client()
    body = {
        "output": f"{ids.CLASS_CONTROLS}.hidden",
        "outputs": {"id": ids.CLASS_CONTROLS, "property": "hidden"},
        "inputs": [{"id": ids.INDICATOR_DROPDOWN, "property": "value", "value": "population"}],
        "changedPropIds": [f"{ids.INDICATOR_DROPDOWN}.value"],
        "state": [],
    }
    response = client.post("/_dash-update-component", json=body, headers=BROWSER)
    assert response.status_code == 200
    assert len(response.data) < static.MIN_SIZE
    assert "Content-Encoding" not in response.headers


def _page_scripts(client) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', client.get("/").get_data(as_text=True))


def test_plotly_js_has_a_versioned_url_and_is_precompressed(app):
    client = app.server.test_client()
    urls = [url for url in _page_scripts(client) if url.endswith("plotly.min.js")]
    assert len(urls) == 1 and "/package_data/" not in urls[0]
    response = client.get(urls[0], headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["Cache-Control"] == f"public, max-age={static.YEAR}, immutable"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert brotli.decompress(response.data) == static.plotly_js().read_bytes()
    assert len(response.data) < 1_300_000  # 4.8 MB raw
    assert (
        gzip.decompress(client.get(urls[0], headers={"Accept-Encoding": "gzip"}).data)[:100]
        == (static.plotly_js().read_bytes()[:100])
    )
    assert client.get(urls[0].replace(urls[0].split("/")[-2], "0" * 16)).status_code == 404


def test_dash_chunks_are_precompressed_and_revalidated(app):
    client = app.server.test_client()
    client.get("/")
    url = "/_dash-component-suites/dash/dash_table/async-table.js"
    first = client.get(url, headers=BROWSER)
    assert first.headers["Content-Encoding"] == "br"
    assert first.headers["Cache-Control"] == "no-cache"  # no fingerprint in its URL
    assert len(first.data) < 150_000  # 481 KB raw
    again = client.get(url, headers={**BROWSER, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert not again.data
    identity = client.get(url)
    assert "Content-Encoding" not in identity.headers
    assert identity.data == brotli.decompress(first.data)
    bundles = [u for u in _page_scripts(client) if "/_dash-component-suites/" in u and ".v" in u]
    with client.get(bundles[0], headers=BROWSER) as fingerprinted:
        assert "immutable" in fingerprinted.headers["Cache-Control"]


def test_unregistered_suite_paths_are_left_to_dash(app):
    client = app.server.test_client()
    client.get("/")
    with client.get("/_dash-component-suites/dash/dash.py", headers=BROWSER) as response:
        assert response.status_code != 200


def test_versioned_assets_are_cached_for_a_year(app):
    client = app.server.test_client()
    css = re.findall(r'href="(/assets/style\.css\?m=[^"]+)"', client.get("/").get_data(as_text=True))
    assert css
    with client.get(css[0], headers=BROWSER) as response:
        assert response.headers["Cache-Control"] == f"public, max-age={static.YEAR}, immutable"
        assert response.headers["Content-Encoding"] == "br"
    with client.get("/assets/style.css") as plain:
        assert "immutable" not in plain.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("identity", ""),
        ("", ""),
        (None, ""),
        ("br;q=abc, gzip;q=0", ""),
    ],
)
def test_accepted_encoding(header, expected):
    assert static.accepted_encoding(header) == expected


def test_precompressed_copies_are_made_once_and_atomically(tmp_path):
    source = tmp_path / "bundle.js"
    source.write_text("var x = 1;\n" * 5000)
    first = static.precompressed(source, "br", tmp_path / "cache")
    assert brotli.decompress(first.read_bytes()) == source.read_bytes()
    assert static.precompressed(source, "br", tmp_path / "cache") == first
    best = static.precompressed(source, "br", tmp_path / "cache", best=True)
    assert best != first
    assert static.precompressed(source, "br", tmp_path / "cache") == best  # the best copy wins once made
    assert not list((tmp_path / "cache").glob("*.tmp"))
    source.write_text("var y = 2;\n" * 5000)  # a changed file gets a new copy
    assert static.precompressed(source, "gzip", tmp_path / "cache") not in {first, best}
