"""Browser test of the « Données » page: an upload through the real ``dcc.Upload`` input, shown as text only."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from dashboard.core import ids
from dashboard.donnees.page import TEMPLATES_DIR
from tests.dashboard.test_donnees import page_settings  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


def hostile_extract(path):
    """The filled EAJE example with a script in « Nom » and an HTML image in « Code commune » (line 2)."""
    lines = (TEMPLATES_DIR / "caf_eaje_exemple.csv").read_text(encoding="utf-8-sig").splitlines()
    cells = lines[1].split(";")
    cells[1], cells[2] = f"Crèche {SCRIPT}", IMG
    lines[1] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_brw_donnees_upload_shows_html_as_text_and_no_alert(dash_duo, app, page_settings, tmp_path):  # noqa: F811
    dash_duo.start_server(app)
    dash_duo.wait_for_element(f"#{ids.MAP}", timeout=20)
    dash_duo.driver.get(dash_duo.server_url + "/donnees")
    dash_duo.wait_for_contains_text(f"#{ids.DONNEES_PAGE} h1", "Données", timeout=10)
    assert not dash_duo.find_element(f"#{ids.PAGE}").is_displayed()  # the map page is hidden on /donnees
    dash_duo.wait_for_contains_text(f"#{ids.DONNEES_LAYERS}", "Couches présentes", timeout=10)
    assert "Formats acceptés : CSV ou XLSX" in dash_duo.find_element(f"#{ids.DONNEES_LIMITS}").text

    upload = dash_duo.driver.find_element(By.CSS_SELECTOR, f"#{ids.DONNEES_UPLOAD} input[type=file]")
    upload.send_keys(str(hostile_extract(tmp_path / "eaje_2025-03-31.csv")))
    dash_duo.wait_for_contains_text(f"#{ids.DONNEES_REPORT}", "bloquante", timeout=15)

    report = dash_duo.find_element(f"#{ids.DONNEES_REPORT}")
    cells = [td.text for td in report.find_elements(By.CSS_SELECTOR, "td")]
    assert any(IMG in text for text in cells), cells  # the markup is shown as text
    assert report.find_elements(By.CSS_SELECTOR, "img, script") == []
    assert dash_duo.find_element(f"#{ids.DONNEES_CONFIRM}").get_attribute("disabled") == "true"
    with pytest.raises(NoAlertPresentException):
        dash_duo.driver.switch_to.alert.text  # noqa: B018
    assert dash_duo.get_logs() == [] or all("alert" not in str(entry) for entry in dash_duo.get_logs())


def test_brw_files_too_large_for_an_upload_zone_get_the_server_s_french_message(
    dash_duo,
    app,
    page_settings,  # noqa: F811
    tmp_path,
):
    """dcc.Upload drops an oversize file without a sign: the page says why, with the server's own words."""
    from dashboard.meeting.sequence import MAX_FILE_BYTES
    from geodata.upload import UploadLimits

    big = tmp_path / "eaje_2025-03-31.csv"
    with big.open("wb") as fh:
        fh.truncate(UploadLimits().max_bytes + 1_500_000)  # sparse: the browser only looks at its size
    sequence = tmp_path / "sequence.json"
    sequence.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    dash_duo.start_server(app)
    dash_duo.wait_for_element(f"#{ids.MAP}", timeout=20)

    toolbar_input = dash_duo.wait_for_element(f"#{ids.SEQUENCE_UPLOAD} input[type=file]", timeout=10)
    toolbar_input.send_keys(str(sequence))
    dash_duo.wait_for_text_to_equal(
        f"#{ids.SEQUENCE_ERROR}", f"« sequence.json » : fichier trop gros ({MAX_FILE_BYTES + 1} octets, "
        f"{MAX_FILE_BYTES} au plus)", timeout=5
    )  # fmt: skip

    dash_duo.driver.get(dash_duo.server_url + "/donnees")
    dash_duo.wait_for_contains_text(f"#{ids.DONNEES_LAYERS}", "Couches présentes", timeout=10)
    upload = dash_duo.wait_for_element(f"#{ids.DONNEES_UPLOAD} input[type=file]", timeout=10)
    upload.send_keys(str(big))
    dash_duo.wait_for_text_to_equal(
        f"#{ids.DONNEES_TOO_LARGE}", "« eaje_2025-03-31.csv » : fichier trop volumineux (11,4 Mo ; maximum 10 Mo)",
        timeout=5,
    )  # fmt: skip
    assert "Aucun fichier déposé" in dash_duo.find_element(f"#{ids.DONNEES_REPORT}").text  # nothing was sent
