"""DGCL critères de répartition importer (potentiel financier par habitant) on a fixture in the publisher's format."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from geodata.communes import load_commune_base
from geodata.errors import DataError
from geodata.importers import ImportContext
from geodata.importers.dgcl import PF_HAB, import_dgcl_pf, year_from_name

DGCL = Path(__file__).resolve().parents[1] / "data" / "formats" / "dgcl" / "criteres_repartition_2024.csv"


@pytest.fixture(scope="session")
def formats_ctx_66() -> ImportContext:
    return ImportContext("66", load_commune_base("66").communes)


def _variant(tmp_path: Path, old: str, new: str, name: str = DGCL.name) -> Path:
    text = DGCL.read_text(encoding="utf-8")
    assert old in text, old
    out = tmp_path / name
    out.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out


def test_dgcl_reads_decimal_comma_and_cuts(formats_ctx_66: ImportContext) -> None:
    result = import_dgcl_pf(DGCL, formats_ctx_66)
    table = result.table.set_index("code_commune")
    # 11 rows: 1001 (Ain, code without its leading zero), 11069 and 34172 are cut.
    assert sorted(table.index) == ["66001", "66008", "66024", "66037", "66049", "66136", "66172", "66227"]
    assert set(table["annee"]) == {2024}
    assert table.loc["66136", "pf_hab"] == pytest.approx(965.52)
    assert table.loc["66136", "pf_hab_etat"] == "valeur"
    assert table.loc["66136", "population_dgf"] == 124158
    assert table.loc["66136", "population_insee"] == 121875
    assert table.loc["66001", "pf_hab"] == pytest.approx(543.0)
    # Py has no potentiel financier in the file: « nd », never 0.
    assert math.isnan(table.loc["66227", "pf_hab"])
    assert table.loc["66227", "pf_hab_etat"] == "nd"


def test_dgcl_year_from_name_or_parameter(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    assert year_from_name("2019-communes-criteres-repartition.csv") == 2019
    assert year_from_name("criteres_repartition.csv") is None
    renamed = _variant(tmp_path, "PERPIGNAN", "PERPIGNAN", name="criteres_repartition_communes.csv")
    with pytest.raises(DataError, match="année"):
        import_dgcl_pf(renamed, formats_ctx_66)
    assert set(import_dgcl_pf(renamed, formats_ctx_66, annee=2023).table["annee"]) == {2023}


def test_dgcl_later_header_spelling(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        "Informations générales - Population DGF Année N'",
        "Informations générales - Population DGF de l'année N'",
    )
    table = import_dgcl_pf(path, formats_ctx_66).table.set_index("code_commune")
    assert table.loc["66008", "population_dgf"] == 19876


def test_dgcl_missing_column(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = _variant(tmp_path, PF_HAB, "Potentiel fiscal et financier des communes - Potentiel financier/hab")
    with pytest.raises(DataError, match="colonne obligatoire absente") as info:
        import_dgcl_pf(path, formats_ctx_66)
    assert info.value.problems[0].column == PF_HAB


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "message"),
    [
        ('"965,52"', '"965,52 euros"', 9, PF_HAB, "pas un nombre"),
        ('"965,52"', '"-965,52"', 9, PF_HAB, "minimum"),
        ("66172,SAINT-ESTEVE", "66999,SAINT-ESTEVE", 10, "Informations générales - Code INSEE de la commune", "66999"),
    ],
)
def test_dgcl_bad_values(
    formats_ctx_66: ImportContext, tmp_path: Path, old: str, new: str, row: int, column: str, message: str
) -> None:
    with pytest.raises(DataError, match=message) as info:
        import_dgcl_pf(_variant(tmp_path, old, new), formats_ctx_66)
    problem = info.value.problems[0]
    assert (problem.row, problem.column) == (row, column)


def test_dgcl_html_page(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = tmp_path / DGCL.name
    path.write_text("<!doctype html><html><body>Session expirée</body></html>", encoding="utf-8")
    with pytest.raises(DataError, match="page HTML"):
        import_dgcl_pf(path, formats_ctx_66)
