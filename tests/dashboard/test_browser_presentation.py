"""Presentation mode in headless Chromium: a sequence from the URL, → twice, Échap."""

from __future__ import annotations

import os

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from dashboard.core import ids
from dashboard.meeting.sequence import default_sequence, encode_sequence

pytestmark = pytest.mark.browser

SCREENSHOT = os.environ.get("CTG_CARTO_SCREENSHOT", "")


def test_brw101_saved_sequence_from_the_url_steps_with_the_keyboard(dash_duo, app, model):
    stops = default_sequence(model, "population")[:4]
    token = encode_sequence(stops)
    dash_duo.start_server(app)
    dash_duo.wait_for_element(f"#{ids.MAP} .js-plotly-plot", timeout=20)
    dash_duo.driver.get(f"{dash_duo.server_url}/?presentation=1&arret=1&sequence={token}")
    dash_duo.wait_for_text_to_equal(f"#{ids.PRESENTATION_COUNTER}", "1 / 4", timeout=10)
    dash_duo.wait_for_text_to_equal(f"#{ids.PRESENTATION_TITLE}", stops[0].title, timeout=10)
    assert "presentation" in dash_duo.find_element(f"#{ids.PAGE}").get_attribute("class")
    assert not dash_duo.find_element(".controls").is_displayed()
    assert dash_duo.find_element(f"#{ids.SYNTHETIC_BANNER}").is_displayed()
    assert (
        dash_duo.driver.execute_script("return parseFloat(getComputedStyle(document.getElementById('page')).fontSize)")
        >= 24
    )
    for number in (2, 3):
        dash_duo.find_element("body").send_keys(Keys.ARROW_RIGHT)
        dash_duo.wait_for_text_to_equal(f"#{ids.PRESENTATION_COUNTER}", f"{number} / 4", timeout=10)
        stop = stops[number - 1]
        dash_duo.wait_for_text_to_equal(f"#{ids.PRESENTATION_TITLE}", stop.title, timeout=10)
        # The controls are hidden in presentation mode: read the dropdown's text from the DOM.
        script = f"return document.getElementById('{ids.EPCI_DROPDOWN}').textContent"
        name = model.epci_names[stop.view.epci]
        until(lambda name=name, script=script: name in dash_duo.driver.execute_script(script), timeout=10)
        assert f"epci={stop.view.epci}" in dash_duo.driver.current_url
        assert f"arret={number}" in dash_duo.driver.current_url
    if SCREENSHOT:
        dash_duo.driver.save_screenshot(SCREENSHOT.replace(".png", "_presentation.png"))
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)
    dash_duo.wait_for_element(".controls", timeout=10)
    dash_duo.wait_for_text_to_equal(f"#{ids.PAGE} .meeting-toolbar .muted", "Séquence : 4 arrêts (chargée).", 10)
    assert "presentation=1" not in dash_duo.driver.current_url
    assert f"epci={stops[2].view.epci}" in dash_duo.driver.current_url
    assert dash_duo.find_element(".controls").is_displayed()
    assert dash_duo.get_logs() == []
