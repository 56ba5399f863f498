"""CAF extract templates: the layers only the Caf holds (crèches, ALSH, centres sociaux/EVS, accueils, CTG, demand).

A Caf adviser fills one template per layer (CSV ``;`` UTF-8 or the first sheet of an XLSX, French column names,
decimal comma accepted; see ``docs/caf_extracts.md``) and drops it in the CAF directory. Each template is one
:class:`~geodata.catalogue_types.Source` of :data:`geodata.caf.importer.CAF_SOURCES`, imported by
``import_caf_<layer>``.

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

from dataclasses import dataclass
from datetime import date

from geodata.numbers import MINUS, format_number, format_short
from geodata.readers import ReadLimits

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


CODE_COMMUNE = Column(
    "Code commune",
    "code_commune",
    "code_commune",
    "code INSEE de la commune d'implantation (5 caractères, pas le code postal)",
    "66136",
    mandatory=True,
)
COMMUNE = Column(
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
LONGITUDE = Column(
    "Longitude",
    "lon",
    "coordonnee",
    "longitude en degrés décimaux WGS84 (entre 1,7 et 3,2 pour les Pyrénées-Orientales) ; vide = point de la mairie",
    "2,8954",
    present=False,
    bounds=Bounds(-180.0, 180.0, why=_POINT_RULE),
)
LATITUDE = Column(
    "Latitude",
    "lat",
    "coordonnee",
    "latitude en degrés décimaux WGS84 (entre 42,3 et 42,95 pour les Pyrénées-Orientales) ; vide = point de la mairie",
    "42,6986",
    present=False,
    bounds=Bounds(-90.0, 90.0, why=_POINT_RULE),
)
DATE_EXTRACTION = Column(
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
        CODE_COMMUNE,
        COMMUNE,
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
        LONGITUDE,
        LATITUDE,
        DATE_EXTRACTION,
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
        CODE_COMMUNE,
        COMMUNE,
        _ADRESSE,
        Column("Places périscolaire", "places_periscolaire", "entier", _PLACES_HELP, "80", bounds=_ALSH_BOUNDS),
        Column("Places mercredi", "places_mercredi", "entier", _PLACES_HELP, "60", bounds=_ALSH_BOUNDS),
        Column("Places vacances", "places_vacances", "entier", _PLACES_HELP, "72", bounds=_ALSH_BOUNDS),
        _GESTIONNAIRE,
        LONGITUDE,
        LATITUDE,
        DATE_EXTRACTION,
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
        CODE_COMMUNE,
        COMMUNE,
        _ADRESSE,
        _GESTIONNAIRE,
        LONGITUDE,
        LATITUDE,
        DATE_EXTRACTION,
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
        CODE_COMMUNE,
        COMMUNE,
        _ADRESSE,
        Column(
            "Fréquence",
            "frequence",
            "texte",
            "jours et horaires d'ouverture, en clair (« du lundi au vendredi », « 2e mardi du mois »)",
            "du lundi au vendredi",
        ),
        LONGITUDE,
        LATITUDE,
        DATE_EXTRACTION,
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
        DATE_EXTRACTION,
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
        CODE_COMMUNE,
        COMMUNE,
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
        DATE_EXTRACTION,
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


def format_limit(value: Limit) -> str:
    """A bound as an adviser writes it: ``1 000``, ``2,5``, ``31/12/2099``."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    number = float(value)
    if number.is_integer():
        return format_number(number, 0, minus=MINUS)
    return format_short(number, minus=MINUS)
