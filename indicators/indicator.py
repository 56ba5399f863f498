"""What an indicator is: its French label, unit, definition, input layers, colours and how it goes up a level.

Every indicator declares its aggregation (:class:`Sum`, :class:`Ratio`, :class:`Weighted`, :class:`Published`,
:data:`CATEGORY`, :class:`NotAggregated`): the field is keyword-only and has no default, so an indicator added
without one fails when the registry is imported, instead of silently getting no EPCI value
(:func:`indicators.aggregate.aggregate` reads it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOUS_DOTATION_CATEGORIES = ("P1", "P2", "P3 vigilance", "couvert")
BONUS_STATUT_CATEGORIES = ("applicable", "si CTG signée", "à confirmer", "non")
OUI_NON = ("oui", "non")
FRR_CATEGORIES = (
    "FRR+",
    "FRR socle",
    "FRR bénéficiaire",
    "FRR bénéficiaire partiellement",
    "Classée FRR partiellement",
    "Non classée",
)
ZRR_CATEGORIES = ("classée", "sortante (effets maintenus)", "partiellement classée", "non classée")
"""ZRR 2017 statuses (``geodata.importers.zonages.ZRR_STATUTS``): only « classée » (ZONAGE_ZRR = C) counts as ZRR."""
CLASSE_POPULATION_CATEGORIES = ("moins de 3 500", "3 500 à 10 000", "plus de 10 000")


NOTE_COMMUNAL = "indicateur communal"
MEDIAN = "médiane non agrégeable (non publiée à ce niveau)"


@dataclass(frozen=True)
class Sum:
    """Counts (structures, places, population, QPV): Σ of the members' values."""


@dataclass(frozen=True)
class Ratio:
    """Rates: Σ ``num`` / Σ ``den`` × ``factor`` over the members' raw columns, never a mean of commune rates."""

    num: str
    den: str
    factor: float = 1.0


@dataclass(frozen=True)
class Weighted:
    """A mean weighted by population or demand: Σ ``product`` / Σ ``by`` (``product`` = value × weight per commune)."""

    product: str
    by: str


@dataclass(frozen=True)
class Published:
    """A figure published at each level (CAF coverage rates): taken as published, never recomputed; ``note`` says
    why a level has none."""

    note: str


@dataclass(frozen=True)
class NotAggregated:
    """No value above the commune (a median, an amount per commune…): « non disponible » with ``reason``."""

    reason: str


CATEGORY = NotAggregated(NOTE_COMMUNAL)
"""Category indicators: counted per category in the views, no single value for an EPCI."""
COMMUNAL = NotAggregated(NOTE_COMMUNAL)
"""Commune-only values (texts, amounts): no value for an EPCI."""

Aggregation = Sum | Ratio | Weighted | Published | NotAggregated
"""How an indicator goes up one level (commune → EPCI → département → France)."""

SEQUENTIELLE, CATEGORIELLE = "sequentielle", "categorielle"


@dataclass(frozen=True)
class Indicator:
    """Description of one indicator (see the API in docs)."""

    id: str
    label: str
    theme: str
    unit: str
    definition: str
    inputs: tuple[str, ...]
    direction: str
    kind: str = "numeric"
    """``numeric``, ``category``, or ``texte`` (a free French sentence explaining another indicator: not mapped)."""
    categories: tuple[str, ...] = ()
    decimals: int = 1
    carte: bool = True
    """Offered on the map. False: a companion value kept for cards, tables and exports (e.g. the bonus amount beside
    its status, or a share that is only 0 or 100 % per commune and is mapped as its yes/no layer instead)."""
    aggregate: Aggregation = field(kw_only=True)
    """How it goes up a level: required, keyword-only (see the module docstring)."""

    @property
    def echelle(self) -> str:
        """``sequentielle`` (amounts: one hue, darker = more of what the label names) or ``categorielle`` (classes:
        distinct colours, no class controls)."""
        return SEQUENTIELLE if self.kind == "numeric" else CATEGORIELLE


def define(
    id: str,
    label: str,
    theme: str,
    unit: str,
    definition: str,
    inputs: tuple[str, ...],
    direction: str = "neutre",
    kind: str = "numeric",
    categories: tuple[str, ...] = (),
    decimals: int = 1,
    carte: bool = True,
    *,
    aggregate: Aggregation,
) -> Indicator:
    """One registry entry (the short positional form used by the definition modules)."""
    return Indicator(
        id, label, theme, unit, definition, inputs, direction, kind, categories, decimals, carte, aggregate=aggregate
    )


OFF, A, C, Z, B, S = "Offre", "Accès", "Contexte", "Zonages", "Bonus territoire", "Sous-dotation"
THEMES = (OFF, A, C, Z, B, S)
UP, DOWN = "hausse_favorable", "baisse_favorable"
