"""CAF extract templates: the layers only the Caf holds (crèches, ALSH, centres sociaux/EVS, accueils, CTG, demand).

A Caf adviser fills one template per layer (CSV ``;`` UTF-8 or the first sheet of an XLSX, French column names,
decimal comma accepted; see ``docs/caf_extracts.md``) and drops it in the CAF directory. Each template is one
:class:`~geodata.catalogue_types.Source` of :data:`CAF_SOURCES`, imported by ``import_caf_<layer>``.

Why a validation of its own: these files are typed by hand. Every problem of a file is reported at once (line,
column, French message, suggestion) so the adviser fixes the file in one pass. Text cells are kept exactly as typed,
HTML or script included: escaping is the app's job, and stripping would silently change what the Caf wrote.

Extraction date (the layer's vintage) is read, in this order, from the optional column « Date d'extraction », from
a date in the file name (``eaje_2025-03-31.csv``, ``eaje_20250331.xlsx``), or from a file ``date_extraction.txt``
in the same directory; it is written in the layer notes as « Date d'extraction : AAAA-MM-JJ (…) ».

A CAF directory holding a file ``DONNEES_FICTIVES.txt`` is synthetic (the demo extract of :mod:`geodata.demo`):
every layer read from it has ``LayerResult.synthetic = True``.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata import territory
from geodata.catalogue_types import Source
from geodata.crs import LAMBERT93, WGS84
from geodata.errors import DataError, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.numbers import MINUS, format_number, format_short, parse_number
from geodata.readers import LINE, ReadLimits, normalise_name, read_table

SYNTHETIC_MARKER = "DONNEES_FICTIVES.txt"
"""File whose presence in a CAF directory marks every extract in it as fictitious."""

DATE_FILE = "date_extraction.txt"
"""Optional file giving the extraction date of every extract of the directory (first line, a date)."""

PUBLISHER = "Caf des Pyrénées-Orientales (extrait interne)"
GUIDE = "docs/caf_extracts.md"
TEMPLATES_DIR = "docs/templates"

GEO_COORDS = "coordonnées"
GEO_TOWN_HALL = "mairie"
"""Values of ``geolocalisation``: the file's own coordinates, or the commune's town-hall point."""

WARNING = "avertissement"


CAF_LIMITS = ReadLimits(
    max_bytes=10 * 1024 * 1024,
    max_rows=20_000,
    max_lines=100_000,
    max_columns=100,
    max_cell_chars=2_000,
    empty_run=1_000,
    max_unzipped_bytes=64 * 1024 * 1024,
)
"""What a CAF extract may be (upload and ``data check``): an extract of one département is a few hundred rows of a
dozen columns; these limits only stop mistakes and abuse, early (``docs/caf_extracts.md``, « Limites »)."""

Limit = float | date


def below(value: Limit, limit: Limit) -> bool:
    """``value < limit`` for two numbers or two dates: a column's bounds are of its own kind, never mixed."""
    if isinstance(value, date) and isinstance(limit, date):
        return value < limit
    if isinstance(value, date) or isinstance(limit, date):
        raise TypeError(f"limite {limit!r} et valeur {value!r} de natures différentes")
    return value < limit


def number_limit(limit: Limit) -> float:
    """A numeric column's bound as a float (a date here is a template declaration error)."""
    if isinstance(limit, date):
        raise TypeError(f"limite {limit!r} : nombre attendu")
    return float(limit)


@dataclass(frozen=True)
class Bounds:
    """Allowed and plausible values of a numeric or date column.

    Outside ``low``–``high`` the value is impossible: a blocking error naming the bound. Outside the plausible range
    (``plausible_low``–``plausible_high``, or after the day of the check when ``not_future``) it is possible but
    suspicious: a warning, and the value is kept. Declared on the :class:`Column`, so a new template column gets its
    checks, its messages and its line in the guide from its declaration.
    """

    low: Limit
    high: Limit
    plausible_low: Limit | None = None
    plausible_high: Limit | None = None
    not_future: bool = False
    why: str = ""
    """Why the plausible range, for the warning and the guide (« un EAJE a rarement plus de 150 places »)."""


@dataclass(frozen=True)
class Column:
    """One column of a template: how it is written in the file, what it becomes, how it is checked."""

    name: str
    """Header as written in the template (matching ignores case, accents and spaces)."""
    key: str
    """Output column (``docs/bundle.md``); empty for columns that are read but not kept."""
    kind: str
    """``texte``, ``identifiant``, ``code_commune``, ``code``, ``entier``, ``nombre`` (decimal ≥ 0), ``oui_non``,
    ``choix``, ``coordonnee``, ``date``."""
    description: str
    example: str
    mandatory: bool = False
    """A value is required in every row."""
    present: bool = True
    """The column must be in the header (False: the column itself may be left out)."""
    choices: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    """Other spellings accepted for a choice: (written, canonical)."""
    strict: bool = True
    """For ``choix``: an unknown value is an error (else a warning, and the value is kept as written)."""
    bounds: Bounds | None = None
    """For ``entier``, ``coordonnee`` and ``date`` (required for them): impossible and suspicious values."""


@dataclass(frozen=True)
class Template:
    """One CAF extract template = one bundle layer."""

    id: str
    """Layer id and source id (``caf_eaje``)."""
    stem: str
    """File name prefix in the CAF directory (``eaje`` → ``eaje*.csv``)."""
    title: str
    dataset: str
    columns: tuple[Column, ...]
    output: tuple[str, ...]
    """Output columns in order (``docs/bundle.md``), geometry excluded."""
    points: bool
    example_rows: tuple[tuple[str, ...], ...]
    """Rows of the filled example (``docs/templates/<id>_exemple.csv``), in ``columns`` order; names are fictitious."""

    @property
    def headers(self) -> list[str]:
        """Column names as written in the template file."""
        return [c.name for c in self.columns]

    def column(self, key: str) -> Column:
        """Column whose output key is ``key``."""
        return next(c for c in self.columns if c.key == key)


# ---------------------------------------------------------------------------------------------------------------
# Column building blocks shared by the templates
# ---------------------------------------------------------------------------------------------------------------


def _id(example: str) -> Column:
    return Column(
        "Identifiant",
        "id_structure",
        "identifiant",
        "identifiant unique de la structure dans l'extrait (n° de dossier Caf, SIRET ou code interne)",
        example,
        mandatory=True,
    )


def _nom(example: str) -> Column:
    return Column("Nom", "nom", "texte", "nom de la structure", example, mandatory=True)


_CODE_COMMUNE = Column(
    "Code commune",
    "code_commune",
    "code_commune",
    "code INSEE de la commune d'implantation (5 caractères, pas le code postal)",
    "66136",
    mandatory=True,
)
_COMMUNE = Column(
    "Commune",
    "",
    "texte",
    "nom de la commune (facultatif ; sert seulement à proposer le bon code en cas d'erreur)",
    "Perpignan",
    present=False,
)
_ADRESSE = Column("Adresse", "adresse", "texte", "adresse postale du lieu d'accueil", "1 rue des Exemples")
_GESTIONNAIRE = Column(
    "Gestionnaire", "gestionnaire", "texte", "organisme gestionnaire (commune, EPCI, association…)", "Commune"
)
_POINT_RULE = (
    "le point doit aussi être dans le département (sinon : erreur) et dans la commune du code (sinon : avertissement)"
)
_LONGITUDE = Column(
    "Longitude",
    "lon",
    "coordonnee",
    "longitude en degrés décimaux WGS84 (entre 1,7 et 3,2 pour les Pyrénées-Orientales) ; vide = point de la mairie",
    "2,8954",
    present=False,
    bounds=Bounds(-180.0, 180.0, why=_POINT_RULE),
)
_LATITUDE = Column(
    "Latitude",
    "lat",
    "coordonnee",
    "latitude en degrés décimaux WGS84 (entre 42,3 et 42,95 pour les Pyrénées-Orientales) ; vide = point de la mairie",
    "42,6986",
    present=False,
    bounds=Bounds(-90.0, 90.0, why=_POINT_RULE),
)
_DATE_EXTRACTION = Column(
    "Date d'extraction",
    "",
    "date",
    "date à laquelle l'extrait a été tiré (la même sur toutes les lignes) ; sinon prise dans le nom du fichier",
    "31/03/2025",
    present=False,
    bounds=Bounds(
        date(2000, 1, 1),
        date(2099, 12, 31),
        plausible_low=date(2015, 1, 1),
        not_future=True,
        why="un extrait est daté du jour où il a été tiré : ni futur, ni très ancien",
    ),
)

EAJE_TYPES = (
    "multi-accueil",
    "crèche collective",
    "crèche familiale",
    "crèche parentale",
    "micro-crèche PSU",
    "micro-crèche PAJE",
    "halte-garderie",
    "jardin d'enfants",
    "crèche d'entreprise",
)
MICRO_CRECHES = ("micro-crèche PSU", "micro-crèche PAJE")
MICRO_CRECHE_MAX_PLACES = 12
SITE_TYPES = ("accueil", "permanence", "rendez-vous", "point numérique")
CS_TYPES = ("centre social", "EVS")
CTG_STATUSES = ("signée", "en cours", "à renouveler", "non signée")
CTG_LEVELS = ("epci", "commune")

EAJE = Template(
    id="caf_eaje",
    stem="eaje",
    title="Crèches (EAJE) — extrait Caf",
    dataset="Établissements d'accueil du jeune enfant financés par la Caf (extrait de gestion)",
    columns=(
        _id("EAJE-0001"),
        _nom("Crèche fictive Les Petits Galets"),
        _CODE_COMMUNE,
        _COMMUNE,
        _ADRESSE,
        Column(
            "Type d'accueil",
            "type_accueil",
            "choix",
            "type d'établissement",
            "multi-accueil",
            mandatory=True,
            choices=EAJE_TYPES,
            aliases=(
                ("multiaccueil", "multi-accueil"),
                ("micro creche psu", "micro-crèche PSU"),
                ("micro creche paje", "micro-crèche PAJE"),
                ("creche", "crèche collective"),
            ),
            strict=False,
        ),
        Column(
            "Places",
            "places",
            "entier",
            "nombre de places agréées (entier ≥ 0)",
            "40",
            mandatory=True,
            bounds=Bounds(
                0,
                1_000,
                plausible_low=1,
                plausible_high=150,
                why="un EAJE compte de 1 à 150 places environ, une micro-crèche 12 au plus ; 0 place : fermé ?",
            ),
        ),
        Column(
            "PSU",
            "psu",
            "oui_non",
            "financée par la prestation de service unique (oui / non ; non pour une micro-crèche PAJE)",
            "oui",
            mandatory=True,
        ),
        _GESTIONNAIRE,
        _LONGITUDE,
        _LATITUDE,
        _DATE_EXTRACTION,
    ),
    output=(
        "id_structure",
        "nom",
        "code_commune",
        "adresse",
        "type_accueil",
        "places",
        "psu",
        "gestionnaire",
        "lon",
        "lat",
        "geolocalisation",
    ),
    points=True,
    example_rows=(
        (
            "EAJE-0001",
            "Crèche fictive Les Petits Galets",
            "66136",
            "Perpignan",
            "1 rue des Exemples",
            "multi-accueil",
            "60",
            "oui",
            "Commune de Perpignan",
            "2,8954",
            "42,6986",
            "31/03/2025",
        ),
        (
            "EAJE-0002",
            "Micro-crèche fictive Les Lutins",
            "66136",
            "Perpignan",
            "2 avenue Imaginaire",
            "micro-crèche PAJE",
            "12",
            "non",
            "Société fictive Petite Enfance",
            "",
            "",
            "31/03/2025",
        ),
        (
            "EAJE-0003",
            "Crèche fictive du Canigou",
            "66149",
            "Prades",
            "3 place de l'Exemple",
            "crèche collective",
            "24",
            "oui",
            "Communauté de communes (fictif)",
            "",
            "",
            "31/03/2025",
        ),
        (
            "EAJE-0004",
            "Crèche familiale fictive <b>Les Mésanges</b>",
            "66049",
            "Céret",
            "",
            "crèche familiale",
            "30",
            "oui",
            "Association fictive",
            "2,7467",
            "42,4857",
            "31/03/2025",
        ),
    ),
)

_PLACES_HELP = "nombre de places (entier ≥ 0) ; vide si l'accueil n'existe pas"
_ALSH_BOUNDS = Bounds(
    0,
    5_000,
    plausible_low=1,
    plausible_high=600,
    why="un accueil de loisirs compte de quelques places à 600 environ ; 0 : laissez vide s'il n'existe pas",
)
ALSH = Template(
    id="caf_alsh",
    stem="alsh",
    title="Accueils de loisirs (ALSH) — extrait Caf",
    dataset="Accueils de loisirs sans hébergement financés par la Caf (extrait de gestion)",
    columns=(
        _id("ALSH-0001"),
        _nom("ALSH fictif Les Aventuriers"),
        _CODE_COMMUNE,
        _COMMUNE,
        _ADRESSE,
        Column("Places périscolaire", "places_periscolaire", "entier", _PLACES_HELP, "80", bounds=_ALSH_BOUNDS),
        Column("Places mercredi", "places_mercredi", "entier", _PLACES_HELP, "60", bounds=_ALSH_BOUNDS),
        Column("Places vacances", "places_vacances", "entier", _PLACES_HELP, "72", bounds=_ALSH_BOUNDS),
        _GESTIONNAIRE,
        _LONGITUDE,
        _LATITUDE,
        _DATE_EXTRACTION,
    ),
    output=(
        "id_structure",
        "nom",
        "code_commune",
        "adresse",
        "places_periscolaire",
        "places_mercredi",
        "places_vacances",
        "gestionnaire",
        "lon",
        "lat",
        "geolocalisation",
    ),
    points=True,
    example_rows=(
        (
            "ALSH-0001",
            "ALSH fictif Les Aventuriers",
            "66136",
            "Perpignan",
            "4 rue des Exemples",
            "80",
            "60",
            "72",
            "Commune de Perpignan",
            "2,8893",
            "42,7012",
            "",
        ),
        (
            "ALSH-0002",
            "ALSH fictif du Vallespir",
            "66049",
            "Céret",
            "",
            "",
            "40",
            "48",
            "Association fictive",
            "",
            "",
            "",
        ),
        (
            "ALSH-0003",
            "Accueil périscolaire fictif",
            "66149",
            "Prades",
            "",
            "35",
            "",
            "",
            "Commune de Prades",
            "",
            "",
            "",
        ),
    ),
)

CENTRES_SOCIAUX = Template(
    id="caf_centres_sociaux",
    stem="centres_sociaux",
    title="Centres sociaux et EVS — extrait Caf",
    dataset="Centres sociaux et espaces de vie sociale agréés par la Caf (extrait)",
    columns=(
        _id("CS-0001"),
        _nom("Centre social fictif du Moulin"),
        Column(
            "Type",
            "type_structure",
            "choix",
            "« centre social » ou « EVS » (espace de vie sociale)",
            "centre social",
            mandatory=True,
            choices=CS_TYPES,
            aliases=(("espace de vie sociale", "EVS"), ("cs", "centre social"), ("centre sociaux", "centre social")),
        ),
        _CODE_COMMUNE,
        _COMMUNE,
        _ADRESSE,
        _GESTIONNAIRE,
        _LONGITUDE,
        _LATITUDE,
        _DATE_EXTRACTION,
    ),
    output=(
        "id_structure",
        "nom",
        "type_structure",
        "code_commune",
        "adresse",
        "gestionnaire",
        "lon",
        "lat",
        "geolocalisation",
    ),
    points=True,
    example_rows=(
        (
            "CS-0001",
            "Centre social fictif du Moulin",
            "centre social",
            "66136",
            "Perpignan",
            "5 rue des Exemples",
            "Association fictive",
            "",
            "",
            "",
        ),
        (
            "CS-0002",
            "Espace de vie sociale fictif La Ruche",
            "EVS",
            "66088",
            "Ille-sur-Têt",
            "",
            "Association fictive",
            "",
            "",
            "",
        ),
        (
            "CS-0003",
            "Centre social fictif <script>alert(1)</script>",
            "centre social",
            "66065",
            "Elne",
            "",
            "Commune d'Elne",
            "2,9712",
            "42,6001",
            "",
        ),
    ),
)

ACCUEILS = Template(
    id="caf_accueils",
    stem="accueils",
    title="Accueils et permanences de la Caf — extrait Caf",
    dataset="Lieux d'accueil, permanences et rendez-vous de la Caf des Pyrénées-Orientales",
    columns=(
        Column(
            "Identifiant",
            "id_site",
            "identifiant",
            "identifiant unique du lieu d'accueil",
            "ACC-01",
            mandatory=True,
        ),
        _nom("Accueil Caf fictif de Perpignan"),
        Column(
            "Type",
            "type_site",
            "choix",
            "accueil, permanence, rendez-vous ou point numérique",
            "accueil",
            mandatory=True,
            choices=SITE_TYPES,
            aliases=(("rdv", "rendez-vous"), ("sur rendez-vous", "rendez-vous"), ("agence", "accueil")),
            strict=False,
        ),
        _CODE_COMMUNE,
        _COMMUNE,
        _ADRESSE,
        Column(
            "Fréquence",
            "frequence",
            "texte",
            "jours et horaires d'ouverture, en clair (« du lundi au vendredi », « 2e mardi du mois »)",
            "du lundi au vendredi",
        ),
        _LONGITUDE,
        _LATITUDE,
        _DATE_EXTRACTION,
    ),
    output=(
        "id_site",
        "nom",
        "type_site",
        "code_commune",
        "adresse",
        "frequence",
        "lon",
        "lat",
        "geolocalisation",
    ),
    points=True,
    example_rows=(
        (
            "ACC-01",
            "Accueil Caf fictif de Perpignan",
            "accueil",
            "66136",
            "Perpignan",
            "6 rue des Exemples",
            "du lundi au vendredi",
            "",
            "",
            "",
        ),
        ("ACC-02", "Permanence Caf fictive de Céret", "permanence", "66049", "Céret", "", "mardi matin", "", "", ""),
        (
            "ACC-03",
            "Accueil fictif sur rendez-vous",
            "rendez-vous",
            "66149",
            "Prades",
            "",
            "sur rendez-vous",
            "",
            "",
            "",
        ),
    ),
)

CTG = Template(
    id="caf_ctg",
    stem="ctg",
    title="Conventions territoriales globales (CTG) — extrait Caf",
    dataset="État des conventions territoriales globales par EPCI ou commune (suivi interne Caf)",
    columns=(
        Column(
            "Niveau",
            "niveau",
            "choix",
            "« epci » (intercommunalité) ou « commune »",
            "epci",
            mandatory=True,
            choices=CTG_LEVELS,
            aliases=(("intercommunalite", "epci"), ("communaute de communes", "epci"), ("com", "commune")),
        ),
        Column(
            "Code",
            "code",
            "code",
            "n° SIREN de l'EPCI (9 chiffres) ou code INSEE de la commune (5 caractères)",
            "200027183",
            mandatory=True,
        ),
        Column("Nom", "nom", "texte", "nom de l'EPCI ou de la commune (vide : repris de la base)", "Perpignan"),
        Column(
            "Statut",
            "statut",
            "choix",
            "signée, en cours, à renouveler ou non signée",
            "signée",
            mandatory=True,
            choices=CTG_STATUSES,
            aliases=(("signe", "signée"), ("a renouveler", "à renouveler"), ("non signe", "non signée")),
        ),
        Column(
            "Date de signature",
            "date_signature",
            "date",
            "JJ/MM/AAAA ; vide si non signée",
            "27/02/2025",
            bounds=Bounds(
                date(2000, 1, 1),
                date(2099, 12, 31),
                plausible_low=date(2010, 1, 1),
                not_future=True,
                why="les CTG datent des années 2010 ; une signature est passée",
            ),
        ),
        Column(
            "Date de fin",
            "date_fin",
            "date",
            "date d'échéance de la convention, JJ/MM/AAAA",
            "31/12/2028",
            bounds=Bounds(
                date(2000, 1, 1),
                date(2099, 12, 31),
                plausible_low=date(2012, 1, 1),
                plausible_high=date(2040, 12, 31),
                why="une CTG dure en général 4 à 5 ans",
            ),
        ),
        Column(
            "Cofinanceur",
            "cofinanceur",
            "choix",
            "collectivité qui cofinance les places : « commune » ou « epci » (vide : le niveau de la ligne)",
            "epci",
            choices=("commune", "epci"),
            aliases=(("intercommunalite", "epci"),),
        ),
        _DATE_EXTRACTION,
    ),
    output=("niveau", "code", "nom", "statut", "date_signature", "date_fin", "cofinanceur"),
    points=False,
    example_rows=(
        ("epci", "200027183", "Perpignan Méditerranée Métropole", "signée", "15/06/2023", "31/12/2027", "epci", ""),
        ("epci", "246600282", "", "en cours", "", "", "", ""),
        ("commune", "66136", "Perpignan", "signée", "27/02/2025", "31/12/2028", "commune", ""),
        ("epci", "200043602", "", "à renouveler", "01/01/2020", "31/12/2024", "epci", ""),
    ),
)

DEMANDE = Template(
    id="caf_demande",
    stem="demande",
    title="Demande par commune (enfants couverts, taux de couverture) — extrait Caf",
    dataset="Enfants couverts par la Caf par tranche d'âge et taux de couverture communal (suivi interne Caf)",
    columns=(
        _CODE_COMMUNE,
        _COMMUNE,
        Column(
            "Enfants couverts de moins de 3 ans",
            "enfants_0_2",
            "entier",
            "enfants de 0 à 2 ans des familles allocataires de la commune (entier ≥ 0) ; sert de demande quand le "
            "recensement Insee par âge n'est pas importé",
            "3150",
            bounds=Bounds(
                0,
                200_000,
                plausible_high=60_000,
                why="Paris, la plus grande commune, compte environ 55 000 enfants de moins de 3 ans",
            ),
        ),
        Column(
            "Enfants couverts de 3 à 10 ans",
            "enfants_3_10",
            "entier",
            "enfants de 3 à 10 ans des familles allocataires (entier ≥ 0)",
            "9800",
            bounds=Bounds(
                0,
                600_000,
                plausible_high=200_000,
                why="Paris, la plus grande commune, compte environ 170 000 enfants de 3 à 10 ans",
            ),
        ),
        Column(
            "Taux de couverture global (%)",
            "taux_couverture",
            "nombre",
            "taux de couverture global communal calculé par la Caf (places pour 100 enfants de moins de 3 ans) ; "
            "vide si inconnu (la Cnaf ne publie que les communes de plus de 10 000 habitants)",
            "48,5",
            present=False,
            bounds=Bounds(
                0,
                300,
                plausible_high=150,
                why="le taux compte des places, il peut dépasser 100 mais rarement 150",
            ),
        ),
        _DATE_EXTRACTION,
    ),
    output=("code_commune", "enfants_0_2", "enfants_3_10", "taux_couverture"),
    points=False,
    example_rows=(
        ("66136", "Perpignan", "3150", "9800", "48,5", "31/03/2025"),
        ("66149", "Prades", "140", "470", "", "31/03/2025"),
        ("66049", "Céret", "190", "620", "", "31/03/2025"),
    ),
)

TEMPLATES: tuple[Template, ...] = (EAJE, ALSH, CENTRES_SOCIAUX, ACCUEILS, CTG, DEMANDE)
"""Every CAF template, in the order of the guide."""


KIND_LABELS = {
    "entier": "nombre entier",
    "nombre": "nombre décimal",
    "coordonnee": "nombre décimal (degrés)",
    "date": "date",
}


def _plausible_text(bounds: Bounds) -> str:
    low, high = bounds.plausible_low, bounds.plausible_high
    if low is not None and high is not None:
        text = f"{format_limit(low)} à {format_limit(high)}"
    elif low is not None:
        text = f"à partir de {format_limit(low)}"
    elif high is not None:
        text = f"jusqu'à {format_limit(high)}"
    else:
        text = ""
    if bounds.not_future:
        text = f"{text}, pas dans le futur" if text else "pas dans le futur"
    return f"{text or '—'} : {bounds.why}" if bounds.why and text else bounds.why or text or "—"


def bounds_markdown() -> str:
    """The guide's table of every bounded column (``docs/caf_extracts.md``, kept identical by a test)."""
    lines = [
        "| Modèle | Colonne | Type | Valeurs possibles (sinon : erreur) "
        "| Valeurs vraisemblables (sinon : avertissement) |",
        "|---|---|---|---|---|",
    ]
    for template in TEMPLATES:
        for column in template.columns:
            if column.bounds is None:
                continue
            possible = f"{format_limit(column.bounds.low)} à {format_limit(column.bounds.high)}"
            lines.append(
                f"| `{template.id}` | {column.name} | {KIND_LABELS.get(column.kind, column.kind)} | {possible} | "
                f"{_plausible_text(column.bounds)} |"
            )
    return "\n".join(lines)


def limits_markdown() -> str:
    """The guide's table of :data:`CAF_LIMITS` (kept identical by a test)."""
    limits = CAF_LIMITS
    rows = [
        ("Taille du fichier", f"{format_limit((limits.max_bytes or 0) / (1024 * 1024))} Mo"),
        ("Classeur Excel une fois décompressé", f"{format_limit((limits.max_unzipped_bytes or 0) / (1024 * 1024))} Mo"),
        ("Lignes de données", format_limit(limits.max_rows or 0)),
        ("Lignes lues, vides comprises", format_limit(limits.max_lines or 0)),
        ("Colonnes", format_limit(limits.max_columns)),
        ("Caractères dans une cellule", format_limit(limits.max_cell_chars)),
        ("Lignes vides de suite qui terminent une feuille Excel", format_limit(limits.empty_run)),
    ]
    return "\n".join(["| Limite | Valeur |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def numeric_bounds(layer_id: str) -> dict[str, tuple[float, float]]:
    """Output column → (low, high) of the numeric columns of a CAF layer (empty for any other layer): what the bundle
    checks again when it is loaded."""
    template = next((t for t in TEMPLATES if t.id == layer_id), None)
    if template is None:
        return {}
    return {
        c.key: (number_limit(c.bounds.low), number_limit(c.bounds.high))
        for c in template.columns
        if c.key and c.bounds is not None and c.kind in {"entier", "nombre", "coordonnee"}
    }


def get_template(template_id: str) -> Template:
    """Template by id (``caf_eaje``…); ``KeyError`` names the known ids."""
    for template in TEMPLATES:
        if template.id == template_id:
            return template
    raise KeyError(f"modèle inconnu : {template_id!r} (connus : {', '.join(t.id for t in TEMPLATES)})")


# ---------------------------------------------------------------------------------------------------------------
# Small parsers
# ---------------------------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Comparable form of a value: no accents, lower case, hyphens/apostrophes/underscores as spaces."""
    text = normalise_name(str(text))
    return re.sub(r"\s+", " ", re.sub(r"[-_'’.]", " ", text)).strip()


_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4\u0060"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u2033\u00ab\u00bb"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_LOOK_ALIKES = str.maketrans(
    {
        **dict.fromkeys(_DASHES, "-"),
        **dict.fromkeys(_QUOTES, "'"),
        **dict.fromkeys(_DOUBLE_QUOTES, '"'),
        **dict.fromkeys(_INVISIBLE, ""),
    }
)


def identity_key(text: str) -> str:
    """What makes two identifiers « the same » for an adviser: Unicode look-alikes folded (NFKC: full-width letters,
    non-breaking spaces; every dash to ``-``, every quote to ``'``), invisible characters dropped, spaces collapsed,
    case ignored. ``EAJE‐0001`` (U+2010 hyphen) and ``eaje-0001`` are the key of ``EAJE-0001``."""
    folded = unicodedata.normalize("NFKC", text).translate(_LOOK_ALIKES)
    return re.sub(r"\s+", " ", folded).strip().casefold()


def _clean_code(text: str) -> str:
    """A code with look-alikes folded (full-width digits, invisible characters) and, when it is made of digits, its
    spaces dropped (« ６６ 136 » → ``66136``); anything else is kept as typed, for the error message."""
    folded = unicodedata.normalize("NFKC", text).translate(_LOOK_ALIKES).strip()
    compact = re.sub(r"\s+", "", folded)
    return compact if compact.isdigit() else folded


def format_limit(value: Limit) -> str:
    """A bound as an adviser writes it: ``1 000``, ``2,5``, ``31/12/2099``."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    number = float(value)
    if number.is_integer():
        return format_number(number, 0, minus=MINUS)
    return format_short(number, minus=MINUS)


_YES = {"oui", "o", "1", "vrai", "x", "yes", "true"}
_NO = {"non", "n", "0", "faux", "no", "false"}

_DATE_FR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
_DATE_IN_NAME = re.compile(r"(20\d{2})[-_]?(\d{2})[-_]?(\d{2})")


def parse_date(text: str) -> date | None:
    """``31/03/2025``, ``31-03-2025``, ``2025-03-31`` (Excel dates arrive as the latter) → date; else None."""
    text = text.strip()
    m = _DATE_FR.match(text)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _DATE_ISO.match(text)
        if not m:
            return None
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _choice_map(column: Column) -> dict[str, str]:
    mapping = {_norm(c): c for c in column.choices}
    mapping.update({_norm(a): c for a, c in column.aliases})
    return mapping


def _looks_lambert93(x: float, y: float) -> bool:
    return 50_000 <= x <= 1_300_000 and 6_000_000 <= y <= 7_200_000


def _lambert_to_wgs84(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    transformer = Transformer.from_crs(LAMBERT93, WGS84, always_xy=True)
    lon, lat = transformer.transform(x, y)
    return float(lon), float(lat)


def _fmt_deg(value: float) -> str:
    return format_number(value, 5)


# ---------------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Checked:
    """Parsed columns of a file (one list per output key, aligned with the rows) and the problems found."""

    values: dict[str, list[Any]]
    lines: list[int]
    problems: list[Problem]
    extraction_dates: list[date]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != WARNING]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]


def _read(template: Template, path: Path, warnings: list[Problem]) -> pd.DataFrame:
    """Read the file with every template column renamed to its template spelling; report missing columns at once."""
    df = read_table(path, optional=template.headers, warnings=warnings, limits=CAF_LIMITS)
    file = path.name
    present = set(df.columns)
    unknown = [c for c in df.columns if c != LINE and c not in template.headers]
    problems = []
    for column in template.columns:
        if not column.present or column.name in present:
            continue
        close = difflib.get_close_matches(_norm(column.name), [_norm(u) for u in unknown], n=1, cutoff=0.5)
        if close:
            original = next(u for u in unknown if _norm(u) == close[0])
            hint = f"la colonne « {original} » est-elle celle-ci ? renommez-la « {column.name} »"
        else:
            hint = f"ajoutez la colonne « {column.name} » (en-têtes du modèle : {' ; '.join(template.headers)})"
        problems.append(
            Problem(file, "colonne obligatoire absente ou renommée", row=1, column=column.name, suggestion=hint)
        )
    if problems:
        raise DataError(problems)
    for name in unknown:
        warnings.append(
            Problem(
                file,
                "colonne inconnue, ignorée",
                row=1,
                column=name,
                suggestion="vérifiez l'orthographe si elle devait être lue",
                severity=WARNING,
            )
        )
    return df


class _Validator:
    """Check the cells of one file against its template and the commune base, collecting every problem."""

    def __init__(self, template: Template, df: pd.DataFrame, file: str, ctx: ImportContext):
        self.template = template
        self.df = df
        self.file = file
        self.ctx = ctx
        self.lines: list[int] = [int(x) for x in df[LINE].tolist()]
        self.problems: list[Problem] = []
        self.communes = ctx.communes.set_index("code", drop=False)

    def cells(self, name: str) -> list[str]:
        if name not in self.df.columns:
            return [""] * len(self.df)
        return ["" if v is None else str(v).strip() for v in self.df[name].tolist()]

    def problem(
        self, i: int | None, column: str | None, message: str, suggestion: str = "", warn: bool = False
    ) -> None:
        row = None if i is None else self.lines[i]
        self.problems.append(
            Problem(
                self.file,
                message,
                row=row,
                column=column,
                suggestion=suggestion,
                severity=WARNING if warn else "erreur",
            )
        )

    # -- generic column kinds --------------------------------------------------------------------------------------

    def run(self) -> _Checked:
        values: dict[str, list[Any]] = {}
        for column in self.template.columns:
            cells = self.cells(column.name)
            parsed = self.parse_column(column, cells)
            if column.key:
                values[column.key] = parsed
        dates = self.extraction_dates()
        if self.template.points:
            self.check_points(values)
        special: Callable[[dict[str, list[Any]]], None] | None = {
            "caf_eaje": self.check_eaje,
            "caf_alsh": self.check_alsh,
            "caf_ctg": self.check_ctg,
            "caf_demande": self.check_demande,
        }.get(self.template.id)
        if special:
            special(values)
        return _Checked(values=values, lines=self.lines, problems=self.problems, extraction_dates=dates)

    def parse_column(self, column: Column, cells: list[str]) -> list[Any]:
        out: list[Any] = []
        for i, text in enumerate(cells):
            if text == "":
                if column.mandatory:
                    self.problem(i, column.name, "valeur obligatoire manquante", f"exemple : {column.example}")
                out.append(
                    np.nan
                    if column.kind in {"entier", "nombre", "coordonnee"}
                    else None
                    if column.kind == "oui_non"
                    else ""
                )
                continue
            out.append(self.parse_cell(column, i, text))
        if column.kind == "identifiant":
            self.check_unique(column, out)
        return out

    def parse_cell(self, column: Column, i: int, text: str) -> object:
        kind = column.kind
        if kind == "entier":
            number = parse_number(text)
            if number is None:
                self.problem(
                    i, column.name, f"« {text[:40]} » n'est pas un nombre", "écrivez un nombre entier, par ex. 24"
                )
                return np.nan
            if number < 0 and column.bounds is not None and column.bounds.low == 0:
                what = "nombre de places" if "places" in column.name.lower() else "nombre"
                self.problem(i, column.name, f"{what} négatif ({text})", "écrivez 0 ou un nombre positif")
                return np.nan
            if not self.within_bounds(column, i, number, text[:40]):
                return np.nan
            if not float(number).is_integer():
                self.problem(i, column.name, f"« {text} » n'est pas un nombre entier", "un nombre de places est entier")
                return np.nan
            self.check_plausible(column, i, number, text[:40])
            return float(number)
        if kind == "nombre":
            number = parse_number(text)
            if number is None or number < 0:
                self.problem(i, column.name, f"« {text[:40]} » n'est pas un nombre positif", f"ex. {column.example}")
                return np.nan
            if not self.within_bounds(column, i, number, text[:40]):
                return np.nan
            self.check_plausible(column, i, number, text[:40])
            return float(number)
        if kind == "coordonnee":
            number = parse_number(text)
            if number is None or not math.isfinite(number):
                self.problem(i, column.name, f"« {text[:40]} » n'est pas une coordonnée", "degrés décimaux, ex. 2,8954")
                return np.nan
            return float(number)
        if kind == "oui_non":
            low = _norm(text)
            if low in _YES:
                return True
            if low in _NO:
                return False
            self.problem(i, column.name, f"« {text[:40]} » : répondez « oui » ou « non »", "oui ou non")
            return None
        if kind == "choix":
            mapping = _choice_map(column)
            canonical = mapping.get(_norm(text))
            if canonical is not None:
                return canonical
            close = difflib.get_close_matches(_norm(text), list(mapping), n=1, cutoff=0.6)
            allowed = " ; ".join(column.choices)
            hint = f"vouliez-vous dire « {mapping[close[0]]} » ? " if close else ""
            message = f"valeur « {text[:40]} » inconnue"
            if column.strict:
                self.problem(i, column.name, message, f"{hint}valeurs possibles : {allowed}")
            else:
                self.problem(
                    i, column.name, message + " (gardée telle quelle)", f"{hint}valeurs prévues : {allowed}", True
                )
            return text
        if kind == "code_commune":
            return self.check_commune_code(column, i, text)
        if kind == "date":
            parsed = parse_date(text)
            if parsed is None:
                self.problem(i, column.name, f"« {text[:40]} » n'est pas une date", "écrivez la date en JJ/MM/AAAA")
                return ""
            if not self.within_bounds(column, i, parsed, format_limit(parsed)):
                return ""
            self.check_plausible(column, i, parsed, format_limit(parsed))
            return parsed.isoformat()
        if kind == "code":
            text = _clean_code(text)
            return text.zfill(5) if text.isdigit() and len(text) == 4 else text
        return text  # texte, identifiant: kept exactly as typed (HTML included, never interpreted)

    def within_bounds(self, column: Column, i: int, value: float | date, shown: str) -> bool:
        """False (and a blocking error naming the bound) when ``value`` is impossible for ``column``."""
        bounds = column.bounds
        finite = not isinstance(value, float) or math.isfinite(value)
        if bounds is None or (finite and not below(value, bounds.low) and not below(bounds.high, value)):
            return finite
        self.problem(
            i,
            column.name,
            f"valeur {shown} hors limites : « {column.name} » doit être entre {format_limit(bounds.low)} et "
            f"{format_limit(bounds.high)}",
            "vérifiez la cellule (chiffres en trop, format de cellule, date mal saisie ?)",
        )
        return False

    def check_plausible(self, column: Column, i: int, value: float | date, shown: str) -> None:
        """A warning when ``value`` is possible but unusual for ``column`` (it is kept)."""
        bounds = column.bounds
        if bounds is None:
            return
        why = f" ; {bounds.why}" if bounds.why else ""
        if bounds.plausible_low is not None and below(value, bounds.plausible_low):
            issue = f"inférieure à {format_limit(bounds.plausible_low)}"
        elif bounds.plausible_high is not None and below(bounds.plausible_high, value):
            issue = f"supérieure à {format_limit(bounds.plausible_high)}"
        elif bounds.not_future and isinstance(value, date) and value > date.today():
            issue = "dans le futur"
        else:
            return
        self.problem(
            i, column.name, f"valeur {shown} inhabituelle ({issue})", f"vérifiez-la{why} ; elle est gardée", warn=True
        )

    def check_unique(self, column: Column, values: list[Any]) -> None:
        """Refuse identifiers that are the same once Unicode look-alikes, spaces and case are folded."""
        first: dict[str, int] = {}
        for i, value in enumerate(values):
            if value == "":
                continue
            key = identity_key(value)
            if not key:
                self.problem(i, column.name, "identifiant fait seulement de caractères invisibles", "écrivez-le")
            elif key in first:
                before = values[first[key]]
                same = ""
                if before != value:
                    same = (
                        f" (même identifiant que « {before} » aux tirets, espaces, majuscules ou caractères "
                        "invisibles près)"
                    )
                self.problem(
                    i,
                    column.name,
                    f"identifiant « {value} » en double{same}",
                    f"déjà utilisé ligne {self.lines[first[key]]} ; chaque ligne doit avoir son propre identifiant",
                )
            else:
                first[key] = i

    def check_commune_code(self, column: Column, i: int, text: str) -> str:
        text = _clean_code(text)
        code = text.zfill(5) if text.isdigit() and len(text) == 4 else text
        if code in self.communes.index:
            self.check_commune_name(i, code)
            return code
        if len(code) == 5 and not self.ctx.in_scope(code):
            self.problem(
                i,
                column.name,
                f"la commune « {code} » n'est pas dans le département {self.ctx.departement}",
                "cet extrait ne doit contenir que les structures du département",
            )
            return code
        hint = self.closest_commune(i)
        if not hint and code.endswith("0") and code.isdigit():
            hint = f"« {code} » ressemble à un code postal : indiquez le code INSEE de la commune"
        self.problem(
            i, column.name, f"code commune « {code} » inconnu", hint or "vérifiez le code INSEE (5 caractères)"
        )
        return code

    def closest_commune(self, i: int) -> str:
        """Suggest a code from the optional « Commune » name of the row (the closest known name)."""
        names = self.cells(_COMMUNE.name)
        if not names[i]:
            return ""
        by_norm = {_norm(n): c for c, n in zip(self.ctx.communes["code"], self.ctx.communes["nom"], strict=True)}
        close = difflib.get_close_matches(_norm(names[i]), list(by_norm), n=1, cutoff=0.6)
        if not close:
            return ""
        code = by_norm[close[0]]
        return f"commune la plus proche par le nom : {self.communes.at[code, 'nom']} ({code})"

    def check_commune_name(self, i: int, code: str) -> None:
        names = self.cells(_COMMUNE.name)
        if not names[i] or _norm(names[i]) == _norm(self.communes.at[code, "nom"]):
            return
        matches = self.ctx.communes[self.ctx.communes["nom"].map(_norm) == _norm(names[i])]
        if len(matches) == 1:
            other = matches.iloc[0]
            self.problem(
                i,
                _CODE_COMMUNE.name,
                f"le code {code} est celui de {self.communes.at[code, 'nom']}, pas de {names[i]}",
                f"code de {other['nom']} : {other['code']}",
                warn=True,
            )

    def extraction_dates(self) -> list[date]:
        cells = self.cells(_DATE_EXTRACTION.name)
        return sorted({d for d in (parse_date(c) for c in cells if c) if d is not None})

    # -- coordinates -----------------------------------------------------------------------------------------------

    def check_points(self, values: dict[str, list[Any]]) -> None:
        lon, lat = values["lon"], values["lat"]
        lon_name, lat_name = _LONGITUDE.name, _LATITUDE.name
        raw_lon, raw_lat = self.cells(lon_name), self.cells(lat_name)
        candidates = []
        for i in range(len(lon)):
            x, y = lon[i], lat[i]
            if bool(raw_lon[i]) != bool(raw_lat[i]):
                missing = lat_name if raw_lon[i] else lon_name
                self.problem(
                    i, missing, "coordonnée incomplète", "remplissez longitude et latitude, ou aucune des deux"
                )
                continue
            if np.isnan(x) or np.isnan(y):
                continue
            if _looks_lambert93(x, y):
                glon, glat = _lambert_to_wgs84(x, y)
                self.problem(
                    i,
                    lon_name,
                    "coordonnées en Lambert-93 (mètres) et non en degrés",
                    f"en degrés WGS84 : longitude {_fmt_deg(glon)} ; latitude {_fmt_deg(glat)}",
                )
                continue
            lon_ok, lat_ok = (
                c.bounds is None or not (below(v, c.bounds.low) or below(c.bounds.high, v))
                for c, v in ((_LONGITUDE, x), (_LATITUDE, y))
            )
            if not (lon_ok and lat_ok):
                bad = _LONGITUDE if not lon_ok else _LATITUDE
                low, high = (
                    (format_limit(bad.bounds.low), format_limit(bad.bounds.high))
                    if bad.bounds is not None
                    else ("?", "?")
                )
                self.problem(
                    i,
                    bad.name,
                    f"coordonnées impossibles ({raw_lon[i][:20]} ; {raw_lat[i][:20]}) : « {bad.name} » doit être "
                    f"entre {low} et {high}",
                    "degrés décimaux WGS84",
                )
                continue
            candidates.append(i)
        if not candidates:
            return
        idx = np.array(candidates)
        xs = np.array([lon[i] for i in candidates])
        ys = np.array([lat[i] for i in candidates])
        located = territory.points(xs, ys)
        communes = self.ctx.communes
        inside = territory.near_territory(located, communes, territory.CAF_TOLERANCE_M)
        swapped_inside = territory.near_territory(territory.points(ys, xs), communes, territory.CAF_TOLERANCE_M)
        for k, i in enumerate(idx):
            if inside[k]:
                continue
            if swapped_inside[k]:
                hint = "longitude et latitude semblent inversées"
            else:
                hint = "vérifiez les coordonnées, ou laissez-les vides pour placer la structure à la mairie"
            self.problem(
                int(i),
                lon_name,
                f"point ({raw_lon[i]} ; {raw_lat[i]}) hors du département {self.ctx.departement}",
                hint,
            )
        codes = values.get("code_commune", [""] * len(lon))
        checked = [k for k, i in enumerate(idx) if inside[k] and codes[i] in self.communes.index]
        own = gpd.GeoSeries([self.communes.at[codes[idx[k]], "geometry"] for k in checked], crs=communes.crs)
        in_own = territory.near_own_commune(located.iloc[checked], own, territory.COMMUNE_TOLERANCE_M)
        for k, ok in zip(checked, in_own, strict=True):
            i, code = idx[k], codes[idx[k]]
            if not ok:
                self.problem(
                    int(i),
                    lon_name,
                    f"le point n'est pas dans la commune {self.communes.at[code, 'nom']} ({code})",
                    "vérifiez le code commune ou les coordonnées",
                    warn=True,
                )

    # -- template-specific rules -----------------------------------------------------------------------------------

    def check_eaje(self, values: dict[str, list[Any]]) -> None:
        for i, (kind, places) in enumerate(zip(values["type_accueil"], values["places"], strict=True)):
            if kind in MICRO_CRECHES and places > MICRO_CRECHE_MAX_PLACES:
                self.problem(
                    i,
                    "Places",
                    f"micro-crèche de {format_limit(places)} places : une micro-crèche en compte "
                    f"{MICRO_CRECHE_MAX_PLACES} au plus",
                    "vérifiez le nombre de places ou le type d'accueil",
                    warn=True,
                )
        for i, (kind, psu) in enumerate(zip(values["type_accueil"], values["psu"], strict=True)):
            if kind == "micro-crèche PAJE" and psu is True:
                self.problem(
                    i,
                    "PSU",
                    "une micro-crèche PAJE n'est pas financée par la PSU",
                    "mettez « non », ou le type « micro-crèche PSU »",
                    warn=True,
                )

    def check_alsh(self, values: dict[str, list[Any]]) -> None:
        keys = ("places_periscolaire", "places_mercredi", "places_vacances")
        raw = [self.cells(self.template.column(k).name) for k in keys]
        for i in range(len(self.lines)):
            if not any(col[i] for col in raw):
                self.problem(i, None, "aucun nombre de places renseigné", "indiquez au moins une capacité", warn=True)

    def check_demande(self, values: dict[str, list[Any]]) -> None:
        """One row per commune: two rows would make the demand of a commune ambiguous."""
        first: dict[str, int] = {}
        for i, code in enumerate(values["code_commune"]):
            if code in first:
                self.problem(
                    i, _CODE_COMMUNE.name, f"commune {code} en double", f"déjà décrite ligne {self.lines[first[code]]}"
                )
            elif code:
                first[code] = i

    def check_ctg(self, values: dict[str, list[Any]]) -> None:
        epci = self.ctx.communes.drop_duplicates("epci_code").set_index("epci_code")["epci_nom"]
        epci = epci[epci.index != ""]
        code_name = self.template.column("code").name
        noms = values["nom"]
        seen: dict[tuple[str, str], int] = {}
        for i, (level, code) in enumerate(zip(values["niveau"], values["code"], strict=True)):
            if level == "epci" and code:
                if code in epci.index:
                    noms[i] = noms[i] or str(epci[code])
                else:
                    close = difflib.get_close_matches(_norm(noms[i]), [_norm(n) for n in epci], n=1, cutoff=0.5)
                    hint = "n° SIREN à 9 chiffres de l'EPCI (banatic)"
                    if close:
                        match = next(c for c, n in epci.items() if _norm(n) == close[0])
                        hint = f"EPCI le plus proche par le nom : {epci[match]} ({match})"
                    self.problem(i, code_name, f"EPCI « {code} » inconnu dans le département", hint)
            elif level == "commune" and code:
                if code in self.communes.index:
                    noms[i] = noms[i] or str(self.communes.at[code, "nom"])
                elif len(code) == 5 and not self.ctx.in_scope(code):
                    self.problem(
                        i, code_name, f"la commune « {code} » n'est pas dans le département {self.ctx.departement}"
                    )
                else:
                    self.problem(i, code_name, f"code commune « {code} » inconnu", "code INSEE à 5 caractères")
            key = (level, code)
            if code and key in seen:
                self.problem(i, code_name, f"{level} {code} en double", f"déjà décrit ligne {self.lines[seen[key]]}")
            elif code:
                seen[key] = i
        for i in range(len(self.lines)):
            start, end = values["date_signature"][i], values["date_fin"][i]
            if start and end and end < start:
                self.problem(
                    i, "Date de fin", "date de fin antérieure à la date de signature", "vérifiez les deux dates"
                )
            if values["statut"][i] in {"signée", "à renouveler"} and not start:
                self.problem(
                    i, "Date de signature", "convention signée sans date de signature", "ajoutez-la", warn=True
                )
            if not values["cofinanceur"][i]:
                values["cofinanceur"][i] = values["niveau"][i] if values["niveau"][i] in CTG_LEVELS else ""


# ---------------------------------------------------------------------------------------------------------------
# Output tables
# ---------------------------------------------------------------------------------------------------------------


def _build_table(template: Template, checked: _Checked, ctx: ImportContext) -> pd.DataFrame:
    values = checked.values
    n = len(checked.lines)
    data: dict[str, object] = {}
    if template.points:
        halls = ctx.communes.set_index("code")
        lon = np.array(values["lon"], dtype=float)
        lat = np.array(values["lat"], dtype=float)
        given = ~(np.isnan(lon) | np.isnan(lat))
        codes = values["code_commune"]
        for i in np.flatnonzero(~given):
            lon[i] = float(halls.at[codes[i], "mairie_lon"])
            lat[i] = float(halls.at[codes[i], "mairie_lat"])
        values = {**values, "lon": lon.tolist(), "lat": lat.tolist()}
        values["geolocalisation"] = [GEO_COORDS if g else GEO_TOWN_HALL for g in given]
    for key in template.output:
        column = values[key]
        if key in {"lon", "lat", "enfants_0_2", "enfants_3_10", "taux_couverture"} or key.startswith("places_"):
            data[key] = pd.Series(column, dtype="float64")
        elif key == "places":
            data[key] = _to_int64(column, template.column(key))
        elif key == "psu":
            data[key] = pd.Series(column, dtype="bool")
        else:
            data[key] = pd.Series([str(v) for v in column], dtype="str")
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    if not template.points:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=WGS84)


def _to_int64(values: Sequence[float], column: Column) -> pd.Series:
    """Integer column, refused (never wrapped around) if a value is missing, fractional or beyond its bounds.

    Validation has already refused such values; this is the last guard before the bundle: ``1e20`` cast to int64
    would silently become −9 223 372 036 854 775 808.
    """
    array = np.asarray(values, dtype="float64")
    low, high = (column.bounds.low, column.bounds.high) if column.bounds is not None else (0, 2**53)
    if not (np.isfinite(array).all() and (array == np.round(array)).all() and ((array >= low) & (array <= high)).all()):
        raise ValueError(f"« {column.name} » : valeur non entière ou hors limites après validation")
    return pd.Series(array.astype("int64"))


def extraction_date(path: Path, column_dates: Sequence[date] = ()) -> tuple[str, str] | None:
    """Extraction date of a CAF file (ISO) and where it was read: the column, the file name, ``date_extraction.txt``.

    Why this order: the column travels with the data; the file name is the habit of saving « eaje_2025-03-31.csv »;
    the directory-wide file covers a batch exported on one day.
    """
    if column_dates:
        return max(column_dates).isoformat(), "colonne « Date d'extraction »"
    m = _DATE_IN_NAME.search(path.stem)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat(), "nom du fichier"
        except ValueError:
            pass
    side = path.parent / DATE_FILE
    if side.is_file():
        lines = side.read_text(encoding="utf-8-sig", errors="replace").strip().splitlines()
        parsed = parse_date(lines[0]) if lines else None
        if parsed is not None:
            return parsed.isoformat(), DATE_FILE
    return None


def is_synthetic_dir(directory: Path) -> bool:
    """Whether a CAF directory holds the fictitious-data marker (the demo extract)."""
    return (directory / SYNTHETIC_MARKER).is_file()


def _check(template: Template, path: Path, ctx: ImportContext) -> _Checked:
    warnings: list[Problem] = []
    df = _read(template, path, warnings)
    checked = _Validator(template, df, path.name, ctx).run()
    checked.problems[:0] = warnings
    order = {name: k for k, name in enumerate(template.headers)}
    # Line by line, then in column order: the adviser fixes the file from top to bottom.
    checked.problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", len(order))))
    return checked


def import_caf_file(template: Template, path: Path, ctx: ImportContext) -> LayerResult:
    """Validate and import one CAF extract of ``template``.

    Raises:
        DataError: every blocking problem of the file at once (line, column, French message, suggestion).
    """
    path = Path(path)
    checked = _check(template, path, ctx)
    if checked.errors:
        raise DataError(checked.errors)
    table = _build_table(template, checked, ctx)
    notes: list[str] = []
    found = extraction_date(path, checked.extraction_dates)
    if found:
        notes.append(f"Date d'extraction : {found[0]} ({found[1]})")
    else:
        notes.append("Date d'extraction inconnue : ajoutez la colonne « Date d'extraction » ou datez le nom du fichier")
    if len(checked.extraction_dates) > 1:
        notes.append("plusieurs dates d'extraction dans le fichier : la plus récente est retenue")
    if template.points:
        n_hall = int((table["geolocalisation"] == GEO_TOWN_HALL).sum())
        if n_hall:
            notes.append(f"{n_hall} structure(s) sans coordonnées placée(s) au point de la mairie")
    synthetic = is_synthetic_dir(path.parent)
    if synthetic:
        notes.append(
            f"Données fictives ({SYNTHETIC_MARKER} présent dans le dossier) : à ne jamais diffuser comme réelles"
        )
    return LayerResult(
        layer_id=template.id,
        table=table,
        source_id=template.id,
        input_files=[path],
        warnings=checked.warnings,
        notes=notes,
        vintage=f"extrait du {_french_date(found[0])}" if found else "date d'extraction inconnue",
        synthetic=synthetic,
    )


def _french_date(iso: str) -> str:
    """``2025-03-31`` → ``31/03/2025`` (how advisers write dates)."""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def import_caf_eaje(path: Path, ctx: ImportContext) -> LayerResult:
    """Crèches (EAJE) extract → ``caf_eaje`` points."""
    return import_caf_file(EAJE, path, ctx)


def import_caf_alsh(path: Path, ctx: ImportContext) -> LayerResult:
    """ALSH extract → ``caf_alsh`` points."""
    return import_caf_file(ALSH, path, ctx)


def import_caf_centres_sociaux(path: Path, ctx: ImportContext) -> LayerResult:
    """Centres sociaux and EVS extract → ``caf_centres_sociaux`` points."""
    return import_caf_file(CENTRES_SOCIAUX, path, ctx)


def import_caf_accueils(path: Path, ctx: ImportContext) -> LayerResult:
    """Caf accueils and permanences → ``caf_accueils`` points."""
    return import_caf_file(ACCUEILS, path, ctx)


def import_caf_ctg(path: Path, ctx: ImportContext) -> LayerResult:
    """CTG status per EPCI or commune → ``caf_ctg`` table."""
    return import_caf_file(CTG, path, ctx)


def import_caf_demande(path: Path, ctx: ImportContext) -> LayerResult:
    """Children covered and commune coverage rates → ``caf_demande`` table (one row per commune)."""
    return import_caf_file(DEMANDE, path, ctx)


# ---------------------------------------------------------------------------------------------------------------
# Template recognition and checking (CLI `data check`, upload page)
# ---------------------------------------------------------------------------------------------------------------


def detect_template(columns: Sequence[str], file_name: str = "") -> Template | None:
    """Template whose columns best match ``columns`` (ties broken by the file name prefix); None if none fits.

    Why by columns: an adviser may name the file anything when uploading it; the header says what it is.
    """
    found = {_norm(c) for c in columns}
    best: tuple[float, int, Template] | None = None
    for template in TEMPLATES:
        needed = [_norm(c.name) for c in template.columns if c.present]
        share = sum(n in found for n in needed) / len(needed)
        named = int(Path(file_name).name.lower().startswith(template.stem))
        score = (share, named, template)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None or best[0] < 0.5:
        return None
    return best[2]


def check_caf_file(path: Path, ctx: ImportContext) -> list[Problem]:
    """Every problem of a CAF file (errors and warnings), the template recognised from its header; [] when clean.

    Returns problems instead of raising, for ``ctg-carto data check`` and the upload page.
    """
    path = Path(path)
    try:
        header = read_table(path, limits=CAF_LIMITS)
    except DataError as exc:
        return exc.problems
    template = detect_template([c for c in header.columns if c != LINE], path.name)
    if template is None:
        return [
            Problem(
                path.name,
                "modèle d'extrait Caf non reconnu d'après les en-têtes",
                row=1,
                suggestion=f"partez d'un modèle vierge de {TEMPLATES_DIR} (voir {GUIDE})",
            )
        ]
    try:
        checked = _check(template, path, ctx)
    except DataError as exc:
        return exc.problems
    return checked.problems


# ---------------------------------------------------------------------------------------------------------------
# Writing templates (blank CSV/XLSX, filled examples) and the catalogue entries
# ---------------------------------------------------------------------------------------------------------------


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    r"""Write a CAF-style CSV: ``;`` separator, UTF-8 with BOM (so Excel shows the accents), ``\r\n`` lines."""
    import csv
    import io

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def write_xlsx(
    path: Path, headers: Sequence[str], rows: Sequence[Sequence[str]] = (), help_sheet: Template | None = None
) -> Path:
    """Write a template workbook: data on the first sheet (what the importer reads), column help on a second one."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Données"
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    for i, name in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(14, len(name) + 4)
    if help_sheet is not None:
        aide = wb.create_sheet("Aide")
        aide.append(["Colonne", "Obligatoire", "Contenu", "Exemple"])
        for column in help_sheet.columns:
            mandatory = "oui" if column.mandatory else "non"
            allowed = f" Valeurs : {' ; '.join(column.choices)}." if column.choices else ""
            aide.append([column.name, mandatory, column.description + "." + allowed, column.example])
    wb.save(path)
    return path


def write_templates(dest: Path) -> list[Path]:
    """Write, for each template, a blank CSV, a blank XLSX and a filled example CSV (``docs/templates``)."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for template in TEMPLATES:
        written.append(write_csv(dest / f"{template.id}.csv", template.headers, []))
        written.append(write_xlsx(dest / f"{template.id}.xlsx", template.headers, help_sheet=template))
        written.append(write_csv(dest / f"{template.id}_exemple.csv", template.headers, template.example_rows))
    return written


def _source(template: Template, importer: str, section: str) -> Source:
    return Source(
        id=template.id,
        title=template.title,
        publisher=PUBLISHER,
        dataset=template.dataset,
        vintage="date d'extraction (colonne « Date d'extraction », nom du fichier ou date_extraction.txt)",
        licence="Données internes de la Caf : diffusion restreinte",
        format="CSV (séparateur « ; », UTF-8) ou XLSX (première feuille)",
        importer=f"geodata.caf_extracts:{importer}",
        file_patterns=(f"{template.stem}*.csv", f"{template.stem}*.xlsx"),
        expected_columns=tuple(c.name for c in template.columns if c.present),
        kind="caf",
        howto=(
            f"Remplir le modèle {TEMPLATES_DIR}/{template.id}.xlsx (ou .csv) comme expliqué dans {GUIDE}, "
            f"section « {section} », puis le déposer dans le dossier Caf sous le nom "
            f"{template.stem}_AAAA-MM-JJ.csv (ou .xlsx)."
        ),
        notes=("Modèle vierge et exemple rempli : " + f"{TEMPLATES_DIR}/{template.id}.csv, {template.id}_exemple.csv",),
    )


CAF_SOURCES: list[Source] = [
    _source(EAJE, "import_caf_eaje", "Crèches (EAJE)"),
    _source(ALSH, "import_caf_alsh", "Accueils de loisirs (ALSH)"),
    _source(CENTRES_SOCIAUX, "import_caf_centres_sociaux", "Centres sociaux et EVS"),
    _source(ACCUEILS, "import_caf_accueils", "Accueils et permanences de la Caf"),
    _source(CTG, "import_caf_ctg", "Conventions territoriales globales (CTG)"),
    _source(DEMANDE, "import_caf_demande", "Demande par commune"),
]
"""One catalogue entry per CAF template (``kind="caf"``), looked up in the CAF directory by ``file_patterns``."""
