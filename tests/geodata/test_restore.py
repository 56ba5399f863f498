"""The CAF directory and the bundle never disagree: restore brings back the extracts, a confirm during a rebuild is
built right after it, an interrupted restore is finished by the next operation."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest

from geodata.build import CAF_COPY, build_bundle, list_versions
from geodata.bundle import BundleError, load_bundle, read_manifest
from geodata.rebuild import (
    JOURNAL,
    PENDING_FILE,
    current_version,
    rebuild_status,
    request_rebuild,
    restore,
    resume_restore,
    start_rebuild,
    versions_dir,
)
from geodata.settings import PROJECT_ROOT, Settings
from tests.geodata.test_rebuild import wait_finished

pytestmark = pytest.mark.slow
EXAMPLE = PROJECT_ROOT / "docs" / "templates" / "caf_eaje_exemple.csv"


def eaje_with(rows: int) -> str:
    """The EAJE example cut to its first ``rows`` structures (header kept)."""
    lines = EXAMPLE.read_text(encoding="utf-8-sig").splitlines()
    return "\n".join(lines[: rows + 1]) + "\n"


def build(settings: Settings) -> str:
    report = build_bundle(settings.bundle, "66", settings.sources_dir, settings.caf_dir)
    assert report.ok, [str(p) for p in report.problems]
    return report.version_dir.name


def eaje_rows(settings: Settings) -> int:
    return len(load_bundle(settings.bundle).layer("caf_eaje"))


@pytest.fixture
def deployment(tmp_path) -> Settings:
    (tmp_path / "sources").mkdir()
    (tmp_path / "caf").mkdir()
    (tmp_path / "caf" / "eaje_2025-03-31.csv").write_text(eaje_with(4), encoding="utf-8")
    return Settings(bundle=tmp_path / "bundle", sources_dir=tmp_path / "sources", caf_dir=tmp_path / "caf")


def test_a_version_keeps_the_extracts_it_was_built_from(deployment):
    version = build(deployment)
    manifest = read_manifest(versions_dir(deployment) / version)
    assert [f.name for f in manifest.caf_extracts.fichiers] == ["eaje_2025-03-31.csv"]
    copy = versions_dir(deployment) / version / CAF_COPY / "eaje_2025-03-31.csv"
    assert copy.read_text(encoding="utf-8") == eaje_with(4)


def test_restore_puts_the_extracts_back_so_the_next_rebuild_cannot_resurrect_the_rolled_back_file(deployment):
    first = build(deployment)
    caf = Path(deployment.caf_dir)
    (caf / "eaje_2025-03-31.csv").unlink()
    (caf / "eaje_2025-06-30.csv").write_text(eaje_with(2), encoding="utf-8")  # the file to roll back
    (caf / "DONNEES_FICTIVES.txt").write_text("fictif", encoding="utf-8")
    build(deployment)
    assert eaje_rows(deployment) == 2 and load_bundle(deployment.bundle).is_synthetic("caf_eaje")

    assert restore(deployment, first) == first
    assert current_version(deployment) == first and eaje_rows(deployment) == 4
    assert sorted(p.name for p in caf.iterdir() if not p.name.startswith(".")) == ["eaje_2025-03-31.csv"]
    archived = {p.name for p in (caf / ".archive").rglob("*") if p.is_file()}
    assert {"eaje_2025-06-30.csv", "DONNEES_FICTIVES.txt"} <= archived  # nothing lost
    assert not (caf / JOURNAL).exists()

    build(deployment)  # any later rebuild (another upload, the CLI) starts from the restored extracts
    assert eaje_rows(deployment) == 4 and not load_bundle(deployment.bundle).is_synthetic("caf_eaje")


def test_an_interrupted_restore_is_finished_by_the_next_operation(deployment, monkeypatch):
    first = build(deployment)
    caf = Path(deployment.caf_dir)
    (caf / "eaje_2025-03-31.csv").unlink()
    (caf / "eaje_2025-06-30.csv").write_text(eaje_with(2), encoding="utf-8")
    second = build(deployment)

    def power_cut(*_args, **_kwargs):
        raise OSError("coupure")

    monkeypatch.setattr("geodata.rebuild.restore_version", power_cut)
    with pytest.raises(OSError, match="coupure"):
        restore(deployment, first)
    assert (caf / JOURNAL).is_file() and current_version(deployment) == second  # half done: files, not the link
    monkeypatch.undo()

    assert resume_restore(deployment) is True  # what start_rebuild / a commit / a restore do first
    assert current_version(deployment) == first and eaje_rows(deployment) == 4
    assert sorted(p.name for p in caf.glob("eaje*")) == ["eaje_2025-03-31.csv"]
    assert not (caf / JOURNAL).exists() and resume_restore(deployment) is False


def test_an_old_version_without_a_copy_is_restored_from_the_archive_or_refused(deployment):
    first = build(deployment)
    version = versions_dir(deployment) / first
    manifest = dict(read_manifest(version).raw)
    del manifest["caf_extracts"]  # as written before versions kept their extracts
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    shutil.rmtree(version / CAF_COPY)
    caf = Path(deployment.caf_dir)
    (caf / ".archive" / "20250101").mkdir(parents=True)
    (caf / "eaje_2025-03-31.csv").replace(caf / ".archive" / "20250101" / "eaje_2025-03-31.csv")
    (caf / "eaje_2025-06-30.csv").write_text(eaje_with(2), encoding="utf-8")
    build(deployment)

    assert restore(deployment, first) == first  # found by its checksum in the archive
    assert [p.name for p in caf.glob("eaje*")] == ["eaje_2025-03-31.csv"] and eaje_rows(deployment) == 4

    later = build(replace(deployment))
    for path in caf.rglob("eaje_2025-03-31.csv"):
        path.write_text(eaje_with(3), encoding="utf-8")  # the archive no longer holds the right bytes
    (caf / "eaje_2025-03-31.csv").write_text(eaje_with(1), encoding="utf-8")
    with pytest.raises(BundleError, match=r"introuvable.*Restauration refusée"):
        restore(deployment, first)
    assert current_version(deployment) == later


def test_a_file_confirmed_during_a_rebuild_is_built_right_after_it(deployment):
    build(deployment)
    before = len(list_versions(deployment.bundle))
    start_rebuild(deployment)  # a rebuild runs (child process)
    deadline = time.monotonic() + 60
    while not any("Couche caf_eaje" in line for line in rebuild_status(deployment)["lines"]):
        assert time.monotonic() < deadline, rebuild_status(deployment)  # until it has read the CAF directory
        time.sleep(0.05)
    caf = Path(deployment.caf_dir)
    (caf / "eaje_2025-03-31.csv").unlink()
    (caf / "eaje_2025-06-30.csv").write_text(eaje_with(2), encoding="utf-8")  # confirmed meanwhile
    assert request_rebuild(deployment) is False  # queued, not refused
    status = wait_finished(deployment)
    assert status["state"] == "ok", status["lines"]
    assert eaje_rows(deployment) == 2  # the confirmed file is in the bundle without anyone asking again
    assert any("nouvelle reconstruction pour les intégrer" in line for line in status["lines"])
    assert not (versions_dir(deployment) / PENDING_FILE).exists()
    assert len(list_versions(deployment.bundle)) == min(before + 2, 3)  # two builds (3 versions are kept)
