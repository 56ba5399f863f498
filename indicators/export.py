"""Indicator tables for people and machines: one row per territory, code first, French headers with units.

Cell encoding (documented for users in the sidecar and the app):
- empty cell = non disponible (« nd »: input absent, not published, or not computable);
- ``secret`` = secret statistique;
- a number (zero included) = a real value; category indicators hold their French label.

CSV variants: ``excel=False`` (default, for machines) is UTF-8, ``,`` separator and ``.`` decimal;
``excel=True`` is UTF-8 with BOM, ``;`` separator and decimal comma, which French Excel opens directly.

The parameters and the barème used are written beside the CSV in a sidecar ``<file>.parametres.json`` (chosen over
a commented header block so the CSV stays a plain table every tool reads). Text cells starting with ``=``, ``+``,
``-`` or ``@`` are prefixed with ``'`` so a spreadsheet never runs them as formulas; numbers stay numbers.
When any input is synthetic, every row carries « Données fictives » in an ``Avertissement`` column.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from indicators.compute import Indicators
from indicators.indicator import NOTE_COMMUNAL
from indicators.registry import REGISTRY
from indicators.table import SECRET, VALUE

SYNTHETIC_MARK = "Données fictives"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LEVEL_NAMES = {"commune": "Commune", "epci": "EPCI", "departement": "Département", "france": "France"}


def neutralise(text: str) -> str:
    """Prefix ``'`` to a text cell a spreadsheet would run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def header(indicator_id: str) -> str:
    """French column header with the unit: « Places en EAJE (places) »."""
    ind = REGISTRY[indicator_id]
    return f"{ind.label} ({ind.unit})" if ind.unit else ind.label


def indicator_table(ind: Indicators, level: str) -> pd.DataFrame:
    """One row per territory of ``level``: code, name, every indicator (states encoded), remarks, warning."""
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
        column: list[str | float | None] = []
        for i, (v, s, n) in enumerate(zip(values, states, notes, strict=True)):
            if s == SECRET:
                column.append("secret")
            elif s != VALUE:
                column.append(None)
            elif spec.kind == "numeric":
                column.append(round(float(v), spec.decimals) if spec.decimals else float(round(float(v))))
            else:
                column.append(neutralise(str(v)))
            if n and n != NOTE_COMMUNAL:
                remarks[i].append(f"{spec.label} : {n}")
        title = header(key)
        if key == "population":
            title = f"{title[:-1]}, {ind.population_label})"  # « Population municipale (habitants, population 2023) »
        data[title] = column
    data["Remarques"] = [neutralise(" | ".join(r)) for r in remarks]
    if ind.synthetic:
        data["Avertissement"] = [SYNTHETIC_MARK] * len(index)
    return pd.DataFrame(data)


def _cell(value: object, excel: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        text = f"{value:.0f}" if value.is_integer() else repr(value)
        return text.replace(".", ",") if excel else text
    return str(value)


def write_indicator_csv(ind: Indicators, level: str, path: Path, *, excel: bool = False) -> None:
    """Write the table of ``level`` as CSV, plus the sidecar ``<file>.parametres.json`` (parameters, barème,
    encoding, synthetic flag). ``excel=True``: ``;`` separator, decimal comma, UTF-8 with BOM."""
    path = Path(path)
    table = indicator_table(ind, level)
    with path.open("w", encoding="utf-8-sig" if excel else "utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";" if excel else ",", lineterminator="\n")
        writer.writerow(table.columns)
        for row in table.itertuples(index=False):
            writer.writerow([_cell(v, excel) for v in row])
    sidecar = {
        "fichier": path.name,
        "niveau": LEVEL_NAMES[level],
        "donnees_fictives": ind.synthetic,
        "encodage": {
            "cellule_vide": "non disponible",
            "secret": "secret statistique",
            "separateur": ";" if excel else ",",
            "decimale": "," if excel else ".",
        },
        "parametres": ind.params.to_dict(),
        "methodes": dict(ind.rules),
    }
    sidecar_path = path.with_name(path.stem + ".parametres.json")
    sidecar_path.write_text(json.dumps(sidecar, ensure_ascii=False, indent=2), encoding="utf-8")
