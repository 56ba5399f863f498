"""data.caf.fr importers (coverage rates, places, allocataires) on fixtures in the Opendatasoft export format.

Fixtures: ``;`` separated, UTF-8 with BOM, field names as headers, one file per level; the national coverage file
has ``annee`` as a date and the short column stems (``txcouv_psu_nat``) some projects read.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from geodata.communes import load_commune_base
from geodata.errors import DataError
from geodata.importers import ImportContext
from geodata.importers.datacaf import family_files, import_caf_allocataires, import_caf_nbpla, import_caf_txcouv

CAF = Path(__file__).resolve().parents[1] / "data" / "formats" / "caf_data"


@pytest.fixture(scope="session")
def formats_ctx_66() -> ImportContext:
    return ImportContext("66", load_commune_base("66").communes)


def _copy_family(tmp_path: Path, prefix: str) -> Path:
    for path in CAF.glob(f"{prefix}*.csv"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8-sig")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8-sig")
    return path


def test_txcouv_combines_the_four_levels(formats_ctx_66: ImportContext) -> None:
    result = import_caf_txcouv(CAF / "txcouv_pe_com.csv", formats_ctx_66)
    table = result.table
    assert table["niveau"].value_counts().to_dict() == {"com": 5, "epci": 2, "dep": 2, "nat": 2}
    assert sorted(p.name for p in result.input_files) == [
        "txcouv_pe_com.csv",
        "txcouv_pe_dep.csv",
        "txcouv_pe_epci.csv",
        "txcouv_pe_nat.csv",
    ]
    # Carcassonne, Montpellier, Aude, Guadeloupe and the « XX » EPCI placeholder are cut.
    assert set(table.loc[table["niveau"] == "epci", "code"]) == {"200027183", "246600373"}
    assert "XX" not in set(table["code"])
    assert set(table.loc[table["niveau"] == "dep", "code"]) == {"66"}
    assert any("XX" in note for note in result.notes)


def test_txcouv_national_row_date_year_and_short_stems(formats_ctx_66: ImportContext) -> None:
    table = import_caf_txcouv(CAF / "txcouv_pe_com.csv", formats_ctx_66).table
    nat = table[table["niveau"] == "nat"].set_index("annee")
    assert list(nat.index) == [2022, 2023]
    assert nat.loc[2023, "code"] == "FR"
    assert nat.loc[2023, "nom"] == "FRANCE ENTIERE HORS MAYOTTE"
    assert nat.loc[2023, "txcouv"] == pytest.approx(60.9)
    assert nat.loc[2023, "txcouv_psu"] == pytest.approx(19.9)  # read from txcouv_psu_nat
    assert nat.loc[2023, "txcouv_am"] == pytest.approx(31.9)  # read from txcouv_am_nat


def test_txcouv_secret_missing_and_zero_stay_distinct(formats_ctx_66: ImportContext) -> None:
    table = import_caf_txcouv(CAF / "txcouv_pe_com.csv", formats_ctx_66).table
    argeles = table[(table["code"] == "66008") & (table["annee"] == 2022)].iloc[0]
    assert (argeles["txcouv_gad_etat"], math.isnan(argeles["txcouv_gad"])) == ("secret", True)
    assert (argeles["txcouv_ind_etat"], math.isnan(argeles["txcouv_ind"])) == ("nd", True)
    assert (argeles["txcouv_hors_psu_etat"], argeles["txcouv_hors_psu"]) == ("valeur", 0.0)
    perpignan = table[(table["code"] == "66136") & (table["annee"] == 2023)].iloc[0]
    assert perpignan["txcouv"] == pytest.approx(42.7)
    assert perpignan["nom"] == "Perpignan"


def test_txcouv_any_file_of_the_family_gives_the_same_layer(formats_ctx_66: ImportContext) -> None:
    from_com = import_caf_txcouv(CAF / "txcouv_pe_com.csv", formats_ctx_66).table
    from_nat = import_caf_txcouv(CAF / "txcouv_pe_nat.csv", formats_ctx_66).table
    assert from_com.equals(from_nat)


def test_txcouv_missing_levels_are_noted(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    shutil.copy(CAF / "txcouv_pe_epci.csv", tmp_path / "txcouv_pe_epci.csv")
    result = import_caf_txcouv(tmp_path / "txcouv_pe_epci.csv", formats_ctx_66)
    assert set(result.table["niveau"]) == {"epci"}
    assert any("com, dep, nat" in note for note in result.notes)


def test_nbpla_ignores_historic_series_and_keeps_secret(formats_ctx_66: ImportContext) -> None:
    assert set(family_files(CAF / "nbpla_pe_com.csv", "nbpla_pe")) == {"com", "epci", "dep"}
    # Source.find returns the last match in sorted order; the historic file must not win.
    result = import_caf_nbpla(CAF / "nbpla_pe_com_hist.csv", formats_ctx_66)
    table = result.table
    assert table["niveau"].value_counts().to_dict() == {"com": 2, "epci": 1, "dep": 1}
    assert set(table["annee"]) == {2023}
    perpignan = table[table["code"] == "66136"].iloc[0]
    assert (perpignan["pl_psu"], perpignan["tot_offre"]) == (845, 1971)
    argeles = table[table["code"] == "66008"].iloc[0]
    assert argeles["pl_gad_etat"] == "secret"
    assert (argeles["pl_hors_psu"], argeles["pl_hors_psu_etat"]) == (0, "valeur")
    assert table[table["niveau"] == "dep"].iloc[0]["tot_offre"] == 8204  # « XXX » placeholder row dropped
    assert any("nat" in note for note in result.notes)


def test_allocataires(formats_ctx_66: ImportContext) -> None:
    result = import_caf_allocataires(CAF / "s_ben_com_f.csv", formats_ctx_66)
    table = result.table.set_index(["code_commune", "annee"])
    assert len(table) == 7
    assert table.loc[("66136", 2024), "foyers"] == 33345
    assert table.loc[("66136", 2023), "personnes"] == 81035
    assert (table.loc[("66227", 2024), "foyers"], table.loc[("66227", 2024), "foyers_etat"]) == (0, "valeur")
    assert table.loc[("66049", 2024), "foyers_etat"] == "secret"
    assert table.loc[("66049", 2024), "personnes_etat"] == "nd"
    assert any("2 ligne(s) sans commune" in note for note in result.notes)


def test_txcouv_missing_rate_column(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    folder = _copy_family(tmp_path, "txcouv_pe_")
    _edit(folder / "txcouv_pe_com.csv", ";txcouv_com;", ";taux_com;")
    with pytest.raises(DataError, match="colonne obligatoire absente") as info:
        import_caf_txcouv(folder / "txcouv_pe_com.csv", formats_ctx_66)
    assert (info.value.problems[0].file, info.value.problems[0].column) == ("txcouv_pe_com.csv", "txcouv_com")


@pytest.mark.parametrize(
    ("file", "old", "new", "row", "column", "message"),
    [
        ("txcouv_pe_com.csv", "2023;66136;Perpignan", "2023;66999;Perpignan", 5, "numcom", "66999"),
        ("txcouv_pe_com.csv", "Pyrénées-Orientales;42.7;", "Pyrénées-Orientales;-42.7;", 5, "txcouv_com", "minimum"),
        ("txcouv_pe_dep.csv", "Pyrénées-Orientales;47.2;", "Pyrénées-Orientales;quarante;", 3, "txcouv_dep", "nombre"),
        ("txcouv_pe_nat.csv", "2023-01-01;", "janvier 2023;", 3, "annee", "illisible"),
        ("txcouv_pe_epci.csv", "2023;246600373;", "2023;200027183;", 3, "numepci", "en double"),
    ],
)
def test_txcouv_bad_values(
    formats_ctx_66: ImportContext,
    tmp_path: Path,
    file: str,
    old: str,
    new: str,
    row: int,
    column: str,
    message: str,
) -> None:
    folder = _copy_family(tmp_path, "txcouv_pe_")
    _edit(folder / file, old, new)
    with pytest.raises(DataError, match=message) as info:
        import_caf_txcouv(folder / "txcouv_pe_com.csv", formats_ctx_66)
    problem = info.value.problems[0]
    assert (problem.file, problem.row, problem.column) == (file, row, column)


def test_allocataires_bad_values(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = _edit(shutil.copy(CAF / "s_ben_com_f.csv", tmp_path / "s_ben_com_f.csv"), "2023-12;66008;", "2023-12;66998;")
    with pytest.raises(DataError, match="66998") as info:
        import_caf_allocataires(path, formats_ctx_66)
    assert (info.value.problems[0].row, info.value.problems[0].column) == (4, "numcomdo")
    _edit(path, "2023-12;66998;", "2023-12;66008;")
    _edit(path, ";2530;", ";-2530;")
    with pytest.raises(DataError, match="minimum"):
        import_caf_allocataires(path, formats_ctx_66)


def test_caf_html_page(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = tmp_path / "s_ben_com_f.csv"
    path.write_text("<html><body><h1>Too Many Requests</h1></body></html>", encoding="utf-8")
    with pytest.raises(DataError, match="page HTML"):
        import_caf_allocataires(path, formats_ctx_66)
    html = tmp_path / "txcouv_pe_com.csv"
    html.write_text("<!DOCTYPE html><html></html>", encoding="utf-8")
    with pytest.raises(DataError, match="page HTML"):
        import_caf_txcouv(html, formats_ctx_66)
