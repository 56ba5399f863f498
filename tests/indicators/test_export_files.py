"""Every table export travels with its sources, « Données fictives », rounded values and states as text.

The files are written, then read back the way a user or a program would (CSV comment rows, XLSX sheets).
"""

from __future__ import annotations

import io
import math
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest

from geodata.manifest import Provenance
from geodata.numbers import MISSING_TEXT, SECRET_TEXT
from indicators.export import (
    CELLS_LINE,
    SOURCES_SHEET,
    XLSX_HEADER_ROW,
    ExportTable,
    indicator_table,
    rounded,
    table_csv,
    table_xlsx,
    write_indicator_csv,
)
from indicators.registry import REGISTRY
from indicators.targets import TargetFilter, compute_targets, write_targets_csv

STATES = {SECRET_TEXT, MISSING_TEXT}


def _comment_lines(text: str) -> list[str]:
    return [line for line in text.lstrip("\ufeff").splitlines() if line.startswith("#")]


def _decimals_of(text: str, decimal: str) -> int:
    return len(text.split(decimal)[1]) if decimal in text else 0


def test_rounded_cells():
    assert rounded(7.666472579634642, "valeur", 1) == 7.7
    assert rounded(118.0, "valeur", 0) == 118 and isinstance(rounded(118.0, "valeur", 0), int)
    assert rounded(-0.04, "valeur", 1) == 0.0 and math.copysign(1, rounded(-0.04, "valeur", 1)) == 1
    assert rounded(12.0, "secret", 1) == SECRET_TEXT
    assert rounded(None, "nd", 1) == MISSING_TEXT
    assert rounded(float("nan"), "valeur", 1) == MISSING_TEXT


def test_cli_csv_reads_back_with_sources_and_rounded_values(ind, tmp_path):
    path = tmp_path / "communes.csv"
    write_indicator_csv(ind, "commune", path)
    text = path.read_text(encoding="utf-8")
    comments = _comment_lines(text)
    assert text.startswith("# Données fictives")
    assert "# - caf_eaje — test — millésime 2024 — licence LO 2.0 — DONNÉES FICTIVES" in comments
    assert any(line.startswith("# - ") and "millésime" in line and "FICTIVES" not in line for line in comments)
    assert comments[-1] == f"# {CELLS_LINE}"
    back = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False).set_index("Code")
    assert len(back) == len(ind.commune.values)
    assert not [c for c in back.columns if c.endswith("état")]
    assert back.at["66003", "Niveau de vie médian (€)"] == SECRET_TEXT
    assert back.at["66001", "Distance à l'ALSH le plus proche (km)"] == MISSING_TEXT
    checked = 0
    for key, spec in REGISTRY.items():
        if spec.kind != "numeric":
            continue
        column = next(c for c in back.columns if c.startswith(spec.label))
        for cell in back[column]:
            if cell in STATES:
                continue
            float(cell)  # a number, not text
            assert _decimals_of(cell, ".") <= spec.decimals, (key, cell)
            checked += 1
    assert checked > 50
    population = next(c for c in back.columns if c.startswith("Population municipale"))
    assert all("." not in cell for cell in back[population] if cell not in STATES)


def test_cli_xlsx_has_a_header_line_and_a_sources_sheet(ind, tmp_path):
    path = tmp_path / "communes.xlsx"
    write_indicator_csv(ind, "epci", path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["EPCI", SOURCES_SHEET]
    first = book["EPCI"]
    assert first["A1"].value.startswith("Données fictives — ")
    assert "feuille « Sources »" in first["A1"].value
    frame = pd.read_excel(path, sheet_name="EPCI", header=XLSX_HEADER_ROW)
    assert list(frame.columns) == list(indicator_table(ind, "epci").columns)
    assert len(frame) == len(ind.epci.values)
    sources = [[c.value for c in row] for row in book[SOURCES_SHEET].iter_rows()]
    assert sources[0][0].startswith("Données fictives")
    listed = {row[0]: row for row in sources if row and row[0] in ind.layer_info.keys() | {"caf_eaje"}}
    assert listed["caf_eaje"][2] == "2024" and listed["caf_eaje"][4] == "oui"
    assert len(listed) >= len([k for k in ind.layer_info if k != "communes"])
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"


def _table(synthetic: bool, title: str = "Essai") -> ExportTable:
    frame = pd.DataFrame({"Nom": ["=1+1", "Perpignan"], "Valeur (km)": [7.7, SECRET_TEXT]})
    sources = (
        Provenance(id="a", title='=HYPERLINK("http://x")', publisher="Éditeur ; test", vintage="2023"),
        Provenance(id="b", title="Couche b", vintage=""),
    )
    return ExportTable(frame, title, sources, synthetic, "Feuille", {"Valeur (km)": 1})


def test_real_data_never_say_fictitious_and_hostile_sources_stay_text():
    text = table_csv(_table(False), excel=True)
    assert "fictiv" not in text.lower()
    lines = text.lstrip("\ufeff").splitlines()
    comments = _comment_lines(text)
    assert all(line.count(";") == 0 for line in comments)  # one cell each in a French spreadsheet
    assert "# - =HYPERLINK('http://x') — Éditeur , test — millésime 2023" in comments
    assert "# - Couche b — millésime non précisé" in comments
    body = pd.read_csv(io.StringIO("\n".join(lines)), sep=";", decimal=",", comment="#", dtype=str)
    assert list(body["Nom"]) == ["'=1+1", "Perpignan"]
    assert list(body["Valeur (km)"]) == ["7,7", SECRET_TEXT]
    book = openpyxl.load_workbook(io.BytesIO(table_xlsx(_table(False))))
    assert book["Feuille"]["A1"].value.startswith("Essai — ")
    assert book[SOURCES_SHEET]["A1"].value == "Essai"
    assert book[SOURCES_SHEET]["A4"].value == '\'=HYPERLINK("http://x")'
    assert book["Feuille"].cell(XLSX_HEADER_ROW + 2, 2).number_format == "#,##0.0"
    cells = [str(c.value).lower() for s in book.worksheets for r in s.iter_rows(min_row=4) for c in r]
    assert not any("fictiv" in text for text in cells)  # the Sources column « Données fictives » is on row 3
    assert [c.value for c in book[SOURCES_SHEET]["E"]][3:] == ["non", "non"]


def test_fictitious_table_says_so_first():
    text = table_csv(_table(True), excel=False)
    assert text.splitlines()[0].startswith("# Données fictives")
    assert text.splitlines()[1] == "# Essai"
    book = openpyxl.load_workbook(io.BytesIO(table_xlsx(_table(True))))
    assert book["Feuille"]["A1"].value.startswith("Données fictives — Essai")
    assert book[SOURCES_SHEET]["A1"].value.startswith("Données fictives")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_cli_targets_carry_sources(ind, tmp_path, suffix):
    filt = replace(TargetFilter.default(ind), niveaux=("P1 prioritaire", "P2 à renforcer", "P3 vigilance"))
    targets = compute_targets(ind, filt)
    path = tmp_path / f"cibles{suffix}"
    write_targets_csv(ind, targets, filt, path)
    if suffix == ".csv":
        text = path.read_text(encoding="utf-8-sig")
        assert text.startswith("# Données fictives")
        assert any("caf_eaje — test — millésime 2024" in line for line in _comment_lines(text))
        frame = pd.read_csv(path, sep=";", comment="#", dtype=str, encoding="utf-8-sig")
    else:
        book = openpyxl.load_workbook(path)
        assert book.sheetnames == ["Communes à cibler", SOURCES_SHEET]
        frame = pd.read_excel(path, header=XLSX_HEADER_ROW, dtype=str)
    assert frame.columns[0] == "Rang"
    assert len(frame) == len(targets.table)
