"""Faults of a real deployment: a rebuild killed mid-way, a damaged bundle on disk, the server refusing to start."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from geodata.build import build_bundle, list_versions
from geodata.bundle import BundleError, load_bundle
from geodata.rebuild import current_version, rebuild_status, start_rebuild, versions_dir
from geodata.settings import PROJECT_ROOT, Settings

EXAMPLE = PROJECT_ROOT / "docs" / "templates" / "caf_eaje_exemple.csv"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Settings:
    """A deployed bundle (commune base only), an empty sources directory and a CAF directory with one extract."""
    root = tmp_path_factory.mktemp("deploiement")
    (root / "sources").mkdir()
    (root / "caf").mkdir()
    shutil.copy(EXAMPLE, root / "caf" / "eaje_2025-03-31.csv")
    report = build_bundle(root / "bundle", departement="66", sources_dir=None, caf_dir=None)
    assert report.ok, report.problems
    return Settings(bundle=root / "bundle", sources_dir=root / "sources", caf_dir=root / "caf")


def copy_deployment(settings: Settings, dest: Path) -> Settings:
    root = Path(settings.bundle).parent
    shutil.copytree(root, dest, symlinks=True)
    return replace(settings, bundle=dest / "bundle", sources_dir=dest / "sources", caf_dir=dest / "caf")


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"délai dépassé : {what}")


@pytest.mark.slow
def test_rebuild_killed_mid_build_leaves_the_bundle_and_the_next_rebuild_works(deployment, tmp_path):
    settings = copy_deployment(deployment, tmp_path / "d")
    before = current_version(settings)
    versions_before = [p.name for p in list_versions(settings.bundle)]

    start_rebuild(settings)
    # Kill it while it writes the new version (after the layers, during the web geometry).
    wait_for(
        lambda: any(line.startswith("Géométries web") for line in rebuild_status(settings)["lines"]),
        30,
        "étape « Géométries web » de la reconstruction",
    )
    pid = rebuild_status(settings)["pid"]
    assert pid and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: rebuild_status(settings)["state"] != "running", 10, "mort du processus")

    status = rebuild_status(settings)
    assert status["state"] == "failed"
    assert status["lines"][-1] == "Reconstruction interrompue (processus arrêté)."
    assert current_version(settings) == before
    bundle = load_bundle(settings.bundle)
    assert len(bundle.communes) == 226
    assert bundle.layer("caf_eaje") is None
    assert [p.name for p in list_versions(settings.bundle)] == versions_before  # half-written dir is not a version

    # The lock left by the killed process is stale: the next rebuild starts and succeeds.
    start_rebuild(settings)
    wait_for(lambda: rebuild_status(settings)["state"] != "running", 60, "fin de la reconstruction")
    status = rebuild_status(settings)
    assert status["state"] == "ok", status["lines"]
    assert current_version(settings) not in ("", before)
    assert len(load_bundle(settings.bundle).layer("caf_eaje")) == 4


def _truncate_communes(path: Path) -> None:
    file = path / "communes.parquet"
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


def _break_manifest(path: Path) -> None:
    manifest = path / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8")[:200], encoding="utf-8")


DAMAGES = {
    "parquet tronqué": (_truncate_communes, "communes.parquet illisible"),
    "manifest cassé": (_break_manifest, "manifest.json illisible"),
}


@pytest.mark.slow
def test_damaged_bundle_is_refused_and_the_server_does_not_start(deployment, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTG_CARTO_")}
    servers = {}
    for name, (damage, message) in DAMAGES.items():
        broken = tmp_path / name.replace(" ", "_")
        shutil.copytree(Path(deployment.bundle).resolve(), broken)
        damage(broken)
        with pytest.raises(BundleError, match=message):
            load_bundle(broken)
        # Both servers start in parallel (importing Dash takes a couple of seconds each).
        servers[name] = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "serve", "--bundle", str(broken), "--port", "1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    for name, server in servers.items():
        try:
            out, err = server.communicate(timeout=60)
        finally:
            server.kill()
        assert server.returncode != 0, name
        assert DAMAGES[name][1] in out, (name, out, err)
        assert "Traceback" not in out + err


def test_status_and_versions_survive_a_missing_versions_directory(tmp_path):
    """A worker asking for progress before any rebuild, or after the versions were wiped, gets a clean answer."""
    settings = Settings(bundle=tmp_path / "bundle")
    assert rebuild_status(settings)["state"] == "none"
    assert current_version(settings) == ""
    versions_dir(settings).mkdir()
    (versions_dir(settings) / "rebuild-status.json").write_text("{tronqué", encoding="utf-8")
    assert rebuild_status(settings)["state"] == "none"
