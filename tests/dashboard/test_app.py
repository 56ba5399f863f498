"""App smoke tests with the Flask test client (no browser)."""

from __future__ import annotations

import json

from dashboard.core import ids


def test_index_and_layout_are_served(app):
    client = app.server.test_client()
    index = client.get("/")
    assert index.status_code == 200
    assert b'<html lang="fr">' in index.data
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    assert ids.MAP in layout.get_data(as_text=True)


def test_dependencies_list_the_map_patches(app):
    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    outputs = " ".join(dep["output"] for dep in deps)
    assert f"{ids.MAP}.figure" in outputs
    assert f"{ids.DOWNLOAD}.data" in outputs
    assert any(ids.URL + ".search" in dep["output"] for dep in deps)


def test_geometry_route_is_cached_for_a_year_and_hash_checked(app, model):
    client = app.server.test_client()
    response = client.get(model.geo_url("communes"))
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    features = json.loads(response.data)["features"]
    assert len(features) == 226
    assert {f["id"] for f in features} == set(model.codes)
    assert client.get("/geo/00000000/communes.json").status_code == 404
    assert client.get(f"/geo/{model.geo_hash}/secret.json").status_code == 404


def test_stylesheet_is_served_from_the_root_assets(app):
    client = app.server.test_client()
    client.get("/")
    with client.get("/assets/style.css") as response:  # closed: a static file's response holds the file open
        assert response.status_code == 200


def _find(node, component_id):
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        for value in node.values():
            found = _find(value, component_id)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _find(value, component_id)
            if found is not None:
                return found
    return None


def test_initial_figure_points_to_geometry_urls_not_inline_geojson(app, model):
    layout = app.server.test_client().get("/_dash-layout").get_json()
    figure = _find(layout, ids.MAP)["props"]["figure"]
    urls = {trace.get("geojson") for trace in figure["data"] if trace["type"] == "choroplethmap"}
    assert model.geo_url("communes") in urls
    assert all(isinstance(url, str) and url.startswith(f"/geo/{model.geo_hash}/") for url in urls)
    style = figure["layout"]["map"]["style"]
    # Our own style (plotly's « white-bg » takes its fonts from another server); the label points by URL too.
    assert style["sources"]["ctg-noms"]["data"] == model.geo_url("noms")
    assert "http" not in json.dumps(style)


def test_synthetic_banner_is_over_the_map(app):
    layout = app.server.test_client().get("/_dash-layout").get_json()
    wrapper = _find(layout, ids.MAP_WRAPPER)
    banner = _find(wrapper, ids.SYNTHETIC_BANNER)
    assert banner["props"]["children"] == "Données fictives"
