"""Data flows one way: geodata and indicators never import dash or plotly (style.md §6.1)."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"dash", "plotly", "dashboard"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["geodata", "indicators"])
def test_pure_packages_do_not_import_the_ui(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no module"
    offenders = {str(f.relative_to(ROOT)): sorted(_imports(f) & FORBIDDEN) for f in files if _imports(f) & FORBIDDEN}
    assert offenders == {}


def test_geodata_does_not_import_indicators():
    offenders = [str(f) for f in (ROOT / "geodata").rglob("*.py") if "indicators" in _imports(f)]
    assert offenders == []


def test_embedded_sources_are_small_and_each_has_its_provenance():
    """The dept 66 public files ship with the project (the default data directory), small and traced."""
    tracked = subprocess.run(
        ["git", "ls-files", "data/sources"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    files = [ROOT / line for line in tracked]
    assert len(files) >= 20, "the embedded dept 66 sources should be committed"
    assert sum(f.stat().st_size for f in files) < 600_000
    assert not [f for f in files if f.suffix in {".tgz", ".zip", ".xls", ".xlsx"}], "no archive or national file"
    provenance = (ROOT / "data" / "sources" / "PROVENANCE.md").read_text(encoding="utf-8")
    for f in files:
        if f.name != "PROVENANCE.md":
            assert f"`{f.parent.name}/" in provenance, f"{f.parent.name}: no provenance section"
