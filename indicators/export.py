"""Indicator tables for people and machines, and the one way every table export is written (CSV and XLSX).

Every table export — the commune table and the « communes à cibler » of the map page, ``ctg-carto export
indicators`` and ``ctg-carto export cibles`` — is an :class:`ExportTable` written by :func:`table_csv` or
:func:`table_xlsx`, so each file travels with what a reader needs to trust it:

- **Données fictives**: when any input is fictitious, the first line says so (and every row, in an
  ``Avertissement`` column);
- **sources**: every layer with its publisher, vintage and licence;
- **values** rounded to each indicator's precision (registry ``decimals``: ``7,7`` km, ``118`` inhabitants);
- **secret / non disponible** written as text in the value cell itself (« secret statistique », « non disponible »),
  never in an extra column; every other cell of a numeric column is a number (zero included);
- **no formula**: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is prefixed with ``'``.

Where the sources go (documented in the README and the Aide page):

- **CSV**: *leading comment rows*. The file starts with lines beginning with ``#`` (« # Données fictives … »,
  « # Sources : », one line per source), then the header row, then the table. A spreadsheet shows them as the
  first lines; a program skips them (``pandas.read_csv(path, comment="#")`` or skip the lines starting with ``#``).
  Chosen over a sidecar file because a download from the map is one file, and a sidecar gets lost when a file is
  e-mailed. ``excel=True`` (the map's downloads, ``--excel``): UTF-8 with BOM, ``;`` separator and decimal comma,
  which French Excel opens directly; ``excel=False`` (machines): UTF-8, ``,`` and ``.``.
- **XLSX**: the first sheet starts with a header line (« Données fictives — … », the title, « Sources : voir la
  feuille Sources »), a blank line, then the table (read it with ``pandas.read_excel(path, header=3)``); a second
  sheet « Sources » lists every source with its vintage, and « Données fictives » when any is fictitious.

The command line also writes the parameters and the barème used beside the file, in ``<file>.parametres.json``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geodata.manifest import Provenance
from geodata.numbers import MISSING_TEXT, SECRET_TEXT, STATE_SECRET, STATE_VALUE
from indicators.compute import Indicators
from indicators.indicator import NOTE_COMMUNAL
from indicators.registry import REGISTRY

SYNTHETIC_MARK = "Données fictives"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LEVEL_NAMES = {"commune": "Commune", "epci": "EPCI", "departement": "Département", "france": "France"}
COMMENT = "#"
"""First character of the leading comment rows of a CSV export."""
FICTITIOUS_LINE = (
    "Données fictives : au moins une source de ce fichier est fictive (démonstration) ; "
    "ne pas diffuser ces chiffres comme réels."
)
CELLS_LINE = (
    f"Cellules : « {SECRET_TEXT} » = valeur couverte par le secret statistique ; « {MISSING_TEXT} » = donnée "
    "absente ou non calculable ; nombres arrondis à la précision de chaque indicateur."
)
SOURCES_SHEET = "Sources"
XLSX_HEADER_ROW = 3
"""0-based row of the table's header in the first XLSX sheet (``pandas.read_excel(path, header=3)``)."""
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(text: str) -> str:
    """Prefix ``'`` to a text cell a spreadsheet would run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def header(indicator_id: str) -> str:
    """French column header with the unit: « Places en EAJE (places) »."""
    ind = REGISTRY[indicator_id]
    return f"{ind.label} ({ind.unit})" if ind.unit else ind.label


def rounded(value: Any, state: str, decimals: int) -> float | int | str:
    """A statistic as an export cell: rounded to its precision (an ``int`` when ``decimals`` is 0, so « 118 » and
    never « 118,0 »), or its state as text when it is not a real value (« secret statistique », « non disponible »).
    """
    if state == STATE_SECRET:
        return SECRET_TEXT
    if state != STATE_VALUE or value is None:
        return MISSING_TEXT
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return MISSING_TEXT
    if decimals <= 0:
        return round(number)
    return round(number, decimals) + 0.0  # + 0.0: never « -0,0 »


@dataclass(frozen=True)
class ExportTable:
    """A table ready to be written: cells final (numbers rounded, states as text), with what must travel with it."""

    frame: pd.DataFrame
    title: str
    """What the table is (« Communes du département 66 — EPCI … »): the header line of the file."""
    sources: tuple[Provenance, ...] = ()
    synthetic: bool = False
    sheet: str = "Table"
    decimals: Mapping[str, int] = field(default_factory=dict)
    """Column → decimals of its numbers (the XLSX number format; the values themselves are already rounded)."""


def ordered_sources(layer_info: Mapping[str, Provenance]) -> tuple[Provenance, ...]:
    """The commune base first, then every layer: the sources an export of these indicators names."""
    base = [info for key, info in layer_info.items() if key == "communes"]
    return (*base, *(info for key, info in layer_info.items() if key != "communes"))


def source_line(src: Provenance) -> str:
    """« Titre — éditeur — millésime 2023 — licence Licence Ouverte 2.0 » (« — DONNÉES FICTIVES » when so)."""
    parts = [src.label, *([src.publisher] if src.publisher else [])]
    parts.append(f"millésime {src.vintage}" if src.vintage else "millésime non précisé")
    if src.licence:
        parts.append(f"licence {src.licence}")
    return " — ".join(parts) + (" — DONNÉES FICTIVES" if src.synthetic else "")


def preamble(table: ExportTable) -> list[str]:
    """The lines a CSV export starts with: « Données fictives » first when so, the title, the sources, the cells."""
    lines = [FICTITIOUS_LINE] if table.synthetic else []
    lines += [table.title, "Sources (éditeur, millésime, licence) :"]
    lines += [f"- {source_line(src)}" for src in table.sources] or ["- aucune source déclarée"]
    return [*lines, CELLS_LINE]


def _text(value: object) -> str:
    """Data text for a cell: control characters dropped (a spreadsheet refuses them), formula-safe."""
    return neutralise(_ILLEGAL_XLSX.sub("", str(value)))


def _cell(value: object, excel: bool) -> str:
    """One CSV cell: numbers in the file's dialect (decimal comma when ``excel``), text formula-safe."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        text = f"{number:.0f}" if number.is_integer() else repr(number)
        return text.replace(".", ",") if excel else text
    return _text(value)


def table_csv(table: ExportTable, *, excel: bool = True) -> str:
    """The table as CSV text: leading comment rows (``#``: fictitious data, title, sources), then the table.

    ``excel``: UTF-8 BOM first, ``;`` separator and decimal comma (French spreadsheets); else ``,`` and ``.``.
    A comment row never holds a quote (nor, for a spreadsheet, the « ; »), so every reader skips it whole.
    """
    sep = ";" if excel else ","
    buffer = io.StringIO()
    for line in preamble(table):
        clean = _ILLEGAL_XLSX.sub("", line).replace("\n", " ").replace("\r", " ").replace('"', "'")
        buffer.write(f"{COMMENT} {clean.replace(';', ',') if excel else clean}\n")
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow([_text(c) for c in table.frame.columns])
    for row in table.frame.itertuples(index=False):
        writer.writerow([_cell(v, excel) for v in row])
    return ("\ufeff" if excel else "") + buffer.getvalue()


def _xlsx_value(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    return _text(value)


def _number_format(decimals: int) -> str:
    return "#,##0" if decimals <= 0 else "#,##0." + "0" * decimals


def table_xlsx(table: ExportTable) -> bytes:
    """The table as XLSX: a first sheet with a header line (« Données fictives », title, where the sources are)
    above the table (header on row 4), and a sheet « Sources » listing every source with its vintage."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = table.sheet[:31]
    warning = f"{SYNTHETIC_MARK} — " if table.synthetic else ""
    sheet.append([_text(f"{warning}{table.title} — sources et millésimes : feuille « {SOURCES_SHEET} »")])
    sheet.append([_text(CELLS_LINE)])
    sheet.append([])
    sheet["A1"].font = Font(bold=True, color="B00020" if table.synthetic else "000000")
    sheet.append([_text(c) for c in table.frame.columns])
    for cell in sheet[XLSX_HEADER_ROW + 1]:
        cell.font = Font(bold=True)
    for row in table.frame.itertuples(index=False):
        sheet.append([_xlsx_value(v) for v in row])
    for j, name in enumerate(table.frame.columns, start=1):
        letter = get_column_letter(j)
        sheet.column_dimensions[letter].width = min(max(len(str(name)), 10) + 2, 48)
        if name in table.decimals:
            fmt = _number_format(table.decimals[name])
            for (cell,) in sheet.iter_rows(min_row=XLSX_HEADER_ROW + 2, min_col=j, max_col=j):
                if isinstance(cell.value, int | float):
                    cell.number_format = fmt
    sheet.freeze_panes = f"A{XLSX_HEADER_ROW + 2}"

    sources = book.create_sheet(SOURCES_SHEET)
    if table.synthetic:
        sources.append([FICTITIOUS_LINE])
        sources["A1"].font = Font(bold=True, color="B00020")
    sources.append([_text(table.title)])
    sources.append([])
    sources.append(["Source", "Éditeur", "Millésime", "Licence", SYNTHETIC_MARK, "Page"])
    for src in table.sources:
        sources.append(
            [_text(v) for v in (src.label, src.publisher, src.vintage or "non précisé", src.licence)]
            + ["oui" if src.synthetic else "non", _text(src.page_url)]
        )
    for letter, width in zip("ABCDEF", (48, 32, 16, 28, 16, 48), strict=True):
        sources.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def indicator_table(ind: Indicators, level: str) -> pd.DataFrame:
    """One row per territory of ``level``: code, name, every indicator (rounded, states as text), remarks, warning."""
    result = ind.level(level)
    index = result.values.index
    names = ind.names.get(level, pd.Series(dtype=object)).reindex(index).fillna("")
    data: dict[str, list[Any]] = {
        "Code": [neutralise(str(c)) for c in index],
        "Nom": [neutralise(str(n)) for n in names],
    }
    remarks: list[list[str]] = [[] for _ in index]
    for key, spec in REGISTRY.items():
        values, states, notes = result.values[key], result.states[key], result.notes[key]
        column: list[Any] = []
        for i, (v, s, n) in enumerate(zip(values, states, notes, strict=True)):
            if spec.kind == "numeric" or s != STATE_VALUE:
                column.append(rounded(v, str(s), spec.decimals))
            else:
                column.append(neutralise(str(v)))
            if n and n != NOTE_COMMUNAL:
                remarks[i].append(f"{spec.label} : {n}")
        data[_title(key, ind)] = column
    data["Remarques"] = [neutralise(" | ".join(r)) for r in remarks]
    if ind.synthetic:
        data["Avertissement"] = [SYNTHETIC_MARK] * len(index)
    return pd.DataFrame(data)


def _title(key: str, ind: Indicators) -> str:
    title = header(key)
    if key == "population":
        return f"{title[:-1]}, {ind.population_label})"  # « Population municipale (habitants, population 2023) »
    return title


def indicator_export(ind: Indicators, level: str) -> ExportTable:
    """The indicator table of ``level`` with its title, sources, fictitious flag and each column's precision."""
    return ExportTable(
        frame=indicator_table(ind, level),
        title=f"Indicateurs par {LEVEL_NAMES[level].lower()} (ctg-carto)",
        sources=ordered_sources(ind.layer_info),
        synthetic=ind.synthetic,
        sheet=LEVEL_NAMES[level],
        decimals={_title(k, ind): spec.decimals for k, spec in REGISTRY.items() if spec.kind == "numeric"},
    )


def write_table(table: ExportTable, path: Path, *, excel: bool = False) -> None:
    """Write ``table`` to ``path``: XLSX when the name ends in ``.xlsx``, else CSV (see the module docstring)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(table_xlsx(table))
    else:
        path.write_text(table_csv(table, excel=excel), encoding="utf-8", newline="")


def sidecar_path(path: Path) -> Path:
    """``<file>.parametres.json`` beside an exported file."""
    return Path(path).with_name(Path(path).stem + ".parametres.json")


def write_indicator_csv(ind: Indicators, level: str, path: Path, *, excel: bool = False) -> None:
    """Write the table of ``level`` (CSV, or XLSX when ``path`` ends in ``.xlsx``), plus the sidecar
    ``<file>.parametres.json`` (parameters, barème, encoding, synthetic flag). ``excel=True``: ``;`` separator,
    decimal comma, UTF-8 with BOM."""
    path = Path(path)
    write_table(indicator_export(ind, level), path, excel=excel)
    sidecar = {
        "fichier": path.name,
        "niveau": LEVEL_NAMES[level],
        "donnees_fictives": ind.synthetic,
        "sources": [source_line(src) for src in ordered_sources(ind.layer_info)],
        "encodage": {
            "lignes_de_commentaire": f"les premières lignes commencent par « {COMMENT} » (CSV)",
            "non_disponible": MISSING_TEXT,
            "secret": SECRET_TEXT,
            "separateur": ";" if excel else ",",
            "decimale": "," if excel else ".",
        },
        "parametres": ind.params.to_dict(),
        "methodes": dict(ind.rules),
    }
    sidecar_path(path).write_text(json.dumps(sidecar, ensure_ascii=False, indent=2), encoding="utf-8")
