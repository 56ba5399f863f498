"""Export of the view on screen: caption (pure) and the ``/export/vue.<png|pdf>`` route against a live server."""

from __future__ import annotations

import struct
import subprocess
import urllib.request
from datetime import date

import pytest

from dashboard.export_view import PNG_SIZE, caption_items, export_filename, export_state, format_built_at
from dashboard.state import ViewState, parse_state

EPCI = "200027183"


def test_caption_says_what_the_map_shows(model):
    view = ViewState("eaje_places", "jenks", 4, "", ("eaje", "zrr"), EPCI, "66136")
    items = dict(caption_items(model, view, "2025-11-20T10:00:00+00:00", date(2025, 11, 27)))
    assert items["Territoire"] == model.epci_names[EPCI]
    assert items["Commune"] == "Perpignan (66136)"
    assert items["Indicateur"] == "Places en EAJE (places)"
    assert items["Classes"] == "Seuils naturels (Jenks), 4 classes"
    assert (
        items["Sources des couches"]
        == "EAJE · Caf 66 · millésime 2024 · données fictives ; ZRR · ANCT · millésime 2017"
    )
    assert items["Données"] == "bundle du 20/11/2025, carte exportée le 27/11/2025"
    assert items["Attention"].startswith("Données fictives")


def test_export_state_and_file_name(model):
    page = ViewState(indicator="population", epci=EPCI, presentation=True, sequence="abc", arret=3)
    assert export_state(page) == ViewState(indicator="population", epci=EPCI, impression=True)
    name = export_filename(model, page, "pdf", date(2025, 11, 27))
    assert name == f"carte_66_population_epci_{EPCI}_2025-11-27.pdf"
    assert format_built_at("") == "inconnue"
    assert format_built_at("hier") == "hier"
    assert parse_state("?impression=1").impression


@pytest.fixture
def live(dash_thread_server, app):
    dash_thread_server(app)
    return dash_thread_server.url


@pytest.mark.browser
def test_pdf_export_is_one_page_with_the_caption(live, tmp_path):
    url = f"{live}/export/vue.pdf?indicateur=eaje_places&couches=eaje,epci&epci={EPCI}&commune=66136"
    with urllib.request.urlopen(url, timeout=40) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        assert "carte_66_eaje_places_epci_" in response.headers["Content-Disposition"]
        pdf = tmp_path / "vue.pdf"
        pdf.write_bytes(response.read())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    for expected in ("Places en EAJE", "Perpignan Méditerranée Métropole", "Perpignan (66136)",
                     "Caf 66 · millésime 2024", "Données fictives"):  # fmt: skip
        assert expected in text


@pytest.mark.browser
def test_png_export_is_a_1080p_image(live):
    with urllib.request.urlopen(f"{live}/export/vue.png?indicateur=sous_dotation&epci={EPCI}", timeout=40) as response:
        assert response.headers["Content-Type"] == "image/png"
        head = response.read()
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == PNG_SIZE
