"""CAF extracts → bundle layers: the validated columns as a table, the extraction date, the catalogue entries.

Also what the CLI ``data check`` and the upload page use: which template a file is (:func:`detect_template`)
and every problem of a file without importing it (:func:`check_caf_file`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.caf.templates import (
    ACCUEILS,
    ALSH,
    CAF_LIMITS,
    CENTRES_SOCIAUX,
    CTG,
    DATE_FILE,
    DEMANDE,
    EAJE,
    GEO_COORDS,
    GEO_TOWN_HALL,
    GUIDE,
    PUBLISHER,
    SYNTHETIC_MARKER,
    TEMPLATES,
    TEMPLATES_DIR,
    Column,
    Template,
)
from geodata.caf.validation import DATE_IN_NAME, _Checked, _Validator, norm_text, parse_date, read_extract
from geodata.catalogue_types import Source
from geodata.crs import WGS84
from geodata.errors import DataError, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.readers import LINE, read_table

# ---------------------------------------------------------------------------------------------------------------
# Output tables
# ---------------------------------------------------------------------------------------------------------------


def _build_table(template: Template, checked: _Checked, ctx: ImportContext) -> pd.DataFrame:
    values = checked.values
    n = len(checked.lines)
    data: dict[str, object] = {}
    if template.points:
        halls = ctx.communes.set_index("code")
        lon = np.array(values["lon"], dtype=float)
        lat = np.array(values["lat"], dtype=float)
        given = ~(np.isnan(lon) | np.isnan(lat))
        codes = values["code_commune"]
        for i in np.flatnonzero(~given):
            lon[i] = float(halls.at[codes[i], "mairie_lon"])
            lat[i] = float(halls.at[codes[i], "mairie_lat"])
        values = {**values, "lon": lon.tolist(), "lat": lat.tolist()}
        values["geolocalisation"] = [GEO_COORDS if g else GEO_TOWN_HALL for g in given]
    for key in template.output:
        column = values[key]
        if key in {"lon", "lat", "enfants_0_2", "enfants_3_10", "taux_couverture"} or key.startswith("places_"):
            data[key] = pd.Series(column, dtype="float64")
        elif key == "places":
            data[key] = _to_int64(column, template.column(key))
        elif key == "psu":
            data[key] = pd.Series(column, dtype="bool")
        else:
            data[key] = pd.Series([str(v) for v in column], dtype="str")
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    if not template.points:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=WGS84)


def _to_int64(values: Sequence[float], column: Column) -> pd.Series:
    """Integer column, refused (never wrapped around) if a value is missing, fractional or beyond its bounds.

    Validation has already refused such values; this is the last guard before the bundle: ``1e20`` cast to int64
    would silently become −9 223 372 036 854 775 808.
    """
    array = np.asarray(values, dtype="float64")
    low, high = (column.bounds.low, column.bounds.high) if column.bounds is not None else (0, 2**53)
    if not (np.isfinite(array).all() and (array == np.round(array)).all() and ((array >= low) & (array <= high)).all()):
        raise ValueError(f"« {column.name} » : valeur non entière ou hors limites après validation")
    return pd.Series(array.astype("int64"))


def extraction_date(path: Path, column_dates: Sequence[date] = ()) -> tuple[str, str] | None:
    """Extraction date of a CAF file (ISO) and where it was read: the column, the file name, ``date_extraction.txt``.

    Why this order: the column travels with the data; the file name is the habit of saving « eaje_2025-03-31.csv »;
    the directory-wide file covers a batch exported on one day.
    """
    if column_dates:
        return max(column_dates).isoformat(), "colonne « Date d'extraction »"
    m = DATE_IN_NAME.search(path.stem)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat(), "nom du fichier"
        except ValueError:
            pass
    side = path.parent / DATE_FILE
    if side.is_file():
        lines = side.read_text(encoding="utf-8-sig", errors="replace").strip().splitlines()
        parsed = parse_date(lines[0]) if lines else None
        if parsed is not None:
            return parsed.isoformat(), DATE_FILE
    return None


def is_synthetic_dir(directory: Path) -> bool:
    """Whether a CAF directory holds the fictitious-data marker (the demo extract)."""
    return (directory / SYNTHETIC_MARKER).is_file()


def _check(template: Template, path: Path, ctx: ImportContext) -> _Checked:
    warnings: list[Problem] = []
    df = read_extract(template, path, warnings)
    checked = _Validator(template, df, path.name, ctx).run()
    checked.problems[:0] = warnings
    order = {name: k for k, name in enumerate(template.headers)}
    # Line by line, then in column order: the adviser fixes the file from top to bottom.
    checked.problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", len(order))))
    return checked


def import_caf_file(template: Template, path: Path, ctx: ImportContext) -> LayerResult:
    """Validate and import one CAF extract of ``template``.

    Raises:
        DataError: every blocking problem of the file at once (line, column, French message, suggestion).
    """
    path = Path(path)
    checked = _check(template, path, ctx)
    if checked.errors:
        raise DataError(checked.errors)
    table = _build_table(template, checked, ctx)
    notes: list[str] = []
    found = extraction_date(path, checked.extraction_dates)
    if found:
        notes.append(f"Date d'extraction : {found[0]} ({found[1]})")
    else:
        notes.append("Date d'extraction inconnue : ajoutez la colonne « Date d'extraction » ou datez le nom du fichier")
    if len(checked.extraction_dates) > 1:
        notes.append("plusieurs dates d'extraction dans le fichier : la plus récente est retenue")
    if template.points:
        n_hall = int((table["geolocalisation"] == GEO_TOWN_HALL).sum())
        if n_hall:
            notes.append(f"{n_hall} structure(s) sans coordonnées placée(s) au point de la mairie")
    synthetic = is_synthetic_dir(path.parent)
    if synthetic:
        notes.append(
            f"Données fictives ({SYNTHETIC_MARKER} présent dans le dossier) : à ne jamais diffuser comme réelles"
        )
    return LayerResult(
        layer_id=template.id,
        table=table,
        source_id=template.id,
        input_files=[path],
        warnings=checked.warnings,
        notes=notes,
        vintage=f"extrait du {_french_date(found[0])}" if found else "date d'extraction inconnue",
        synthetic=synthetic,
    )


def _french_date(iso: str) -> str:
    """``2025-03-31`` → ``31/03/2025`` (how advisers write dates)."""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def import_caf_eaje(path: Path, ctx: ImportContext) -> LayerResult:
    """Crèches (EAJE) extract → ``caf_eaje`` points."""
    return import_caf_file(EAJE, path, ctx)


def import_caf_alsh(path: Path, ctx: ImportContext) -> LayerResult:
    """ALSH extract → ``caf_alsh`` points."""
    return import_caf_file(ALSH, path, ctx)


def import_caf_centres_sociaux(path: Path, ctx: ImportContext) -> LayerResult:
    """Centres sociaux and EVS extract → ``caf_centres_sociaux`` points."""
    return import_caf_file(CENTRES_SOCIAUX, path, ctx)


def import_caf_accueils(path: Path, ctx: ImportContext) -> LayerResult:
    """Caf accueils and permanences → ``caf_accueils`` points."""
    return import_caf_file(ACCUEILS, path, ctx)


def import_caf_ctg(path: Path, ctx: ImportContext) -> LayerResult:
    """CTG status per EPCI or commune → ``caf_ctg`` table."""
    return import_caf_file(CTG, path, ctx)


def import_caf_demande(path: Path, ctx: ImportContext) -> LayerResult:
    """Children covered and commune coverage rates → ``caf_demande`` table (one row per commune)."""
    return import_caf_file(DEMANDE, path, ctx)


# ---------------------------------------------------------------------------------------------------------------
# Template recognition and checking (CLI `data check`, upload page)
# ---------------------------------------------------------------------------------------------------------------


def detect_template(columns: Sequence[str], file_name: str = "") -> Template | None:
    """Template whose columns best match ``columns`` (ties broken by the file name prefix); None if none fits.

    Why by columns: an adviser may name the file anything when uploading it; the header says what it is.
    """
    found = {norm_text(c) for c in columns}
    best: tuple[float, int, Template] | None = None
    for template in TEMPLATES:
        needed = [norm_text(c.name) for c in template.columns if c.present]
        share = sum(n in found for n in needed) / len(needed)
        named = int(Path(file_name).name.lower().startswith(template.stem))
        score = (share, named, template)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None or best[0] < 0.5:
        return None
    return best[2]


def check_caf_file(path: Path, ctx: ImportContext) -> list[Problem]:
    """Every problem of a CAF file (errors and warnings), the template recognised from its header; [] when clean.

    Returns problems instead of raising, for ``ctg-carto data check`` and the upload page.
    """
    path = Path(path)
    try:
        header = read_table(path, limits=CAF_LIMITS)
    except DataError as exc:
        return exc.problems
    template = detect_template([c for c in header.columns if c != LINE], path.name)
    if template is None:
        return [
            Problem(
                path.name,
                "modèle d'extrait Caf non reconnu d'après les en-têtes",
                row=1,
                suggestion=f"partez d'un modèle vierge de {TEMPLATES_DIR} (voir {GUIDE})",
            )
        ]
    try:
        checked = _check(template, path, ctx)
    except DataError as exc:
        return exc.problems
    return checked.problems


def _source(template: Template, importer: str, section: str) -> Source:
    return Source(
        id=template.id,
        title=template.title,
        publisher=PUBLISHER,
        dataset=template.dataset,
        vintage="date d'extraction (colonne « Date d'extraction », nom du fichier ou date_extraction.txt)",
        licence="Données internes de la Caf : diffusion restreinte",
        format="CSV (séparateur « ; », UTF-8) ou XLSX (première feuille)",
        importer=f"geodata.caf.importer:{importer}",
        file_patterns=(f"{template.stem}*.csv", f"{template.stem}*.xlsx"),
        expected_columns=tuple(c.name for c in template.columns if c.present),
        kind="caf",
        howto=(
            f"Remplir le modèle {TEMPLATES_DIR}/{template.id}.xlsx (ou .csv) comme expliqué dans {GUIDE}, "
            f"section « {section} », puis le déposer dans le dossier Caf sous le nom "
            f"{template.stem}_AAAA-MM-JJ.csv (ou .xlsx)."
        ),
        notes=("Modèle vierge et exemple rempli : " + f"{TEMPLATES_DIR}/{template.id}.csv, {template.id}_exemple.csv",),
    )


CAF_SOURCES: list[Source] = [
    _source(EAJE, "import_caf_eaje", "Crèches (EAJE)"),
    _source(ALSH, "import_caf_alsh", "Accueils de loisirs (ALSH)"),
    _source(CENTRES_SOCIAUX, "import_caf_centres_sociaux", "Centres sociaux et EVS"),
    _source(ACCUEILS, "import_caf_accueils", "Accueils et permanences de la Caf"),
    _source(CTG, "import_caf_ctg", "Conventions territoriales globales (CTG)"),
    _source(DEMANDE, "import_caf_demande", "Demande par commune"),
]
"""One catalogue entry per CAF template (``kind="caf"``), looked up in the CAF directory by ``file_patterns``."""
