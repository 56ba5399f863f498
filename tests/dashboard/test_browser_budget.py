"""Byte budget of an interaction and compressed JavaScript, in headless Chromium (issue 14, points 1, 2 and 6).

A size, never a time: everything the browser receives from ``_dash-update-component`` for one EPCI change, one
indicator change and one layer toggle (compressed bodies from Resource Timing, every callback counted) stays under
:data:`BUDGET`; the JavaScript of the page arrives compressed.
"""

from __future__ import annotations

import time

import pytest

from dashboard.core import ids

pytestmark = pytest.mark.browser

BUDGET = 3_000
"""Bytes per interaction, all callbacks counted (issue 14)."""

GRAPH = f"#{ids.MAP} .js-plotly-plot"

_UPDATES = """
return performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update-component'))
    .map(e => e.encodedBodySize);
"""


def _settled(dash_duo) -> list[int]:
    """Sizes of the callback responses once none has arrived for a second (the callbacks of one change chain)."""
    sizes: list[int] = []
    quiet_since = time.monotonic()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = dash_duo.driver.execute_script(_UPDATES)
        if now != sizes:
            sizes, quiet_since = now, time.monotonic()
        elif sizes and time.monotonic() - quiet_since > 1.0:
            break
        time.sleep(0.1)
    return sizes


def _interaction(dash_duo, script: str, *args) -> list[int]:
    dash_duo.driver.execute_script("performance.clearResourceTimings();")
    dash_duo.driver.execute_script(script, *args)
    return _settled(dash_duo)


_POP = "window.history.pushState({}, '', arguments[0]); window.dispatchEvent(new PopStateEvent('popstate'));"


def test_brw_budget_interactions_and_compressed_javascript(dash_duo, app, model):
    dash_duo.start_server(app)
    dash_duo.wait_for_element(GRAPH, timeout=20)
    dash_duo.wait_for_text_to_equal(f"#{ids.SYNTHETIC_BANNER}", "Données fictives", timeout=10)
    _settled(dash_duo)

    # The JavaScript came compressed (brotli or gzip): plotly.js by far the largest.
    scripts = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.initiatorType === 'script')"
        ".map(e => [e.name, e.encodedBodySize, e.decodedBodySize]);"
    )
    plotly = [s for s in scripts if s[0].endswith("plotly.min.js")]
    assert plotly, scripts
    assert plotly[0][2] > 4_000_000 and plotly[0][1] < plotly[0][2] / 3
    large = [s for s in scripts if s[2] > 50_000]
    assert large and all(encoded < decoded / 2 for _, encoded, decoded in large), large

    epci = model.epci_codes[0]
    changes = {
        "EPCI": _interaction(dash_duo, _POP, f"?epci={epci}"),
        "indicateur": _interaction(dash_duo, _POP, f"?epci={epci}&indicateur=taux_pauvrete"),
        "couche": _interaction(dash_duo, f"document.querySelector('#{ids.POINT_LAYERS} input').click();"),
    }
    dash_duo.wait_for_contains_text(f"#{ids.SUMMARY}", f"Communes {model.epci_codes.count(epci)} 226", timeout=10)
    dash_duo.wait_for_contains_text(f"#{ids.LEGEND}", "Taux de pauvreté", timeout=10)
    for name, sizes in changes.items():
        assert sizes and all(size > 0 for size in sizes), f"{name} : {sizes}"  # Resource Timing did see them
        assert sum(sizes) <= BUDGET, f"{name} : {sum(sizes)} octets ({sizes}) > {BUDGET}"
    assert dash_duo.get_logs() == []
