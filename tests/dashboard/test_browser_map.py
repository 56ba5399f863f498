"""The map in a browser (issue 13, points 1-3): the map first at 1400×900, legends in sight, the « Données fictives »
badge off the territory, commune names at EPCI zoom, structure symbols, structures sharing a place all reachable.

``pytest tests/dashboard/test_browser_map.py`` (headless Chromium, WebGL in software: slow, a few per run).
"""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from dashboard.core import ids
from dashboard.map.figures import NAMES_LAYER, TOWNS_LAYER, names_minzoom

pytestmark = pytest.mark.browser

GRAPH = f"#{ids.MAP} .js-plotly-plot"
MAP_JS = "const g = document.querySelector(arguments[0]); const map = g._fullLayout.map._subplot.map;"
PMM = "200027183"
"""Perpignan Méditerranée Métropole: 37 communes, the densest names."""


def _size(dash_duo, width: int, height: int) -> None:
    dash_duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def _open(dash_duo, query: str, size: tuple[int, int] = (1400, 900)) -> None:
    """Load the page at ``size`` and wait until the view was fitted to the measured map (then drawn, names faded in)."""
    _size(dash_duo, *size)
    dash_duo.driver.get(f"{dash_duo.server_url}/{query}")
    dash_duo.wait_for_element(GRAPH, timeout=30)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ready = dash_duo.driver.execute_script(
            "const g = document.querySelector(arguments[0]);"
            "const s = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot;"
            "return !!(s && s.map && String(g.layout.map.uirevision).includes('x') && s.map.loaded()"
            " && !g._transitioning);",
            GRAPH,
        )
        if ready:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("la carte n'a pas été ajustée à sa taille réelle")
    time.sleep(1.0)  # MapLibre fades symbols in (300 ms) and places them again after the last move


def _rect(dash_duo, selector: str) -> dict:
    return dash_duo.driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height};",
        selector,
    )


def _territory_box(dash_duo, bounds) -> dict:
    """Screen box of a lon/lat box on the map, in page pixels."""
    west, south, east, north = bounds
    return dash_duo.driver.execute_script(
        MAP_JS + "const r = map.getContainer().getBoundingClientRect();"
        "const a = map.project([arguments[1], arguments[4]]), b = map.project([arguments[3], arguments[2]]);"
        "return {left: r.left + a.x, top: r.top + a.y, right: r.left + b.x, bottom: r.top + b.y};",
        GRAPH,
        west,
        south,
        east,
        north,
    )


def _overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def _rendered(dash_duo, layer: str) -> list[str]:
    return dash_duo.driver.execute_script(
        MAP_JS + "if (!map.getLayer(arguments[1])) return null;"
        "return map.queryRenderedFeatures({layers: [arguments[1]]}).map(f => f.properties.nom);",
        GRAPH,
        layer,
    )


def test_brw_map001_map_first_legends_in_sight_badge_off_the_territory(dash_duo, app, model):
    dash_duo.start_server(app)
    width, height = 1400, 900
    for query, bounds in (("?couches=eaje,france_services", model.bounds[""]), (f"?epci={PMM}", model.bounds[PMM])):
        _open(dash_duo, query, (width, height))
        graph = _rect(dash_duo, f"#{ids.MAP}")
        assert graph["width"] / width >= 0.65  # the map first: about 72 % of a 1400 px screen
        assert graph["bottom"] <= height  # and the whole map in the window
        for selector in (f"#{ids.LEGEND}", f"#{ids.LAYER_LEGEND}"):  # both legends in sight without scrolling
            box = _rect(dash_duo, selector)
            assert box["height"] > 40 and box["top"] >= 0 and box["bottom"] <= height, selector
        assert _rect(dash_duo, f"#{ids.LEGEND} .legend-classes")["bottom"] <= height
        territory = _territory_box(dash_duo, bounds)
        badge = _rect(dash_duo, f"#{ids.SYNTHETIC_BANNER}")
        assert badge["width"] > 0
        assert not _overlap(badge, territory), (badge, territory)
        assert not _overlap(_rect(dash_duo, ".map-panel > .legends"), territory)
        # The territory fills the free frame: its box touches it on one axis (3 % margin), inside on the other.
        frame_w = graph["right"] - _rect(dash_duo, ".map-panel > .legends")["right"]
        assert (territory["right"] - territory["left"]) / frame_w > 0.85 or (
            territory["bottom"] - territory["top"]
        ) / graph["height"] > 0.85
    assert dash_duo.get_logs() == []


def test_brw_map002_names_at_epci_zoom_towns_at_full_view_switchable(dash_duo, app, model):
    dash_duo.start_server(app)
    _open(dash_duo, "")
    assert _rendered(dash_duo, NAMES_LAYER) == []  # full view: towns only
    towns = _rendered(dash_duo, TOWNS_LAYER)
    assert "Perpignan" in towns and len(towns) >= 8

    _open(dash_duo, f"?epci={PMM}")
    zoom = dash_duo.driver.execute_script(MAP_JS + "return map.getZoom();", GRAPH)
    assert zoom > names_minzoom(model.bounds)
    shown = set(_rendered(dash_duo, NAMES_LAYER)) | set(_rendered(dash_duo, TOWNS_LAYER))
    members = {n for n, e in zip(model.names, model.epci_codes, strict=True) if e == PMM}
    assert len(shown & members) >= 0.75 * len(members), sorted(members - shown)
    # Every trace is drawn under the names.
    order = dash_duo.driver.execute_script(
        MAP_JS + "return map.getStyle().layers.map(l => [l.id, (l.layout || {}).visibility || 'visible']);", GRAPH
    )
    names_at = next(i for i, (lid, _v) in enumerate(order) if lid == NAMES_LAYER)
    assert not [lid for lid, v in order[names_at:] if lid.startswith("plotly-") and v == "visible"]

    # The switch hides them (in the browser, no new style), and shows them again.
    box = dash_duo.driver.find_element(By.CSS_SELECTOR, f"#{ids.NAMES_TOGGLE} input")
    box.click()
    dash_duo.wait_for_element(f"#{ids.NAMES_TOGGLE}.noms-masques", timeout=10)
    time.sleep(0.8)
    assert _rendered(dash_duo, NAMES_LAYER) == [] and _rendered(dash_duo, TOWNS_LAYER) == []
    box.click()
    dash_duo.wait_for_element(f"#{ids.NAMES_TOGGLE}.noms-affiches", timeout=10)
    time.sleep(0.8)
    assert _rendered(dash_duo, TOWNS_LAYER)
    assert dash_duo.get_logs() == []


def test_brw_map003_symbols_differ_and_stacked_structures_are_all_reachable(dash_duo, app, model):
    eaje = next(p for p in model.point_layers if p.spec.key == "eaje")
    code = eaje.communes[1]  # the fixture's two crèches sharing this town hall
    stacked = [i for i in range(len(eaje.lon)) if (eaje.lon[i], eaje.lat[i]) == (eaje.lon[1], eaje.lat[1])]
    assert len(stacked) == 2
    epci = model.epci_codes[model.codes.index(code)]
    dash_duo.start_server(app)
    _open(dash_duo, "?couches=eaje,france_services")
    full_zoom = dash_duo.driver.execute_script(MAP_JS + "return map.getZoom();", GRAPH)
    # Shapes differ by structure type, each image comes from the app's sprite.
    symbols = dash_duo.driver.execute_script(
        MAP_JS + "const layers = map.getStyle().layers.filter(l => l.type === 'symbol' && l.id.startsWith('plotly-'));"
        "const feats = map.queryRenderedFeatures({layers: layers.map(l => l.id)});"
        "return Array.from(new Set(feats.map(f => f.properties.symbol))).map(s => [s, map.hasImage(s)]);",
        GRAPH,
    )
    names = {s for s, _ok in symbols}
    assert all(ok for _s, ok in symbols), symbols
    assert any(s.startswith("ctg_eaje") for s in names) and "ctg_france_services" in names

    # Choosing the commune zooms to it; its two crèches are drawn apart and a click on either lists both.
    _open(dash_duo, f"?couches=eaje&epci={epci}&commune={code}")
    assert dash_duo.driver.execute_script(MAP_JS + "return map.getZoom();", GRAPH) > full_zoom + 2
    trace = dash_duo.driver.execute_script(
        "const g = document.querySelector(arguments[0]);"
        "return g.data.findIndex(t => t.type === 'scattermap' && t.name === arguments[1]);",
        GRAPH,
        eaje.spec.label,
    )
    points = dash_duo.driver.execute_script(
        MAP_JS + "const t = g.data[arguments[1]]; const r = map.getContainer().getBoundingClientRect();"
        "return arguments[2].map(i => { const p = map.project([t.lon[i], t.lat[i]]); return [p.x, p.y]; });",
        GRAPH,
        trace,
        stacked,
    )
    (x1, y1), (x2, y2) = points
    assert ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 >= 12  # apart on screen, both visible
    element = dash_duo.find_element(f"#{ids.MAP}")
    origin = _rect(dash_duo, f"#{ids.MAP}")
    container = dash_duo.driver.execute_script(
        MAP_JS + "const r = map.getContainer().getBoundingClientRect(); return [r.left, r.top];", GRAPH
    )
    for index, (x, y) in zip(stacked, points, strict=True):
        # Selenium 4.2 measures the offset from the element's top-left corner.
        dx, dy = container[0] - origin["left"] + x, container[1] - origin["top"] + y
        ActionChains(dash_duo.driver).move_to_element_with_offset(element, int(dx), int(dy)).click().perform()
        dash_duo.wait_for_text_to_equal(f"#{ids.DETAILS_PANEL} h3", eaje.names[index], timeout=15)  # clicked first
        details = dash_duo.find_element(f"#{ids.DETAILS_PANEL}").text
        assert "2 structures à cet endroit" in details
        assert all(eaje.names[i] in details for i in stacked)
    assert dash_duo.get_logs() == []
