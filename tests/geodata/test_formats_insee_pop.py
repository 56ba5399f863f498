"""INSEE base-cc-evol-struct-pop importer (population by age band) on a fixture in the publisher's format."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodata.communes import load_commune_base
from geodata.errors import DataError
from geodata.importers import ImportContext
from geodata.importers.insee_pop import census_year, import_pop_age

POP = Path(__file__).resolve().parents[1] / "data" / "formats" / "insee_rp" / "base-cc-evol-struct-pop-2022.csv"


@pytest.fixture(scope="session")
def formats_ctx_66() -> ImportContext:
    return ImportContext("66", load_commune_base("66").communes)


def _variant(tmp_path: Path, old: str, new: str, count: int = 1, name: str = POP.name) -> Path:
    text = POP.read_text(encoding="utf-8")
    assert old in text, old
    out = tmp_path / name
    out.write_text(text.replace(old, new, count), encoding="utf-8")
    return out


def test_pop_age_cuts_departement_and_reads_decimals(formats_ctx_66: ImportContext) -> None:
    result = import_pop_age(POP, formats_ctx_66)
    table = result.table.set_index("code_commune")
    # 15 rows: 01001, 11069, 34172 and 2A004 are cut, 11 communes of dept 66 remain.
    assert len(table) == 11
    assert not any(code[:2] != "66" for code in table.index)
    assert set(table["annee"]) == {2022}
    perpignan = table.loc["66136"]
    assert perpignan["pop"] == 121875
    assert perpignan["pop_0002"] == pytest.approx(3712.48519)
    assert perpignan["pop_0305"] == pytest.approx(4011.0923)
    assert perpignan["pop_0610"] == pytest.approx(6812.77004)
    assert perpignan["pop_1117"] == pytest.approx(9504.1)
    # A real zero (Py, 69 inhabitants, no child under 3) is a value, not « nd ».
    assert table.loc["66227", "pop_0002"] == 0
    assert table.loc["66227", "pop_0002_etat"] == "valeur"
    # The other 215 communes of the base are reported, not invented.
    assert any("215 commune(s)" in str(w) for w in result.warnings)


def test_pop_age_year_from_column_prefix(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = _variant(tmp_path, "P22_", "P21_", count=-1, name="population.csv")
    table = import_pop_age(path, formats_ctx_66).table
    assert set(table["annee"]) == {2021}


def test_census_year_takes_the_most_recent_prefix() -> None:
    columns = ["CODGEO", "P16_POP", "P22_POP", "P22_POP0002", "P22_POP0305", "P22_POP0610", "P22_POP1117"]
    assert census_year(columns) == (2022, "P22_")
    with pytest.raises(ValueError, match="22"):
        census_year(["CODGEO", "P16_POP", "P16_POP0002", "P16_POP0305", "P16_POP0610", "P16_POP1117", "P22_POP"])


def test_pop_age_missing_band(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = _variant(tmp_path, "P22_POP0002;", "P22_POP0002X;")
    with pytest.raises(DataError, match="colonne obligatoire absente") as info:
        import_pop_age(path, formats_ctx_66)
    assert info.value.problems[0].column == "P22_POP0002"


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "message"),
    [
        ("66136;121875;3712.48519", "66136;121875;environ 3700", 10, "P22_POP0002", "pas un nombre"),
        ("66136;121875;3712.48519", "66136;121875;-3712.48519", 10, "P22_POP0002", "minimum"),
        ("66172;11711;", "66999;11711;", 12, "CODGEO", "66999"),
        ("66172;11711;", "66136;11711;", 12, "CODGEO", "en double"),
    ],
)
def test_pop_age_bad_values(
    formats_ctx_66: ImportContext, tmp_path: Path, old: str, new: str, row: int, column: str, message: str
) -> None:
    path = _variant(tmp_path, old, new)
    with pytest.raises(DataError, match=message) as info:
        import_pop_age(path, formats_ctx_66)
    problem = info.value.problems[0]
    assert (problem.row, problem.column) == (row, column)


def test_pop_age_html_page(formats_ctx_66: ImportContext, tmp_path: Path) -> None:
    path = tmp_path / POP.name
    path.write_text("<html><head><title>insee.fr</title></head><body>Page introuvable</body></html>", encoding="utf-8")
    with pytest.raises(DataError, match="page HTML"):
        import_pop_age(path, formats_ctx_66)
