"""CAF extract templates: round trips of the documented examples, CSV = XLSX, every validation rule, fallbacks."""

from __future__ import annotations

import math
import shutil
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from geodata import caf
from geodata.errors import DataError, Problem
from geodata.importers import ImportContext
from geodata.numbers import parse_number
from geodata.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "docs" / "templates"
PERPIGNAN = "66136"


@pytest.fixture(scope="session")
def ctx66(import_ctx_66: ImportContext) -> ImportContext:
    return import_ctx_66


def hall(ctx: ImportContext, code: str) -> tuple[float, float]:
    row = ctx.communes.set_index("code").loc[code]
    return float(row["mairie_lon"]), float(row["mairie_lat"])


def eaje_row(ident: str = "E1", **over: str) -> list[str]:
    """One valid EAJE row (column order of the template), with some cells overridden by header name."""
    base = dict(zip(caf.EAJE.headers, caf.EAJE.example_rows[0], strict=True))
    base["Identifiant"] = ident
    base.update(over)
    return [base[h] for h in caf.EAJE.headers]


def write(tmp_path: Path, name: str, headers: list[str], rows: list[list[str]]) -> Path:
    return caf.write_csv(tmp_path / name, headers, rows)


def problems_of(exc: pytest.ExceptionInfo[DataError]) -> list[Problem]:
    return exc.value.problems


def find(problems: list[Problem], row: int, column: str | None) -> Problem:
    hits = [p for p in problems if p.row == row and p.column == column]
    assert hits, f"aucun problème ligne {row} colonne {column} dans {[str(p) for p in problems]}"
    return hits[0]


# ---------------------------------------------------------------------------------------------------------------
# Documented examples and blank templates
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", caf.TEMPLATES, ids=lambda t: t.id)
def test_example_round_trip_has_documented_columns(template: caf.Template, ctx66: ImportContext) -> None:
    result = caf.import_caf_file(template, TEMPLATES_DIR / f"{template.id}_exemple.csv", ctx66)
    table = result.table
    expected = [*template.output, "geometry"] if template.points else list(template.output)
    assert list(table.columns) == expected
    assert len(table) == len(template.example_rows)
    assert result.layer_id == template.id
    assert result.source_id == template.id
    assert result.synthetic is False  # docs/templates has no DONNEES_FICTIVES.txt
    assert result.warnings == []
    if template.points:
        assert table.crs.to_epsg() == 4326
        assert table["lon"].dtype == np.float64
        assert (table.geometry.x == table["lon"]).all()
        assert set(table["geolocalisation"]) <= {"coordonnées", "mairie"}


def test_eaje_example_values(ctx66: ImportContext) -> None:
    table = caf.import_caf_eaje(TEMPLATES_DIR / "caf_eaje_exemple.csv", ctx66).table
    assert table["places"].tolist() == [60, 12, 24, 30]
    assert table["places"].dtype == np.int64
    assert table["psu"].tolist() == [True, False, True, True]
    assert table["psu"].dtype == bool
    assert table["type_accueil"].tolist() == [
        "multi-accueil",
        "micro-crèche PAJE",
        "crèche collective",
        "crèche familiale",
    ]
    assert table["geolocalisation"].tolist() == ["coordonnées", "mairie", "mairie", "coordonnées"]
    assert table["lon"].iloc[0] == pytest.approx(2.8954)  # decimal comma in the file
    assert table["lat"].iloc[0] == pytest.approx(42.6986)
    assert (table["lon"].iloc[1], table["lat"].iloc[1]) == hall(ctx66, PERPIGNAN)
    assert table["code_commune"].tolist() == [PERPIGNAN, PERPIGNAN, "66149", "66049"]
    assert table["adresse"].iloc[3] == ""
    assert table["nom"].iloc[3] == "Crèche familiale fictive <b>Les Mésanges</b>"


def test_alsh_example_keeps_missing_capacities_as_nan(ctx66: ImportContext) -> None:
    table = caf.import_caf_alsh(TEMPLATES_DIR / "caf_alsh_exemple.csv", ctx66).table
    assert table["places_periscolaire"].iloc[0] == 80
    assert math.isnan(table["places_periscolaire"].iloc[1])
    assert table["places_mercredi"].tolist()[:2] == [60, 40]
    assert math.isnan(table["places_vacances"].iloc[2])


def test_ctg_example_dates_names_and_cofinancer(ctx66: ImportContext) -> None:
    table = caf.import_caf_ctg(TEMPLATES_DIR / "caf_ctg_exemple.csv", ctx66).table
    assert table["statut"].tolist() == ["signée", "en cours", "signée", "à renouveler"]
    assert table["date_signature"].tolist() == ["2023-06-15", "", "2025-02-27", "2020-01-01"]
    assert table["date_fin"].iloc[0] == "2027-12-31"
    # Empty name is taken from the commune base; empty cofinanceur defaults to the level of the line.
    assert table["nom"].iloc[1] == "Communauté de communes Sud-Roussillon"
    assert table["cofinanceur"].tolist() == ["epci", "epci", "commune", "epci"]
    assert not isinstance(table, gpd.GeoDataFrame)


def test_blank_templates_match_the_specification() -> None:
    for template in caf.TEMPLATES:
        blank = (TEMPLATES_DIR / f"{template.id}.csv").read_bytes()
        assert blank == ("\ufeff" + ";".join(template.headers) + "\r\n").encode("utf-8")
        sheet = load_workbook(TEMPLATES_DIR / f"{template.id}.xlsx").worksheets[0]
        assert [c.value for c in sheet[1]] == template.headers
        assert sheet.max_row == 1
        example = pd.read_csv(TEMPLATES_DIR / f"{template.id}_exemple.csv", sep=";", dtype=str, encoding="utf-8-sig")
        assert list(example.columns) == template.headers
        assert 3 <= len(example) <= 5
        names = example["Nom"] if "Nom" in example else example["Commune"]
        assert names.fillna("").str.contains("fictif|fictive|Perpignan|Communauté|Prades|Céret|^$").all()


def _excel_value(text: str) -> object:
    """What Excel stores when a person types ``text``: numbers and dates become typed cells."""
    parsed = caf.parse_date(text) if "/" in text else None
    if parsed is not None:
        return datetime(parsed.year, parsed.month, parsed.day)
    number = parse_number(text) if text and text[0].isdigit() and not text.startswith("0") else None
    if number is not None and len(text) < 9:
        return int(number) if number.is_integer() else number
    return text or None


@pytest.mark.parametrize("template", caf.TEMPLATES, ids=lambda t: t.id)
def test_xlsx_and_csv_give_the_same_table(template: caf.Template, ctx66: ImportContext, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(template.headers)
    for row in template.example_rows:
        ws.append([_excel_value(v) for v in row])
    wb.create_sheet("Notes").append(["cette feuille n'est pas lue"])
    xlsx = tmp_path / f"{template.stem}.xlsx"
    wb.save(xlsx)
    from_xlsx = caf.import_caf_file(template, xlsx, ctx66).table
    from_csv = caf.import_caf_file(template, TEMPLATES_DIR / f"{template.id}_exemple.csv", ctx66).table
    pd.testing.assert_frame_equal(pd.DataFrame(from_xlsx), pd.DataFrame(from_csv))


# ---------------------------------------------------------------------------------------------------------------
# Validation: every problem of a file at once, with line, column and suggestion
# ---------------------------------------------------------------------------------------------------------------


def test_renamed_and_missing_columns_are_reported_together(ctx66: ImportContext, tmp_path: Path) -> None:
    headers = [("Nb places" if h == "Places" else h) for h in caf.EAJE.headers if h != "PSU"]
    row = [v for h, v in zip(caf.EAJE.headers, eaje_row(), strict=True) if h != "PSU"]
    path = write(tmp_path, "eaje.csv", headers, [row])
    with pytest.raises(DataError) as exc:
        caf.import_caf_eaje(path, ctx66)
    problems = problems_of(exc)
    assert {p.column for p in problems} == {"Places", "PSU"}
    assert "« Nb places »" in find(problems, 1, "Places").suggestion
    assert "colonne obligatoire" in find(problems, 1, "PSU").message


def test_every_cell_error_of_an_eaje_file_is_reported(ctx66: ImportContext, tmp_path: Path) -> None:
    rows = [
        eaje_row("E1"),  # line 2: valid
        eaje_row("E1", Nom="Doublon"),  # line 3: duplicated identifiant
        eaje_row("E3", **{"Code commune": "66999", "Commune": "Perpignen"}),  # 4: unknown, close name
        eaje_row("E4", **{"Code commune": "11069", "Commune": ""}),  # 5: other département
        eaje_row("E5", Places="-5"),  # 6
        eaje_row("E6", Places="douze"),  # 7
        eaje_row("E7", PSU="peut-être"),  # 8
        eaje_row("E8", Longitude="1,4442", Latitude="43,6045"),  # 9: Toulouse
        eaje_row("E9", Longitude="692000", Latitude="6175000"),  # 10: Lambert-93
        eaje_row("E10", Longitude="42,6986", Latitude="2,8954"),  # 11: swapped
        eaje_row("E11", **{"Code commune": "66000", "Commune": ""}),  # 12: postal code
        eaje_row("E12", Places="12,5"),  # 13
        eaje_row("E13", Longitude="2,8954", Latitude=""),  # 14: half a point
        eaje_row("", Nom=""),  # 15: two mandatory cells empty
    ]
    path = write(tmp_path, "eaje_2025-03-31.csv", caf.EAJE.headers, rows)
    with pytest.raises(DataError) as exc:
        caf.import_caf_eaje(path, ctx66)
    problems = problems_of(exc)
    assert all(p.severity == "erreur" and p.file == "eaje_2025-03-31.csv" for p in problems)
    assert "déjà utilisé ligne 2" in find(problems, 3, "Identifiant").suggestion
    assert "Perpignan (66136)" in find(problems, 4, "Code commune").suggestion
    assert "pas dans le département 66" in find(problems, 5, "Code commune").message
    assert "négatif" in find(problems, 6, "Places").message
    assert "n'est pas un nombre" in find(problems, 7, "Places").message
    assert "oui" in find(problems, 8, "PSU").message
    assert "hors du département 66" in find(problems, 9, "Longitude").message
    lambert = find(problems, 10, "Longitude")
    assert "Lambert-93" in lambert.message
    assert "longitude 2," in lambert.suggestion
    assert "latitude 42," in lambert.suggestion
    assert "inversées" in find(problems, 11, "Longitude").suggestion
    assert "code postal" in find(problems, 12, "Code commune").suggestion
    assert "entier" in find(problems, 13, "Places").message
    assert "incomplète" in find(problems, 14, "Latitude").message
    assert find(problems, 15, "Identifiant").message == "valeur obligatoire manquante"
    assert find(problems, 15, "Nom").message == "valeur obligatoire manquante"
    assert not [p for p in problems if p.row == 2]
    assert all(p.suggestion for p in problems)
    assert len(problems) == 14  # lines 3 to 14 one each, line 15 two


def test_html_and_script_text_is_kept_verbatim(ctx66: ImportContext, tmp_path: Path) -> None:
    script = "<script>alert(1)</script>"
    path = write(
        tmp_path,
        "eaje.csv",
        caf.EAJE.headers,
        [eaje_row("E1", Nom=script, Adresse='<img src=x onerror="alert(2)">', Gestionnaire="<b>gras</b> & co")],
    )
    table = caf.import_caf_eaje(path, ctx66).table
    assert table["nom"].iloc[0] == script
    assert isinstance(table["nom"].iloc[0], str)
    assert table["adresse"].iloc[0] == '<img src=x onerror="alert(2)">'
    assert table["gestionnaire"].iloc[0] == "<b>gras</b> & co"
    cs = caf.import_caf_centres_sociaux(TEMPLATES_DIR / "caf_centres_sociaux_exemple.csv", ctx66).table
    assert cs["nom"].iloc[2] == f"Centre social fictif {script}"


def test_missing_coordinates_fall_back_to_the_town_hall(ctx66: ImportContext, tmp_path: Path) -> None:
    rows = [
        eaje_row("E1", **{"Code commune": "66049", "Longitude": "", "Latitude": ""}),
        eaje_row("E2", **{"Code commune": "66049", "Longitude": "2,7467", "Latitude": "42,4857"}),
    ]
    headers = caf.EAJE.headers
    result = caf.import_caf_eaje(write(tmp_path, "eaje.csv", headers, rows), ctx66)
    table = result.table
    lon, lat = hall(ctx66, "66049")
    assert (table["lon"].iloc[0], table["lat"].iloc[0]) == (lon, lat)
    assert (table.geometry.iloc[0].x, table.geometry.iloc[0].y) == (lon, lat)
    assert table["geolocalisation"].tolist() == ["mairie", "coordonnées"]
    assert "1 structure(s) sans coordonnées placée(s) au point de la mairie" in result.notes
    # Without the Longitude/Latitude columns at all, every row goes to the town hall.
    no_xy = [h for h in headers if h not in {"Longitude", "Latitude"}]
    row = [v for h, v in zip(headers, rows[1], strict=True) if h in no_xy]
    table = caf.import_caf_eaje(write(tmp_path, "eaje_b.csv", no_xy, [row]), ctx66).table
    assert table["geolocalisation"].tolist() == ["mairie"]
    assert table["lon"].iloc[0] == lon


def test_point_in_another_commune_is_a_warning_not_an_error(ctx66: ImportContext, tmp_path: Path) -> None:
    # Perpignan's coordinates written against Céret: kept, with a warning naming the commune.
    row = eaje_row("E1", **{"Code commune": "66049", "Commune": "Céret"})
    result = caf.import_caf_eaje(write(tmp_path, "eaje.csv", caf.EAJE.headers, [row]), ctx66)
    assert result.table["geolocalisation"].tolist() == ["coordonnées"]
    assert [p.severity for p in result.warnings] == ["avertissement"]
    assert "Céret" in result.warnings[0].message


def test_wrong_commune_name_for_a_valid_code_is_a_warning(ctx66: ImportContext, tmp_path: Path) -> None:
    row = eaje_row("E1", **{"Commune": "Céret", "Longitude": "", "Latitude": ""})
    result = caf.import_caf_eaje(write(tmp_path, "eaje.csv", caf.EAJE.headers, [row]), ctx66)
    assert len(result.warnings) == 1
    assert "code de Céret : 66049" in result.warnings[0].suggestion


def test_micro_creche_paje_with_psu_is_flagged(ctx66: ImportContext, tmp_path: Path) -> None:
    row = eaje_row("E1", **{"Type d'accueil": "Micro-crèche PAJE", "PSU": "OUI"})
    result = caf.import_caf_eaje(write(tmp_path, "eaje.csv", caf.EAJE.headers, [row]), ctx66)
    assert result.table["type_accueil"].iloc[0] == "micro-crèche PAJE"  # spelling normalised
    assert result.table["psu"].iloc[0]
    assert find(result.warnings, 2, "PSU").severity == "avertissement"


def test_unknown_statut_and_ctg_rules(ctx66: ImportContext, tmp_path: Path) -> None:
    rows = [
        ["epci", "200027183", "", "validée", "01/01/2024", "31/12/2027", "epci", ""],  # 2: unknown statut
        ["epci", "123456789", "Communauté de communes du Valespir", "en cours", "", "", "", ""],  # 3: unknown EPCI
        ["epci", "246600373", "", "signée", "01/01/2024", "31/12/2020", "", ""],  # 4: end before start
        ["epci", "246600373", "", "signée", "02/01/2024", "", "", ""],  # 5: duplicate
        ["commune", "11069", "Narbonne", "non signée", "", "", "", ""],  # 6: other département
        ["region", "76", "", "signe", "32/01/2024", "", "", ""],  # 7: bad level, bad date (alias signe ok)
    ]
    path = write(tmp_path, "ctg.csv", caf.CTG.headers, rows)
    with pytest.raises(DataError) as exc:
        caf.import_caf_ctg(path, ctx66)
    problems = problems_of(exc)
    statut = find(problems, 2, "Statut")
    assert "validée" in statut.message
    assert "signée ; en cours ; à renouveler ; non signée" in statut.suggestion
    assert "du Vallespir (246600373)" in find(problems, 3, "Code").suggestion
    assert "antérieure" in find(problems, 4, "Date de fin").message
    assert "déjà décrit ligne 4" in find(problems, 5, "Code").suggestion
    assert "pas dans le département 66" in find(problems, 6, "Code").message
    assert find(problems, 7, "Niveau")
    assert "n'est pas une date" in find(problems, 7, "Date de signature").message
    assert not [p for p in problems if p.row == 7 and p.column == "Statut"]
    assert len(problems) == 7


def test_all_problems_carry_line_column_message_and_suggestion(ctx66: ImportContext, tmp_path: Path) -> None:
    rows = [["CS1", "Centre", "centre socal", PERPIGNAN, "", "", "", "", "", ""]]
    path = write(tmp_path, "centres_sociaux.csv", caf.CENTRES_SOCIAUX.headers, rows)
    with pytest.raises(DataError) as exc:
        caf.import_caf_centres_sociaux(path, ctx66)
    (problem,) = problems_of(exc)
    assert (problem.row, problem.column) == (2, "Type")
    assert "vouliez-vous dire « centre social »" in problem.suggestion
    assert str(problem).startswith("centres_sociaux.csv, ligne 2, colonne « Type » : valeur « centre socal » inconnue")


# ---------------------------------------------------------------------------------------------------------------
# Synthetic marker, extraction date, catalogue, check_caf_file
# ---------------------------------------------------------------------------------------------------------------


def test_synthetic_marker_flags_every_layer(ctx66: ImportContext, tmp_path: Path) -> None:
    for template in caf.TEMPLATES:
        shutil.copy(TEMPLATES_DIR / f"{template.id}_exemple.csv", tmp_path / f"{template.stem}_x.csv")
    assert caf.import_caf_alsh(tmp_path / "alsh_x.csv", ctx66).synthetic is False
    (tmp_path / caf.SYNTHETIC_MARKER).write_text("fictif", encoding="utf-8")
    for source in caf.CAF_SOURCES:
        result = source.load_importer()(source.find(tmp_path), ctx66)
        assert result.synthetic is True
        assert any(note.startswith("Données fictives") for note in result.notes)


def test_extraction_date_from_column_then_file_name_then_side_file(ctx66: ImportContext, tmp_path: Path) -> None:
    shutil.copy(TEMPLATES_DIR / "caf_eaje_exemple.csv", tmp_path / "eaje_20240115.csv")
    notes = caf.import_caf_eaje(tmp_path / "eaje_20240115.csv", ctx66).notes
    assert "Date d'extraction : 2025-03-31 (colonne « Date d'extraction »)" in notes  # column wins
    shutil.copy(TEMPLATES_DIR / "caf_alsh_exemple.csv", tmp_path / "alsh_2024-01-15.csv")
    assert (
        "Date d'extraction : 2024-01-15 (nom du fichier)"
        in caf.import_caf_alsh(tmp_path / "alsh_2024-01-15.csv", ctx66).notes
    )
    shutil.copy(TEMPLATES_DIR / "caf_accueils_exemple.csv", tmp_path / "accueils.csv")
    assert caf.import_caf_accueils(tmp_path / "accueils.csv", ctx66).notes[0].startswith("Date d'extraction inconnue")
    (tmp_path / caf.DATE_FILE).write_text("30/09/2024\n", encoding="utf-8")
    notes = caf.import_caf_accueils(tmp_path / "accueils.csv", ctx66).notes
    assert notes[0] == "Date d'extraction : 2024-09-30 (date_extraction.txt)"


def test_catalogue_entries() -> None:
    assert [s.id for s in caf.CAF_SOURCES] == [
        "caf_eaje",
        "caf_alsh",
        "caf_centres_sociaux",
        "caf_accueils",
        "caf_ctg",
        "caf_demande",
    ]
    for source in caf.CAF_SOURCES:
        assert source.kind == "caf"
        assert source.publisher == "Caf des Pyrénées-Orientales (extrait interne)"
        assert source.importer == f"geodata.caf.importer:import_{source.id}"
        assert callable(source.load_importer())
        assert "docs/caf_extracts.md" in source.howto
        assert f"docs/templates/{source.id}.xlsx" in source.howto
        stem = caf.get_template(source.id).stem
        assert source.file_patterns == (f"{stem}*.csv", f"{stem}*.xlsx")
    from geodata.catalogue import get_source

    assert get_source("caf_ctg").kind == "caf"


def test_check_caf_file_recognises_the_template_and_never_raises(ctx66: ImportContext, tmp_path: Path) -> None:
    clean = tmp_path / "export du 3 mars.csv"
    shutil.copy(TEMPLATES_DIR / "caf_centres_sociaux_exemple.csv", clean)
    assert caf.check_caf_file(clean, ctx66) == []
    bad = write(tmp_path, "nimporte.csv", caf.EAJE.headers, [eaje_row("E1", Places="-1"), eaje_row("E1")])
    problems = caf.check_caf_file(bad, ctx66)
    assert [(p.row, p.column) for p in problems] == [(2, "Places"), (3, "Identifiant")]
    alsh_like = write(tmp_path, "a.csv", [h for h in caf.ALSH.headers if h != "Places vacances"], [["x"] * 11])
    problems = caf.check_caf_file(alsh_like, ctx66)
    assert [(p.row, p.column) for p in problems] == [(1, "Places vacances")]
    other = write(tmp_path, "autre.csv", ["a", "b"], [["1", "2"]])
    (problem,) = caf.check_caf_file(other, ctx66)
    assert "non reconnu" in problem.message
    empty = tmp_path / "vide.csv"
    empty.write_text("", encoding="utf-8")
    assert caf.check_caf_file(empty, ctx66)[0].message == "fichier vide"


def test_detect_template_by_columns() -> None:
    for template in caf.TEMPLATES:
        assert caf.detect_template(template.headers) is template
        assert caf.detect_template([h.upper() for h in template.headers if h != "Nom"]) is template
    assert caf.detect_template(["Code", "Nom"]) is None


def test_guide_documents_every_template_and_column() -> None:
    guide = (PROJECT_ROOT / "docs" / "caf_extracts.md").read_text(encoding="utf-8")
    for template in caf.TEMPLATES:
        assert f"— `{template.id}`" in guide
        for column in template.columns:
            assert f"| {column.name} |" in guide, (template.id, column.name)


def test_every_numeric_and_date_column_has_bounds_and_the_guide_lists_them() -> None:
    """Bounds are declared on the columns (a new template column gets them); the guide shows the code's table."""
    for template in caf.TEMPLATES:
        for column in template.columns:
            if column.kind in {"entier", "nombre", "coordonnee", "date"}:
                assert column.bounds is not None, (template.id, column.name)
                assert column.bounds.low < column.bounds.high
                for plausible in (column.bounds.plausible_low, column.bounds.plausible_high):
                    assert plausible is None or column.bounds.low <= plausible <= column.bounds.high
    guide = (PROJECT_ROOT / "docs" / "caf_extracts.md").read_text(encoding="utf-8")
    assert caf.bounds_markdown() in guide, (
        "régénérez le tableau : python -c 'from geodata.caf import *; print(bounds_markdown())'"
    )
    assert caf.limits_markdown() in guide
    assert "| `caf_eaje` | Places | nombre entier | 0 à 1\u202f000 | 1 à 150" in guide
