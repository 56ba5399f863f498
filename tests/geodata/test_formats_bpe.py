"""INSEE BPE importer on fixtures in the publisher's two formats (2021 Lambert-93 only; 2024 with WGS84 + capacity).

Lambert-93 coordinates of the fixtures were computed from round WGS84 points with the IGN formulas of the Lambert
conformal conic projection (GRS80, parallels 44° and 49°, origin 3° E / 46.5° N, x0 700 000 m, y0 6 600 000 m),
independently of pyproj: Perpignan (2.8950, 42.7000) → (691 386.19, 6 177 827.38).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from geodata.communes import load_commune_base
from geodata.errors import DataError
from geodata.importers import ImportContext
from geodata.importers.bpe import BPE_CATEGORIES, import_bpe, read_selected

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"
BPE21 = FORMATS / "insee_bpe" / "bpe21_ensemble_xy.csv"
BPE24 = FORMATS / "bpe2024" / "BPE24.csv"


@pytest.fixture(scope="session")
def formats_ctx_66() -> ImportContext:
    return ImportContext("66", load_commune_base("66").communes)


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    # Equirectangular distance: exact enough below a few kilometres.
    k = 6_371_000 * math.pi / 180
    return math.hypot((lon1 - lon2) * k * math.cos(math.radians(lat1)), (lat1 - lat2) * k)


def _variant(src: Path, tmp_path: Path, old: str, new: str, name: str | None = None) -> Path:
    text = src.read_text(encoding="utf-8")
    assert old in text, old
    out = tmp_path / (name or src.name)
    out.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out


def test_bpe21_keeps_family_codes_of_the_departement(formats_ctx_66: ImportContext) -> None:
    result = import_bpe(BPE21, formats_ctx_66)
    table = result.table
    # 15 data rows: 3 outside dept 66 + 1 in 34, and 5 dept-66 rows of other codes (A101, B101, C101, D201, F101).
    assert len(table) == 6
    assert sorted(table["code_commune"]) == ["66008", "66024", "66049", "66136", "66136", "66172"]
    assert table["categorie"].value_counts().to_dict() == {
        "eaje": 2,
        "laep": 1,
        "centre_social": 1,
        "alsh": 1,
        "rpe": 1,
    }
    assert set(table["annee"]) == {2021}
    assert set(table["capacite_etat"]) == {"nd"}  # the 2021 edition has no capacity
    assert table.crs.to_epsg() == 4326


def test_bpe21_reprojects_lambert93_within_one_metre(formats_ctx_66: ImportContext) -> None:
    table = import_bpe(BPE21, formats_ctx_66).table
    creche = table[(table["code_commune"] == "66136") & (table["typequ"] == "D502")].iloc[0]
    assert _metres(creche["lon"], creche["lat"], 2.8950, 42.7000) < 1.0
    assert creche.geometry.x == pytest.approx(creche["lon"])
    ceret = table[table["code_commune"] == "66049"].iloc[0]
    assert _metres(ceret["lon"], ceret["lat"], 2.7480, 42.4850) < 1.0


def test_bpe_without_coordinates_uses_town_hall(formats_ctx_66: ImportContext) -> None:
    result = import_bpe(BPE21, formats_ctx_66)
    table = result.table
    boulou = table[table["code_commune"] == "66024"].iloc[0]
    hall = formats_ctx_66.communes.set_index("code").loc["66024"]
    assert boulou["geolocalisation"] == "mairie"
    assert (boulou["lon"], boulou["lat"]) == (hall["mairie_lon"], hall["mairie_lat"])
    assert (table["geolocalisation"] == "coordonnées").sum() == 5
    assert any("ligne" in str(w) and "8" in str(w) for w in result.warnings)


def test_bpe24_reads_capacity_and_wgs84(formats_ctx_66: ImportContext) -> None:
    table = import_bpe(BPE24, formats_ctx_66).table.set_index(["code_commune", "typequ"])
    assert len(table) == 5
    assert set(table["annee"]) == {2024}
    assert table.loc[("66136", "D502"), "capacite"] == 40
    assert table.loc[("66136", "D502"), "capacite_etat"] == "valeur"
    # A true zero stays a value, an empty cell is « nd ».
    assert table.loc[("66172", "D502"), "capacite"] == 0
    assert table.loc[("66172", "D502"), "capacite_etat"] == "valeur"
    assert math.isnan(table.loc[("66136", "D505"), "capacite"])
    assert table.loc[("66136", "D505"), "capacite_etat"] == "nd"
    assert table.loc[("66037", "D509"), "categorie"] == "micro_creche"
    assert table.loc[("66037", "D509"), "capacite"] == 10
    assert _metres(table.loc[("66136", "D502"), "lon"], table.loc[("66136", "D502"), "lat"], 2.8950, 42.7000) < 1.0


def test_bpe_year_from_file_name_when_no_an_column(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    with BPE21.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    drop = rows[0].index("AN")
    out = tmp_path / "bpe19_ensemble_xy.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\n").writerows([r[:drop] + r[drop + 1 :] for r in rows])
    assert set(import_bpe(out, formats_ctx_66).table["annee"]) == {2019}
    anonymous = out.rename(tmp_path / "equipements.csv")
    with pytest.raises(DataError, match="millésime introuvable"):
        import_bpe(anonymous, formats_ctx_66)


def test_bpe_rows_of_other_departements_are_not_validated(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    # Montpellier's crèche has a nonsense capacity: cut before validation, it must not block dept 66.
    path = _variant(BPE24, tmp_path, ";60;1;", ";soixante;1;")
    assert len(import_bpe(path, formats_ctx_66).table) == 5


def test_bpe_category_mapping_is_one_dict() -> None:
    assert BPE_CATEGORIES["D502"] == "eaje"
    assert set(BPE_CATEGORIES.values()) == {"eaje", "laep", "rpe", "alsh", "centre_social", "micro_creche"}


@pytest.mark.parametrize(
    ("source", "old", "new", "row", "column", "message"),
    [
        (BPE21, "691386.19;6177827.38", "2.8950;42.7000", 12, "LAMBERT_X", "degrés dans une colonne Lambert"),
        (BPE21, "691386.19;6177827.38", "6177827.38;691386.19", 12, "LAMBERT_X", "emprise du Lambert-93"),
        (BPE24, "2.8950;42.7000", "691386.19;6177827.38", 5, "LATITUDE", "mètres dans une colonne en degrés"),
        (BPE24, "2.8950;42.7000", "42.7000;2.8950", 5, "LONGITUDE", "hors du territoire"),
        (BPE24, ";40;1;", ";quarante;1;", 5, "CAPACITE", "pas un nombre"),
        (BPE24, ";40;1;", ";-5;1;", 5, "CAPACITE", "minimum"),
        (BPE24, ";40;1;", ";40.5;1;", 5, "CAPACITE", "entier"),
        (BPE21, "76;66;66172;661720000;2021;D504", "76;66;66999;661720000;2021;D504", 14, "DEPCOM", "66999"),
        (BPE21, "691386.19;6177827.38", "691386,19 m;6177827.38", 12, "LAMBERT_X", "pas une coordonnée"),
    ],
)
def test_bpe_bad_values_name_line_and_column(
    formats_ctx_66: ImportContext,
    tmp_path: Path,
    source: Path,
    old: str,
    new: str,
    row: int,
    column: str,
    message: str,
) -> None:
    path = _variant(source, tmp_path, old, new)
    with pytest.raises(DataError, match=message) as info:
        import_bpe(path, formats_ctx_66)
    problem = info.value.problems[0]
    assert (problem.row, problem.column, problem.file) == (row, column, source.name)


def test_bpe_missing_column(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = _variant(BPE21, tmp_path, ";TYPEQU;", ";TYPE_EQUIPEMENT;")
    with pytest.raises(DataError, match="colonne obligatoire absente") as info:
        import_bpe(path, formats_ctx_66)
    assert info.value.problems[0].column == "TYPEQU"


def test_bpe_html_page(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = tmp_path / "BPE24.csv"
    path.write_text("<!DOCTYPE html>\n<html><body>Erreur 503</body></html>\n", encoding="utf-8")
    with pytest.raises(DataError, match="page HTML"):
        import_bpe(path, formats_ctx_66)


def test_bpe_territory_without_equipment_gives_an_empty_layer() -> None:
    ctx = ImportContext("2A", load_commune_base("2A").communes)
    result = import_bpe(BPE21, ctx)
    assert len(result.table) == 0
    assert result.table.crs.to_epsg() == 4326
    assert "aucun équipement" in str(result.warnings[0])


def test_read_selected_falls_back_to_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "bpe20_ensemble_xy.csv"
    path.write_bytes(BPE21.read_text(encoding="utf-8").encode("cp1252"))
    warnings: list = []
    df = read_selected(path, ["TYPEQU"], ["QUALITE_XY"], keep=lambda row: row["TYPEQU"] == "D503", warnings=warnings)
    assert df["QUALITE_XY"].tolist() == ["Non géolocalisé"]
    assert df["_ligne"].tolist() == [8]
    assert "Windows-1252" in str(warnings[0])
