"""The tables as files: the communes of the selection (CSV for French spreadsheets, XLSX) and the communes à cibler.

Written by :mod:`indicators.export` like every table export: « Données fictives » and the sources with their vintages
at the top (comment rows in the CSV; a header line and a « Sources » sheet in the XLSX), values rounded to each
indicator's precision, « secret statistique » / « non disponible » as text in the value cell, no cell that a
spreadsheet would run as a formula.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from dashboard.core.model import DashboardModel, IndicatorColumn
from dashboard.core.targets import TargetRows
from geodata.manifest import Provenance
from geodata.numbers import STATE_MISSING, STATE_VALUE
from indicators.export import SYNTHETIC_MARK, ExportTable, neutralise, rounded, table_csv, table_xlsx
from indicators.targets import Targets, targets_export


def _header(col: IndicatorColumn) -> str:
    return f"{col.meta.label} ({col.meta.unit})" if col.meta.unit else col.meta.label


def _cells(col: IndicatorColumn, mask: np.ndarray) -> list[Any]:
    """One indicator's cells for the selection: rounded numbers, category labels, or the state as text."""
    kind, decimals = col.meta.kind, col.meta.decimals
    out: list[Any] = []
    for value, state, keep in zip(col.values, col.states, mask, strict=True):
        if not keep:
            continue
        if kind == "numeric" or state != STATE_VALUE:
            out.append(rounded(value, state, decimals))
        else:
            out.append(neutralise(str(value)))
    return out


def export_frame(model: DashboardModel, epci: str) -> pd.DataFrame:
    """Every available indicator for the communes of the selection, French headers, final cells."""
    mask = model.mask(epci)
    data: dict[str, list[Any]] = {
        "Code commune": [c for c, k in zip(model.codes, mask, strict=True) if k],
        "Commune": [neutralise(n) for n, k in zip(model.names, mask, strict=True) if k],
        "EPCI": [neutralise(model.epci_names.get(e, e)) for e, k in zip(model.epci_codes, mask, strict=True) if k],
        f"Population ({model.population_label})": [
            rounded(p, STATE_MISSING if math.isnan(p) else STATE_VALUE, 0)
            for p, k in zip(model.population, mask, strict=True)
            if k
        ],
    }
    if any(model.parents):
        data["Commune (arrondissements municipaux)"] = [p for p, k in zip(model.parents, mask, strict=True) if k]
    for col in (*model.columns.values(), *getattr(model, "companions", {}).values()):
        data[_header(col)] = _cells(col, mask)
    for ind_id, texts in model.texts.items():
        data[model.registry[ind_id].label] = [neutralise(t) for t, k in zip(texts, mask, strict=True) if k]
    if model.synthetic:
        data["Avertissement"] = [SYNTHETIC_MARK] * int(np.sum(mask))
    return pd.DataFrame(data)


def export_table(model: DashboardModel, epci: str) -> ExportTable:
    """The selection as an export: its table, title, sources with vintages, fictitious flag, columns' precision."""
    columns = (*model.columns.values(), *getattr(model, "companions", {}).values())
    where = f"EPCI {model.epci_names.get(epci, epci)}" if epci else f"département {model.departement}"
    return ExportTable(
        frame=export_frame(model, epci),
        title=f"Communes — {where} — carte des services aux familles (ctg-carto)",
        sources=tuple(model.sources),
        synthetic=model.synthetic,
        sheet="Communes",
        decimals={
            f"Population ({model.population_label})": 0,
            **{_header(c): c.meta.decimals for c in columns if c.meta.kind == "numeric"},
        },
    )


def export_bytes(model: DashboardModel, epci: str, kind: str) -> tuple[bytes, str]:
    """CSV (« ; », decimal comma, UTF-8 with BOM for Excel) or XLSX of the selection, and its file name."""
    table = export_table(model, epci)
    stem = f"communes_{model.departement}" + (f"_epci_{epci}" if epci else "")
    if kind == "xlsx":
        return table_xlsx(table), f"{stem}.xlsx"
    return table_csv(table, excel=True).encode("utf-8"), f"{stem}.csv"


def targets_download(rows: TargetRows, targets: Targets, sources: tuple[Provenance, ...] = ()) -> str:
    """The CSV text the « Exporter la liste » button sends (French spreadsheet dialect, sources, formula-safe)."""
    return table_csv(targets_export(targets, rows.synthetic, sources), excel=True)
