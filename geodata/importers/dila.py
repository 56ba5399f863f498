"""DILA Service-Public.fr annuaire (2016 copy) → layer ``dila_annuaire_2016`` (points).

Columns: ``id``, ``type`` (caf, pif, cpam, msa, …), ``nom``, ``code_commune``, ``adresse`` (physical address,
``geo.address_searched``; the ``writeAddress.*`` postal address is only a fallback), ``telephone``, ``mise_a_jour``
(ISO date of the entry), ``lon``, ``lat``, geometry. Vintage 2016: offices may have moved or closed since.
"""

from __future__ import annotations

import re
from pathlib import Path

from geodata.errors import DataError, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.importers._common import build_points, check_unique, cut_departement, select
from geodata.readers import LINE, check_codes, read_table

COLUMNS = (
    "id",
    "type",
    "nom",
    "code_commune",
    "adresse",
    "telephone",
    "mise_a_jour",
    "position",
    "lon",
    "lat",
    "geometry",
)
"""``position``: "" where the DILA's own point is kept, else why and where the point was moved (shown to users)."""
REQUIRED = ("id", "type", "nom", "codeinsee", "latitude", "longitude", "update")
OPTIONAL = (
    "contact_phone",
    "geo.address_searched",
    "writeAddress.streetAddress",
    "writeAddress.postalCode",
    "writeAddress.addressLocality",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def import_dila_annuaire(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the 2016 annuaire offices of the territory (CAF, PIF, CPAM, MSA, …).

    Raises:
        DataError: missing column, unknown commune code, repeated ``id``, bad coordinates or ``update`` date.
    """
    file = path.name
    warnings: list[Problem] = []
    df = read_table(path, REQUIRED, optional=OPTIONAL, warnings=warnings)
    for column in OPTIONAL:
        if column not in df.columns:
            df[column] = ""
    df = cut_departement(df, "codeinsee", ctx, file)
    codes = check_codes(df, "codeinsee", file, ctx.commune_codes, unique=False, departement=ctx.departement)
    check_unique(df, "id", file)
    bad_dates = df[~df["update"].str.match(_DATE)]
    if len(bad_dates):
        raise DataError(
            [
                Problem(
                    file,
                    f"date « {row['update']} » illisible (AAAA-MM-JJ attendu)",
                    row=int(row[LINE]),
                    column="update",
                )
                for _, row in bad_dates.head(50).iterrows()
            ]
        )
    # Some 2016 entries were geocoded in another département (same street name): keep them at the town hall.
    gdf = build_points(
        df, file, ctx, lon_column="longitude", lat_column="latitude", code_column="codeinsee", warnings=warnings
    )
    postal = [
        " ".join(
            p
            for p in (
                r["writeAddress.streetAddress"].split(" | ")[-1],
                r["writeAddress.postalCode"],
                r["writeAddress.addressLocality"],
            )
            if p
        )
        for r in df.to_dict("records")
    ]
    physical = df["geo.address_searched"].tolist()
    gdf = gdf.assign(
        code_commune=codes.to_numpy(),
        adresse=[p or q for p, q in zip(physical, postal, strict=True)],
        telephone=df["contact_phone"].to_numpy(),
        mise_a_jour=df["update"].to_numpy(),
    )
    counts = df["type"].value_counts()
    notes = [
        "annuaire Service-Public.fr de 2016 (ancien) : adresses à vérifier avant tout usage",
        "types : " + ", ".join(f"{t} {n}" for t, n in counts.items()),
    ]
    return LayerResult(
        "dila_annuaire_2016", select(gdf, COLUMNS), "dila_annuaire_2016", [path], warnings=warnings, notes=notes
    )
