"""The tables as files: the communes of the selection (CSV for French spreadsheets, XLSX) and the communes à cibler.

Every text cell that a spreadsheet would run as a formula is neutralised (:func:`neutralise`); fictitious data say
« Données fictives » in a column of their own.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pandas as pd

from dashboard.core.model import DashboardModel
from dashboard.core.targets import TargetRows
from indicators.targets import Targets, targets_csv

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula (``= + - @``, tab, CR) with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_frame(model: DashboardModel, epci: str) -> pd.DataFrame:
    """Every available indicator for the communes of the selection, French headers, formula-safe text cells."""
    mask = model.mask(epci)
    data: dict[str, list[Any]] = {
        "Code commune": [c for c, k in zip(model.codes, mask, strict=True) if k],
        "Commune": [n for n, k in zip(model.names, mask, strict=True) if k],
        "EPCI": [model.epci_names.get(e, e) for e, k in zip(model.epci_codes, mask, strict=True) if k],
        f"Population ({model.population_label})": [
            None if math.isnan(p) else p for p, k in zip(model.population, mask, strict=True) if k
        ],
    }
    if any(model.parents):
        data["Commune (arrondissements municipaux)"] = [p for p, k in zip(model.parents, mask, strict=True) if k]
    for col in (*model.columns.values(), *getattr(model, "companions", {}).values()):
        header = f"{col.meta.label} ({col.meta.unit})" if col.meta.unit else col.meta.label
        values = [v if s == "valeur" else None for v, s, k in zip(col.values, col.states, mask, strict=True) if k]
        data[header] = values
        data[f"{header} : état"] = [s for s, k in zip(col.states, mask, strict=True) if k]
    for ind_id, texts in model.texts.items():
        data[model.registry[ind_id].label] = [t for t, k in zip(texts, mask, strict=True) if k]
    if model.synthetic:
        data["Avertissement"] = ["Données fictives"] * int(np.sum(mask))
    df = pd.DataFrame(data)
    for name in df.columns:
        if df[name].dtype == object or pd.api.types.is_string_dtype(df[name]):
            df[name] = df[name].map(neutralise)
    return df


def export_bytes(model: DashboardModel, epci: str, kind: str) -> tuple[bytes, str]:
    """CSV (« ; », decimal comma, UTF-8 with BOM for Excel) or XLSX of the selection, and its file name."""
    df = export_frame(model, epci)
    stem = f"communes_{model.departement}" + (f"_epci_{epci}" if epci else "")
    if kind == "xlsx":
        buffer = io.BytesIO()
        df.to_excel(buffer, index=False, sheet_name="Communes")
        return buffer.getvalue(), f"{stem}.xlsx"
    text = df.to_csv(index=False, sep=";", decimal=",")
    return ("\ufeff" + text).encode("utf-8"), f"{stem}.csv"


def targets_download(rows: TargetRows, targets: Targets) -> str:
    """The CSV text the « Exporter la liste » button sends (French spreadsheet dialect, formula-safe)."""
    return "\ufeff" + targets_csv(targets, rows.synthetic, excel=True)
