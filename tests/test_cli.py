"""The ``ctg-carto`` command line, run as a user would (in-process through ``main`` for speed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dashboard.cli.main import main
from geodata.settings import EMBEDDED_SOURCES

DATA = Path(__file__).resolve().parent / "data"


def test_build_prints_progress_and_the_present_missing_table(tmp_path, capsys):
    out = tmp_path / "bundle"
    assert (
        main(["data", "build", "--sources", str(EMBEDDED_SOURCES), "--caf", str(tmp_path / "nocaf"), "--out", str(out)])
        == 0
    )
    text = capsys.readouterr().out
    assert "226 communes, 12 EPCI, population 2023 496 855" in text
    assert "✔ france_services" in text
    assert "✘ caf_eaje" in text  # missing CAF extract, with how to get it
    assert "docs/caf_extracts.md" in text
    assert (out / "manifest.json").is_file()


def test_build_with_a_bad_file_exits_non_zero_and_keeps_the_bundle(tmp_path, capsys):
    out = tmp_path / "bundle"
    assert main(["data", "build", "--sources", str(tmp_path / "none"), "--out", str(out)]) == 0
    before = out.resolve()
    caf = tmp_path / "caf"
    caf.mkdir()
    (caf / "eaje_2025-06-30.csv").write_text("<html><body>Erreur 500</body></html>", encoding="utf-8")
    capsys.readouterr()
    assert main(["data", "build", "--sources", str(tmp_path / "none"), "--caf", str(caf), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert "eaje_2025-06-30.csv" in text
    assert "HTML" in text
    assert "le bundle actuel" in text
    assert out.resolve() == before


def test_check_reports_file_line_and_column(tmp_path, capsys):
    shutil.copy(
        EMBEDDED_SOURCES / "frr_2025" / "frr_classement_20250710_66.csv", tmp_path / "frr_classement_20250710_66.csv"
    )
    bad = tmp_path / "frr_classement_20250710_66.csv"
    lines = bad.read_text(encoding="utf-8").splitlines()
    parts = lines[4].split(";")
    lines[4] = ";".join([*parts[:3], "Classement inventé", ""])
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["data", "check", str(tmp_path)]) == 1
    text = capsys.readouterr().out
    assert "frr_classement_20250710_66.csv, ligne 5" in text
    assert "1\u00a0fichier vérifié, 1\u00a0erreur" in text


def test_check_accepts_the_real_files(capsys):
    assert main(["data", "check", str(EMBEDDED_SOURCES / "insee_filosofi")]) == 0
    assert "ok" in capsys.readouterr().out


def test_demo_writes_a_synthetic_extract_that_builds(tmp_path, capsys):
    assert main(["data", "demo", "--out", str(tmp_path / "caf")]) == 0
    assert (tmp_path / "caf" / "DONNEES_FICTIVES.txt").is_file()
    out = tmp_path / "bundle"
    assert (
        main(["data", "build", "--sources", str(tmp_path / "none"), "--caf", str(tmp_path / "caf"), "--out", str(out)])
        == 0
    )
    assert "[DONNÉES FICTIVES]" in capsys.readouterr().out


def test_export_indicators_writes_csv_and_parameters(bundle_66_demo_dir, tmp_path, capsys):
    out = tmp_path / "communes.csv"
    assert (
        main(["export", "indicators", "--level", "commune", "--bundle", str(bundle_66_demo_dir), "--out", str(out)])
        == 0
    )
    assert "[DONNÉES FICTIVES]" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments[0].startswith("# Données fictives")
    assert any("INSEE" in line and "populations de référence 2023" in line for line in comments)
    assert any("Filosofi" in line and "millésime 2021" in line for line in comments)
    table = [line for line in text.splitlines() if not line.startswith("#")]
    assert table[0].startswith("Code,")
    assert len(table) == 227
    assert (tmp_path / "communes.parametres.json").is_file()
    frame = pd.read_csv(out, comment="#", dtype=str, keep_default_na=False)
    population = next(c for c in frame.columns if c.startswith("Population municipale"))
    assert frame[population].str.fullmatch(r"\d+").all()  # « 118 », never « 118.0 »
    for column in (c for c in frame.columns if c.endswith("(km)")):
        numbers = frame[column][~frame[column].isin(["non disponible", "secret statistique"])]
        assert numbers.str.fullmatch(r"-?\d+(\.\d)?").all(), column  # one decimal, as the registry says
    xlsx = tmp_path / "epci.xlsx"
    argv = ["export", "indicators", "--level", "epci", "--bundle", str(bundle_66_demo_dir), "--out", str(xlsx)]
    assert main(argv) == 0
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["EPCI", "Sources"]
    assert book["EPCI"]["A1"].value.startswith("Données fictives — ")
    assert len(pd.read_excel(xlsx, header=3)) == 12


def test_export_cibles_ranked_filtered_and_flagged(bundle_66_demo_dir, tmp_path, capsys):
    import csv

    out = tmp_path / "cibles.csv"
    levels = ["--niveaux", "P1,P2,P3 vigilance"]  # P3 too: the list does not hang on the zoning layers being there
    assert main(["export", "cibles", "--bundle", str(bundle_66_demo_dir), "--out", str(out), *levels]) == 0
    said = capsys.readouterr().out
    assert "classées par enfants sans place accessible" in said and "[DONNÉES FICTIVES]" in said
    text = out.read_text(encoding="utf-8-sig")
    assert text.startswith("# Données fictives")
    rows = list(csv.DictReader([r for r in text.splitlines() if not r.startswith("#")], delimiter=";"))
    assert rows and [int(r["Rang"]) for r in rows] == list(range(1, len(rows) + 1))
    assert {r["Niveau de sous-dotation"] for r in rows} <= {"P1", "P2", "P3 vigilance"}
    assert {r["Avertissement"] for r in rows} == {"Données fictives"}
    lacking = [float(r["Enfants sans place accessible (estimation)"].replace(",", ".")) for r in rows]
    assert lacking == sorted(lacking, reverse=True)
    conflent = tmp_path / "conflent.csv"
    assert main(["export", "cibles", "--bundle", str(bundle_66_demo_dir), "--out", str(conflent), "--epci",
                 "200049211", *levels]) == 0  # fmt: skip
    lines = conflent.read_text(encoding="utf-8-sig").splitlines()
    sub = list(csv.DictReader([r for r in lines if not r.startswith("#")], delimiter=";"))
    assert sub and {r["EPCI"] for r in sub} == {"Communauté de communes Conflent-Canigó"}
    assert (tmp_path / "conflent.parametres.json").is_file()
    assert main(["export", "cibles", "--bundle", str(bundle_66_demo_dir), "--out", str(conflent), "--epci", "x"]) == 1


def test_commands_reading_a_bundle_refuse_a_missing_one(tmp_path, capsys):
    assert main(["export", "indicators", "--bundle", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "Aucun bundle" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["data"], ["export"], []])
def test_incomplete_commands_show_usage(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


@pytest.mark.parametrize("command", ["indicators", "cibles"])
def test_export_help_says_where_sources_go(command, capsys):
    with pytest.raises(SystemExit):
        main(["export", command, "--help"])
    text = capsys.readouterr().out
    assert "commencent par « # »" in text and "feuille « Sources »" in text and ".xlsx" in text


def test_serve_with_bundle_shows_that_bundles_versions(bundle_66_demo_dir, monkeypatch):
    """« Données » listed the versions of CTG_CARTO_BUNDLE, not of ``--bundle``: « Aucune version » while some
    existed."""
    import dashboard.app
    from dashboard.donnees.page import make_versions
    from geodata.rebuild import list_bundle_versions

    seen = {}

    class App:
        def run(self, **kwargs):
            seen["run"] = kwargs

    def fake_create_app(settings, bundle):
        seen["settings"] = settings
        return App()

    monkeypatch.setattr(dashboard.app, "create_app", fake_create_app)
    monkeypatch.setenv("CTG_CARTO_BUNDLE", str(bundle_66_demo_dir.parent / "elsewhere"))
    assert main(["serve", "--bundle", str(bundle_66_demo_dir), "--port", "1"]) == 0
    settings = seen["settings"]
    assert settings.bundle == bundle_66_demo_dir
    rows = list_bundle_versions(settings)
    assert len(rows) == 1 and rows[0]["current"]
    assert "Aucune version" not in str(make_versions(rows))
