"""The territory bundle: one validated directory that the indicators and the app read (see docs/bundle.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.crs import WGS84
from geodata.manifest import LayerInfo, Manifest

MANIFEST = "manifest.json"
BUNDLE_FORMAT = 1
"""Bumped when the layout changes; a bundle of another format is refused at load."""


class BundleError(RuntimeError):
    """A bundle on disk is missing, corrupt, truncated or of another format: refuse it with a clear message."""


@dataclass(frozen=True)
class Bundle:
    """A loaded territory bundle. Read-only by convention: callers copy before changing a table."""

    communes: gpd.GeoDataFrame
    epci: gpd.GeoDataFrame
    outline: gpd.GeoDataFrame
    layers: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    manifest: Manifest = field(default_factory=Manifest)
    path: Path | None = None

    @property
    def departement(self) -> str:
        """Département code of the bundle (``"all"`` for the national scale bundle)."""
        return self.manifest.departement or str(self.communes["departement"].iloc[0])

    def layer(self, layer_id: str) -> pd.DataFrame | None:
        """The table of ``layer_id``, or None when the layer is absent from the bundle."""
        return self.layers.get(layer_id)

    def layer_info(self, layer_id: str) -> LayerInfo | None:
        """Manifest entry of a layer (source, publisher, vintage, licence, rows, synthetic…), None when absent."""
        return self.manifest.layer(layer_id)

    def is_synthetic(self, layer_id: str) -> bool:
        """Whether the layer comes from synthetic (demo) input."""
        info = self.manifest.layer(layer_id)
        return info is not None and info.synthetic

    @property
    def synthetic(self) -> bool:
        """True when any layer is synthetic: the app then shows « Données fictives » at all times."""
        return any(self.is_synthetic(layer_id) for layer_id in self.layers)

    @classmethod
    def from_frames(
        cls,
        communes: gpd.GeoDataFrame,
        epci: gpd.GeoDataFrame | None = None,
        outline: gpd.GeoDataFrame | None = None,
        layers: Mapping[str, pd.DataFrame] | None = None,
        manifest: Manifest | Mapping[str, Any] | None = None,
    ) -> Bundle:
        """Assemble a bundle in memory (tests, benchmarks). EPCI and outline are dissolved when not given."""
        if epci is None:
            cols = {"epci_nom": "first", "epci_nature": "first", "population": "sum", "code": "count"}
            epci = communes.dissolve(by="epci_code", aggfunc=cols).reset_index().rename(columns={"code": "n_communes"})
            epci["n_communes_total"] = epci["n_communes"]
            epci["partiel"] = False
        if outline is None:
            outline = communes.dissolve(by="departement", aggfunc={"population": "sum"}).reset_index()
            outline = outline.rename(columns={"departement": "code"})
            outline["nom"] = outline["code"]
        return cls(
            communes=communes,
            epci=epci,
            outline=outline,
            layers=dict(layers or {}),
            manifest=manifest if isinstance(manifest, Manifest) else Manifest.from_json(manifest or {}),
        )


def read_manifest(path: Path) -> Manifest:
    """Read and check ``manifest.json`` of a bundle directory (the only place the manifest is read).

    Raises:
        BundleError: no bundle there, unreadable JSON, or another bundle format.
    """
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(
            f"Aucun bundle de territoire dans {path} (manifest.json absent). "
            "Construisez-le avec « ctg-carto data build » ou indiquez-en un avec --bundle / CTG_CARTO_BUNDLE."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"Bundle corrompu : {manifest_path} illisible ({exc}). Reconstruisez-le.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise BundleError(f"Bundle {path} au format {found!r}, attendu {BUNDLE_FORMAT} : reconstruisez-le.")
    return Manifest.from_json(manifest)


def _read_table(path: Path) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        if b"geo" in meta:
            gdf = gpd.read_parquet(path)
            if gdf.crs is None or gdf.crs.to_string() != WGS84:
                raise BundleError(
                    f"Bundle corrompu : {path} n'est pas en {WGS84} (trouvé {gdf.crs}). Reconstruisez-le "
                    "(ctg-carto data build) ou restaurez une version précédente."
                )
            return gdf
        return pd.read_parquet(path)
    except BundleError:
        raise
    except Exception as exc:  # pyarrow raises several types for truncated or corrupt files
        raise BundleError(
            f"Bundle corrompu : {path} illisible ({type(exc).__name__}). Reconstruisez-le (ctg-carto data build) "
            "ou restaurez une version précédente."
        ) from None


INT_SAFE = 2**53
"""Largest integer a float (and the browser's JSON) holds exactly; a count beyond it is a corrupted value."""


def check_numbers(layer_id: str, table: pd.DataFrame) -> None:
    """Refuse a layer holding a number no validated input can produce: infinite, an integer beyond ±2⁵³ (the
    −9 223 372 036 854 775 808 of an overflowed cast), or a value outside the bounds of its CAF template column.

    Raises:
        BundleError: naming the layer, the column and the value.
    """
    from geodata.caf.templates import numeric_bounds

    bounds = numeric_bounds(layer_id)
    for column in table.columns:
        series = table[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isinf(values) | (np.abs(values) > INT_SAFE)
        if column in bounds:
            low, high = bounds[column]
            bad |= (values < low) | (values > high)
        if bad.any():
            value = series.to_numpy()[np.flatnonzero(bad)[0]]
            limits = f" (bornes : {bounds[column][0]:g} à {bounds[column][1]:g})" if column in bounds else ""
            raise BundleError(
                f"Bundle incohérent : couche {layer_id}, colonne {column}, valeur impossible {value}{limits}. "
                "Reconstruisez-le (ctg-carto data build) ou restaurez une version précédente."
            )


def load_bundle(path: str | Path) -> Bundle:
    """Load a bundle directory, checking that every file the manifest lists is present and readable.

    Raises:
        BundleError: missing, corrupt or truncated bundle — so the app refuses to start instead of showing a broken map.
    """
    path = Path(path)
    manifest = read_manifest(path)
    base = {}
    for name in ("communes", "epci", "departement"):
        file = path / f"{name}.parquet"
        if not file.is_file():
            raise BundleError(f"Bundle incomplet : {file.name} absent de {path}. Reconstruisez-le.")
        base[name] = _read_table(file)
    if manifest.communes.rows is not None and len(base["communes"]) != manifest.communes.rows:
        raise BundleError(
            f"Bundle incohérent : communes.parquet ne contient pas le nombre de lignes du manifest ({path})."
        )
    layers: dict[str, pd.DataFrame] = {}
    for layer_id, info in manifest.layers.items():
        file = path / "layers" / f"{layer_id}.parquet"
        if not file.is_file():
            raise BundleError(f"Bundle incomplet : couche {layer_id} listée dans le manifest mais absente ({file}).")
        table = _read_table(file)
        if info.rows is not None and len(table) != info.rows:
            raise BundleError(f"Bundle incohérent : couche {layer_id} a {len(table)} lignes, manifest {info.rows}.")
        check_numbers(layer_id, table)
        layers[layer_id] = table
    return Bundle(
        communes=base["communes"],
        epci=base["epci"],
        outline=base["departement"],
        layers=layers,
        manifest=manifest,
        path=path,
    )
