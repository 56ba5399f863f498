"""Browser tests (headless Chromium): ``pytest tests/dashboard/test_browser.py --webdriver Chrome --headless``."""

from __future__ import annotations

import os

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from dashboard import ids
from dashboard.figures import trace_index
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
    dash_duo.wait_for_contains_text(f"#{ids.LEGEND}", "Population municipale", timeout=10)

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
    assert _figure(dash_duo, f"g.data[{eaje}].visible") is False
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
    assert HTML_NAME in card.text
    assert not card.find_elements(By.CSS_SELECTOR, "ul b")
    # The EPCI filter zoomed in, dimmed the others and restricted the table.
    communes = trace_index(model, "communes")
    opacity = _figure(dash_duo, f"g.data[{communes}].marker.opacity")
    assert isinstance(opacity, list) and opacity.count(0.9) == model.epci_codes.count(epci)
    assert _figure(dash_duo, "g.layout.map.zoom") > _figure(dash_duo, "9")
    dash_duo.wait_for_contains_text(f"#{ids.SUMMARY}", f"{model.epci_codes.count(epci)} communes", timeout=10)
    assert f"epci={epci}" in dash_duo.driver.current_url
    assert "commune=66001" in dash_duo.driver.current_url
    if SCREENSHOT:
        dash_duo.driver.save_screenshot(SCREENSHOT.replace(".png", "_epci.png"))
    assert dash_duo.get_logs() == []
