"""The ``Source`` record of the sources catalogue (kept apart so importer modules can declare their entries)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geodata.importers import Importer


@dataclass(frozen=True)
class Source:
    """One official (or CAF) source and how to import it."""

    id: str
    """Stable identifier, also the bundle layer id unless ``layer`` says otherwise."""
    title: str
    """French title shown in the app (« France services »)."""
    publisher: str
    dataset: str
    vintage: str
    """Millésime as shown to users (« 1er août 2024 », « 2021 », « 2016 (ancien) »)."""
    licence: str
    format: str
    importer: str
    """``module:function`` of the importer, resolved lazily so the catalogue imports nothing heavy."""
    file_patterns: tuple[str, ...]
    """Glob patterns relative to the data directory, tried in order; the first match is imported."""
    expected_columns: tuple[str, ...] = ()
    page_url: str = ""
    download_url: str = ""
    """Direct download used by ``ctg-carto data fetch`` (empty when the publisher has no stable URL)."""
    sha256: str = ""
    """Expected checksum of the downloaded file, when pinned."""
    kind: str = "public"
    """``public`` (official open data) or ``caf`` (extract held by the CAF, from a template)."""
    layer: str = ""
    howto: str = ""
    """How a user gets this layer when it is missing (shown in the build table and the sources panel)."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def layer_id(self) -> str:
        """Bundle layer written by this source."""
        return self.layer or self.id

    def load_importer(self) -> Importer:
        """Resolve ``importer`` (``module:function``)."""
        module, _, name = self.importer.partition(":")
        importer: Importer = getattr(importlib.import_module(module), name)
        return importer

    def find(self, directory: Path) -> Path | None:
        """First file in ``directory`` matching one of ``file_patterns`` (sorted, so the choice is reproducible)."""
        for pattern in self.file_patterns:
            matches = sorted(p for p in directory.glob(pattern) if p.is_file())
            if matches:
                return matches[-1]
        return None

    def candidates(self, directories: Sequence[Path]) -> list[Path]:
        """Every file of this source in ``directories``, in search order: directory by directory, then pattern by
        pattern (the last sorted match of each). The builder imports the first that covers the territory, so a
        national file found after a dept 66 cut still serves another département."""
        found: list[Path] = []
        for directory in directories:
            if not directory.is_dir():
                continue
            for pattern in self.file_patterns:
                matches = sorted(p for p in directory.glob(pattern) if p.is_file())
                if matches and matches[-1] not in found:
                    found.append(matches[-1])
        return found

    def to_manifest(self) -> dict[str, Any]:
        """Provenance fields copied into ``manifest.json``."""
        data = asdict(self)
        for key in ("importer", "file_patterns"):
            data.pop(key)
        data["expected_columns"] = list(self.expected_columns)
        data["notes"] = list(self.notes)
        return data
