"""Rebuild from the app: a child process builds a new version, progress in a shared status file, one at a time."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest

from geodata.bundle import BundleError, load_bundle
from geodata.rebuild import (
    LOCK_FILE,
    STATUS_FILE,
    RebuildBusy,
    current_version,
    list_bundle_versions,
    rebuild_status,
    restore,
    start_rebuild,
    versions_dir,
)
from geodata.settings import PROJECT_ROOT, Settings

EXAMPLE = PROJECT_ROOT / "docs" / "templates" / "caf_eaje_exemple.csv"


def wait_finished(settings: Settings, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = rebuild_status(settings)
        if status["state"] != "running":
            return status
        time.sleep(0.1)
    raise AssertionError(f"reconstruction non terminée : {rebuild_status(settings)}")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """One real rebuild in a child process (no bundle before), with a CAF extract; a second start while it runs."""
    root = tmp_path_factory.mktemp("rebuild")
    (root / "sources").mkdir()
    (root / "caf").mkdir()
    shutil.copy(EXAMPLE, root / "caf" / "eaje_2025-03-31.csv")
    settings = Settings(bundle=root / "bundle", sources_dir=root / "sources", caf_dir=root / "caf")
    assert rebuild_status(settings)["state"] == "none"
    assert current_version(settings) == ""
    start_rebuild(settings)
    running = rebuild_status(settings)
    with pytest.raises(RebuildBusy, match="déjà en cours") as busy:
        start_rebuild(settings)
    status = wait_finished(settings)
    return settings, running, busy.value, status


@pytest.mark.slow
def test_rebuild_in_a_child_process_produces_a_new_current_version(rebuilt):
    settings, running, _busy, status = rebuilt
    assert running["state"] == "running"
    assert status["state"] == "ok", status["lines"]
    assert status["version"] == current_version(settings)
    assert status["started"] <= status["finished"]
    assert status["pid"] != os.getpid()  # built elsewhere than in this process
    assert any(line.startswith("Couche caf_eaje ← eaje_2025-03-31.csv") for line in status["lines"])
    bundle = load_bundle(settings.bundle)
    assert len(bundle.layer("caf_eaje")) == 4
    assert bundle.layer_info("caf_eaje").vintage == "extrait du 31/03/2025"
    assert not (versions_dir(settings) / LOCK_FILE).exists()  # released at the end


@pytest.mark.slow
def test_a_second_rebuild_is_refused_while_one_runs(rebuilt):
    _settings, _running, busy, _status = rebuilt
    assert isinstance(busy, RebuildBusy)
    assert "processus" in str(busy)


@pytest.mark.slow
def test_status_file_is_shared_json(rebuilt):
    settings, *_ = rebuilt
    raw = json.loads((versions_dir(settings) / STATUS_FILE).read_text(encoding="utf-8"))
    assert raw == rebuild_status(settings)
    assert set(raw) >= {"state", "lines", "started", "finished", "version"}


def test_stale_lock_of_a_dead_process_is_ignored_and_live_one_is_not(tmp_path):
    settings = Settings(bundle=tmp_path / "bundle", sources_dir=tmp_path / "s", caf_dir=tmp_path / "c")
    versions_dir(settings).mkdir()
    lock = versions_dir(settings) / LOCK_FILE
    lock.write_text(str(os.getpid()))  # alive: this test process
    with pytest.raises(RebuildBusy):
        start_rebuild(settings)
    assert lock.read_text() == str(os.getpid())
    lock.write_text("")  # being written by another worker right now: busy too, not garbage
    with pytest.raises(RebuildBusy):
        start_rebuild(settings)
    # A "running" status whose process is gone is reported failed.
    (versions_dir(settings) / STATUS_FILE).write_text(
        json.dumps(
            {"state": "running", "lines": ["x"], "started": "t", "finished": None, "version": None, "pid": 1 << 22}
        )
    )
    status = rebuild_status(settings)
    assert status["state"] == "failed"
    assert status["lines"][-1] == "Reconstruction interrompue (processus arrêté)."


@pytest.mark.slow
def test_versions_are_listed_and_restored_by_name_only(rebuilt, tmp_path):
    settings, *_ = rebuilt
    root = tmp_path / "copie"
    shutil.copytree(Path(settings.bundle).parent, root, symlinks=True)
    settings = replace(settings, bundle=root / "bundle")
    current = current_version(settings)
    older = "20000101T000000000000Z"  # a copy of the current version, named as an older one
    shutil.copytree(versions_dir(settings) / current, versions_dir(settings) / older)

    rows = list_bundle_versions(settings)
    assert [r["name"] for r in rows] == [current, older]  # newest first
    assert [r["current"] for r in rows] == [True, False]
    assert rows[0]["layers"] == 1
    assert rows[0]["synthetic"] is False

    assert restore(settings, older) == older
    assert current_version(settings) == older
    assert len(load_bundle(settings.bundle).communes) == 226
    for hostile in ("../bundle.versions/" + current, "..", "/etc", ""):
        with pytest.raises(BundleError, match="inconnue"):
            restore(settings, hostile)
    assert current_version(settings) == older
