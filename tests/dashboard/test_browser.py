"""Browser tests (headless Chromium): ``pytest tests/dashboard/test_browser.py --webdriver Chrome --headless``."""

from __future__ import annotations

import os

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from dashboard.core import ids
from dashboard.map.figures import trace_index
from tests.dashboard.conftest import HTML_NAME

pytestmark = pytest.mark.browser

SCREENSHOT = os.environ.get("CTG_CARTO_SCREENSHOT", "")

GRAPH = f"#{ids.MAP} .js-plotly-plot"


def _figure(dash_duo, expression: str):
    return dash_duo.driver.execute_script(f"const g = document.querySelector('{GRAPH}'); return {expression};")


def _wait_map(dash_duo):
    dash_duo.wait_for_element(GRAPH, timeout=20)
    dash_duo.wait_for_text_to_equal(f"#{ids.SYNTHETIC_BANNER}", "Données fictives", timeout=10)


def test_brw001_map_filters_card_layers_url(dash_duo, app, model):
    dash_duo.start_server(app)
    _wait_map(dash_duo)
    communes = trace_index(model, "communes")
    assert _figure(dash_duo, f"g.data[{communes}].locations.length") == 226
    # No places per child nor accessibility in this bundle: the first view is the under-served levels.
    dash_duo.wait_for_contains_text(f"#{ids.LEGEND}", "Sous-dotation", timeout=10)

    if SCREENSHOT:
        dash_duo.driver.save_screenshot(SCREENSHOT.replace(".png", "_start.png"))
    # Clicking a commune of the map fills its card (the map is centred on the département).
    element = dash_duo.find_element(GRAPH)
    # Selenium 4.2 measures the offset from the top-left corner: aim a little left of the centre (inland communes).
    size = element.size
    x, y = size["width"] // 2 - 60, size["height"] // 2
    ActionChains(dash_duo.driver).move_to_element_with_offset(element, x, y).click().perform()
    dash_duo.wait_for_contains_text(f"#{ids.COMMUNE_CARD}", "habitants", timeout=10)

    # Hiding a layer hides its points.
    eaje = trace_index(model, "pt:eaje")
    assert _figure(dash_duo, f"g.data[{eaje}].visible") is True
    checkbox = dash_duo.driver.find_element(By.CSS_SELECTOR, f"#{ids.POINT_LAYERS} input[value='eaje']")
    checkbox.click()
    dash_duo.wait_for_text_to_equal(
        f"#{ids.LAYER_LEGEND}", "Couches affichées\nFrance services : 1\nLimites des EPCI", 10
    )
    assert _figure(dash_duo, f"g.data[{eaje}].visible") == "legendonly"
    assert "couches=france_services" in dash_duo.driver.current_url

    if SCREENSHOT:
        dash_duo.driver.save_screenshot(SCREENSHOT)
    assert dash_duo.get_logs() == []


def test_brw002_shared_link_restores_epci_commune_and_escapes_names(dash_duo, app, model):
    epci = model.epci_codes[model.codes.index("66001")]
    dash_duo.start_server(app)
    _wait_map(dash_duo)
    dash_duo.driver.get(f"{dash_duo.server_url}/?indicateur=eaje_places&couches=eaje&epci={epci}&commune=66001")
    _wait_map(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.COMMUNE_CARD}", "(66001)", timeout=10)
    card = dash_duo.find_element(f"#{ids.COMMUNE_CARD}")
    assert HTML_NAME not in card.text  # the nearest structures are folded (html.Details) under the key figures
    for summary in card.find_elements(By.CSS_SELECTOR, "details > summary"):
        summary.click()  # a click (or Enter on the focused summary) unfolds each section
    assert HTML_NAME in card.text
    assert not card.find_elements(By.CSS_SELECTOR, "ul b")
    # The EPCI filter zoomed in, dimmed the others and restricted the table.
    communes = trace_index(model, "communes")
    # The view patch (fitted to the measured map size) may land after the card: wait for it.
    dash_duo.wait_for_element(GRAPH, timeout=10)
    for _ in range(80):
        opacity = _figure(dash_duo, f"g.data[{communes}].marker.opacity")
        if isinstance(opacity, list) and ":66001:" in str(_figure(dash_duo, "g.layout.map.uirevision")):
            break
        dash_duo.driver.execute_script("return new Promise(r => setTimeout(r, 250));")
    assert isinstance(opacity, list) and opacity.count(0.9) == model.epci_codes.count(epci)
    assert _figure(dash_duo, "g.layout.map.zoom") > _figure(dash_duo, "9")
    dash_duo.wait_for_contains_text(f"#{ids.SUMMARY}", f"Communes {model.epci_codes.count(epci)} 226", timeout=10)
    assert f"epci={epci}" in dash_duo.driver.current_url
    assert "commune=66001" in dash_duo.driver.current_url
    if SCREENSHOT:
        dash_duo.driver.save_screenshot(SCREENSHOT.replace(".png", "_epci.png"))
    assert dash_duo.get_logs() == []


def _luminance(color: str) -> float:
    """Relative luminance of « rgb(r, g, b) » or « #rrggbb » as plotly renders it."""
    if color.startswith("#"):
        rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    else:
        rgb = [float(x) for x in color[color.index("(") + 1 : color.index(")")].split(",")[:3]]
    lin = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _rendered_fill(dash_duo, trace: int) -> dict[str, str]:
    """Commune code → the fill colour plotly computed for the map (the one MapLibre paints)."""
    pairs = _figure(
        dash_duo,
        f"(g.calcdata[{trace}] || []).filter(p => p.fOut).map(p => [p.loc, p.fOut.properties.fc])",
    )
    return dict(pairs or [])


def test_brw003_darker_means_more_and_categories_hide_class_controls(dash_duo, app, model):
    dash_duo.start_server(app)
    _wait_map(dash_duo)
    communes = trace_index(model, "communes")
    controls = f"#{ids.CLASS_CONTROLS}"

    # Poverty (« baisse favorable »): the commune with the highest rate must be drawn in the darkest colour.
    dash_duo.driver.get(f"{dash_duo.server_url}/?indicateur=taux_pauvrete")
    _wait_map(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.LEGEND}", "Taux de pauvreté", timeout=15)
    poverty = dict(zip(model.codes, model.columns["taux_pauvrete"].values, strict=True))
    fills: dict[str, str] = {}
    for _ in range(40):  # the recolouring patch arrives after the URL callback
        fills = _rendered_fill(dash_duo, communes)
        z = _figure(dash_duo, f"g.data[{communes}].z")
        if fills and z == list(model.classification("taux_pauvrete", "quantiles", 5, ()).codes):
            break
        dash_duo.driver.execute_script("return new Promise(r => setTimeout(r, 250));")
    highest = max(poverty, key=poverty.get)
    lowest = min(poverty, key=poverty.get)
    darkest = min(_luminance(c) for c in fills.values())
    assert _luminance(fills[highest]) == darkest
    assert _luminance(fills[lowest]) > darkest
    assert dash_duo.find_element(controls).is_displayed()  # numeric: method, classes, breaks offered

    # Picking a categorical indicator: its classes are its categories, the class controls disappear (callback).
    dash_duo.select_dcc_dropdown(f"#{ids.INDICATOR_DROPDOWN}", value="Sous-dotation")
    dash_duo.wait_for_contains_text(f"#{ids.LEGEND}", "Sous-dotation", timeout=15)
    dash_duo.wait_for_no_elements(f"{controls}:not([hidden])", timeout=10)
    assert not dash_duo.find_element(controls).is_displayed()
    # And back to a number: they come back.
    dash_duo.select_dcc_dropdown(f"#{ids.INDICATOR_DROPDOWN}", value="Places en EAJE")
    dash_duo.wait_for_contains_text(f"#{ids.LEGEND}", "Places en EAJE", timeout=15)
    dash_duo.wait_for_element(f"{controls}:not([hidden])", timeout=10)
    assert "indicateur=eaje_places" in dash_duo.driver.current_url
    if SCREENSHOT:
        dash_duo.driver.save_screenshot(SCREENSHOT.replace(".png", "_categorie.png"))
    assert dash_duo.get_logs() == []
