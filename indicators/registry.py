"""The indicator registry: one stable id per indicator, with its French label, unit, definition and input layers.

Why a registry: the dashboard builds its pickers, legends and CSV headers from it, and ids appear in URLs, so an id
never changes meaning. Order = theme, then importance.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def echelle(self) -> str:
        """``sequentielle`` (amounts: one hue, darker = more of what the label names) or ``categorielle`` (classes:
        distinct colours, no class controls)."""
        return SEQUENTIELLE if self.kind == "numeric" else CATEGORIELLE


SEQUENTIELLE, CATEGORIELLE = "sequentielle", "categorielle"


def _i(
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
) -> Indicator:
    return Indicator(id, label, theme, unit, definition, inputs, direction, kind, categories, decimals, carte)


OFF, A, C, Z, B, S = "Offre", "Accès", "Contexte", "Zonages", "Bonus territoire", "Sous-dotation"
UP, DOWN = "hausse_favorable", "baisse_favorable"
EAJE, POP = ("caf_eaje",), ("pop_age", "caf_demande")

_ALL = [
    # Offre
    _i(
        "eaje_nb",
        "Établissements d'accueil du jeune enfant (EAJE)",
        OFF,
        "structures",
        "Nombre d'EAJE (crèches, multi-accueils, micro-crèches) de l'extrait CAF.",
        EAJE,
        UP,
        decimals=0,
    ),
    _i(
        "eaje_places",
        "Places en EAJE",
        OFF,
        "places",
        "Places agréées des EAJE de l'extrait CAF.",
        EAJE,
        UP,
        decimals=0,
    ),
    _i(
        "eaje_places_100_moins3",
        "Places en EAJE pour 100 enfants de moins de 3 ans",
        OFF,
        "places pour 100 enfants",
        "Places EAJE rapportées aux enfants de 0 à 2 ans (Insee, à défaut enfants couverts de l'extrait Caf) ; "
        "agrégé en rapport des sommes.",
        ("caf_eaje", "pop_age", "caf_demande"),
        UP,
    ),
    _i(
        "eaje_places_1000_hab",
        "Places en EAJE pour 1 000 habitants",
        OFF,
        "places pour 1 000 habitants",
        "Places EAJE rapportées à la population municipale.",
        ("caf_eaje", "communes"),
        UP,
    ),
    _i(
        "eaje_places_psu",
        "Places EAJE financées par la PSU",
        OFF,
        "places",
        "Places des EAJE financés par la prestation de service unique.",
        EAJE,
        UP,
        decimals=0,
    ),
    _i(
        "eaje_places_hors_psu",
        "Places EAJE hors PSU",
        OFF,
        "places",
        "Places des EAJE non financés par la PSU (micro-crèches PAJE, crèches d'entreprise).",
        EAJE,
        UP,
        decimals=0,
    ),
    _i(
        "micro_creche_paje_nb",
        "Micro-crèches PAJE",
        OFF,
        "structures",
        "Micro-crèches hors PSU (financées par la PAJE des familles), hors bonus territoire.",
        EAJE,
        UP,
        decimals=0,
    ),
    _i(
        "micro_creche_paje_places",
        "Places en micro-crèche PAJE",
        OFF,
        "places",
        "Places des micro-crèches hors PSU.",
        EAJE,
        UP,
        decimals=0,
    ),
    _i(
        "txcouv_global",
        "Taux de couverture global (accueil du jeune enfant)",
        OFF,
        "places pour 100 enfants",
        "Capacité théorique d'accueil formel pour 100 enfants de moins de 3 ans (Cnaf/Onape) ; commune publiée "
        "seulement au-delà de 10 000 habitants (ou taux communal de l'extrait Caf « demande »), sinon taux de l'EPCI.",
        ("caf_txcouv", "caf_demande"),
        UP,
    ),
    _i(
        "txcouv_eaje",
        "Taux de couverture EAJE",
        OFF,
        "places pour 100 enfants",
        "Part collective (EAJE PSU et hors PSU) du taux de couverture Cnaf.",
        ("caf_txcouv",),
        UP,
    ),
    _i(
        "ecart_txcouv_global_france",
        "Écart au taux de couverture France",
        OFF,
        "points",
        "Taux de couverture global France moins celui du territoire : positif = sous la moyenne nationale.",
        ("caf_txcouv",),
        DOWN,
    ),
    _i(
        "alsh_nb",
        "Accueils de loisirs sans hébergement (ALSH)",
        OFF,
        "structures",
        "Nombre d'ALSH de l'extrait CAF.",
        ("caf_alsh",),
        UP,
        decimals=0,
    ),
    _i(
        "alsh_places",
        "Places en ALSH",
        OFF,
        "places",
        "Capacité des ALSH : maximum des places périscolaire, mercredi et vacances de chaque structure.",
        ("caf_alsh",),
        UP,
        decimals=0,
    ),
    _i(
        "alsh_places_100_3_10",
        "Places en ALSH pour 100 enfants de 3 à 10 ans",
        OFF,
        "places pour 100 enfants",
        "Indicateur local de la Caf : places ALSH pour 100 enfants de 3 à 10 ans (Insee, à défaut enfants couverts "
        "de l'extrait Caf).",
        ("caf_alsh", "pop_age", "caf_demande"),
        UP,
    ),
    _i(
        "centres_sociaux_nb",
        "Centres sociaux",
        OFF,
        "structures",
        "Centres sociaux agréés (extrait CAF).",
        ("caf_centres_sociaux",),
        UP,
        decimals=0,
    ),
    _i(
        "evs_nb",
        "Espaces de vie sociale (EVS)",
        OFF,
        "structures",
        "EVS agréés (extrait CAF).",
        ("caf_centres_sociaux",),
        UP,
        decimals=0,
    ),
    _i(
        "caf_accueils_nb",
        "Accueils et permanences CAF",
        OFF,
        "sites",
        "Sites d'accueil CAF (extrait CAF ; à défaut annuaire de l'administration 2016).",
        ("caf_accueils", "dila_annuaire_2016"),
        UP,
        decimals=0,
    ),
    _i(
        "france_services_nb",
        "France services",
        OFF,
        "structures",
        "Structures France services (ANCT).",
        ("france_services",),
        UP,
        decimals=0,
    ),
    _i(
        "laep_nb",
        "Lieux d'accueil enfants-parents (LAEP)",
        OFF,
        "structures",
        "LAEP de la base permanente des équipements (Insee).",
        ("bpe",),
        UP,
        decimals=0,
    ),
    _i(
        "rpe_nb",
        "Relais petite enfance (RPE)",
        OFF,
        "structures",
        "RPE de la base permanente des équipements (Insee).",
        ("bpe",),
        UP,
        decimals=0,
    ),
    _i(
        "bpe_eaje_nb",
        "EAJE recensés par la BPE",
        OFF,
        "structures",
        "Établissements d'accueil du jeune enfant et micro-crèches de la BPE (Insee), incomplète.",
        ("bpe",),
        UP,
        decimals=0,
    ),
    # Accès
    _i(
        "acces_eaje",
        "Accessibilité aux places d'EAJE",
        A,
        "places accessibles pour 100 enfants de moins de 3 ans",
        "Places d'EAJE à portée de la commune, partagées avec les communes voisines qui y ont aussi accès et "
        "pondérées par la distance (méthode E2SFCA, Luo & Qi 2009 ; paramètres sous la légende) ; agrégé en moyenne "
        "pondérée par le nombre d'enfants.",
        ("caf_eaje", "pop_age", "caf_demande", "communes"),
        UP,
    ),
    _i(
        "acces_eaje_hab",
        "Accessibilité aux places d'EAJE (par habitant)",
        A,
        "places accessibles pour 1 000 habitants (population, faute de nombre d'enfants)",
        "Même méthode (E2SFCA) rapportée à la population faute de nombre d'enfants de moins de 3 ans : "
        "approximation à remplacer par les enfants (Insee ou extrait Caf « demande »).",
        ("caf_eaje", "communes"),
        UP,
    ),
    _i(
        "acces_alsh",
        "Accessibilité aux places d'ALSH",
        A,
        "places accessibles pour 100 enfants de 3 à 10 ans",
        "Places d'accueil de loisirs à portée de la commune (méthode E2SFCA, capacité = maximum des places "
        "périscolaire, mercredi et vacances) ; agrégé en moyenne pondérée par le nombre d'enfants.",
        ("caf_alsh", "pop_age", "caf_demande", "communes"),
        UP,
    ),
    _i(
        "acces_alsh_hab",
        "Accessibilité aux places d'ALSH (par habitant)",
        A,
        "places accessibles pour 1 000 habitants (population, faute de nombre d'enfants)",
        "Même méthode (E2SFCA) rapportée à la population faute de nombre d'enfants de 3 à 10 ans.",
        ("caf_alsh", "communes"),
        UP,
    ),
    _i(
        "distance_eaje_km",
        "Distance à l'EAJE le plus proche",
        A,
        "km",
        "Distance à vol d'oiseau (Lambert-93) de la mairie à l'EAJE le plus proche ; agrégé en moyenne pondérée par "
        "la population.",
        ("caf_eaje", "communes"),
        DOWN,
    ),
    _i(
        "distance_alsh_km",
        "Distance à l'ALSH le plus proche",
        A,
        "km",
        "Distance à vol d'oiseau de la mairie à l'ALSH le plus proche.",
        ("caf_alsh", "communes"),
        DOWN,
    ),
    _i(
        "distance_centre_social_km",
        "Distance au centre social ou EVS le plus proche",
        A,
        "km",
        "Distance à vol d'oiseau de la mairie au centre social ou EVS le plus proche.",
        ("caf_centres_sociaux", "communes"),
        DOWN,
    ),
    _i(
        "distance_caf_km",
        "Distance à l'accueil CAF le plus proche",
        A,
        "km",
        "Distance à vol d'oiseau de la mairie au site d'accueil CAF le plus proche.",
        ("caf_accueils", "dila_annuaire_2016", "communes"),
        DOWN,
    ),
    _i(
        "distance_france_services_km",
        "Distance à la France services la plus proche",
        A,
        "km",
        "Distance à vol d'oiseau de la mairie à la structure France services la plus proche.",
        ("france_services", "communes"),
        DOWN,
    ),
    _i(
        "eloigne_eaje",
        "Commune éloignée d'un EAJE",
        A,
        "",
        "Oui si la mairie est au-delà du seuil de distance un EAJE "
        "(paramètre, règle sous la légende) ; à l'échelle de l'EPCI et du département, voir la part de la "
        "population éloignée.",
        ("caf_eaje", "communes"),
        DOWN,
        kind="category",
        categories=OUI_NON,
    ),
    _i(
        "part_pop_loin_eaje",
        "Population éloignée d'un EAJE",
        A,
        "%",
        "Part de la population dont la mairie est au-delà du seuil de distance EAJE (paramètre).",
        ("caf_eaje", "communes"),
        DOWN,
        carte=False,
    ),
    _i(
        "eloigne_alsh",
        "Commune éloignée d'un ALSH",
        A,
        "",
        "Oui si la mairie est au-delà du seuil de distance un ALSH "
        "(paramètre, règle sous la légende) ; à l'échelle de l'EPCI et du département, voir la part de la "
        "population éloignée.",
        ("caf_alsh", "communes"),
        DOWN,
        kind="category",
        categories=OUI_NON,
    ),
    _i(
        "part_pop_loin_alsh",
        "Population éloignée d'un ALSH",
        A,
        "%",
        "Part de la population au-delà du seuil de distance ALSH (paramètre).",
        ("caf_alsh", "communes"),
        DOWN,
        carte=False,
    ),
    _i(
        "eloigne_caf",
        "Commune éloignée d'un accueil CAF",
        A,
        "",
        "Oui si la mairie est au-delà du seuil de distance un accueil CAF "
        "(paramètre, règle sous la légende) ; à l'échelle de l'EPCI et du département, voir la part de la "
        "population éloignée.",
        ("caf_accueils", "dila_annuaire_2016", "communes"),
        DOWN,
        kind="category",
        categories=OUI_NON,
    ),
    _i(
        "part_pop_loin_caf",
        "Population éloignée d'un accueil CAF",
        A,
        "%",
        "Part de la population au-delà du seuil de distance CAF (paramètre).",
        ("caf_accueils", "dila_annuaire_2016", "communes"),
        DOWN,
        carte=False,
    ),
    _i(
        "eloigne_france_services",
        "Commune éloignée d'une France services",
        A,
        "",
        "Oui si la mairie est au-delà du seuil de distance une France services "
        "(paramètre, règle sous la légende) ; à l'échelle de l'EPCI et du département, voir la part de la "
        "population éloignée.",
        ("france_services", "communes"),
        DOWN,
        kind="category",
        categories=OUI_NON,
    ),
    _i(
        "part_pop_loin_france_services",
        "Population éloignée d'une France services",
        A,
        "%",
        "Part de la population au-delà du seuil de distance France services (paramètre).",
        ("france_services", "communes"),
        DOWN,
        carte=False,
    ),
    # Contexte
    _i(
        "population",
        "Population municipale",
        C,
        "habitants",
        "Population municipale (Insee, base communale).",
        ("communes",),
        decimals=0,
    ),
    _i(
        "pop_moins3",
        "Enfants de moins de 3 ans",
        C,
        "enfants",
        "Enfants de 0 à 2 ans (Insee, recensement ; à défaut enfants couverts de l'extrait Caf « demande »).",
        POP,
        decimals=0,
    ),
    _i(
        "pop_3_10",
        "Enfants de 3 à 10 ans",
        C,
        "enfants",
        "Enfants de 3 à 10 ans (Insee, recensement ; à défaut enfants couverts de l'extrait Caf « demande »).",
        POP,
        decimals=0,
    ),
    _i(
        "densite_hab_km2",
        "Densité de population",
        C,
        "habitants par km²",
        "Population municipale rapportée à la superficie (Lambert-93).",
        ("communes",),
        decimals=0,
    ),
    _i(
        "classe_population",
        "Classe de population (service public de la petite enfance)",
        C,
        "",
        "Moins de 3 500, 3 500 à 10 000, plus de 10 000 habitants : obligations de la loi du 18 décembre 2023.",
        ("communes",),
        kind="category",
        categories=CLASSE_POPULATION_CATEGORIES,
    ),
    _i(
        "med_niveau_vie",
        "Niveau de vie médian",
        C,
        "€",
        "Médiane du niveau de vie par unité de consommation "
        "(Insee Filosofi) ; secret statistique pour les petites communes.",
        ("filosofi2021",),
        UP,
        decimals=0,
    ),
    _i(
        "taux_pauvrete",
        "Taux de pauvreté",
        C,
        "%",
        "Part des personnes sous le seuil de pauvreté à 60 % (Filosofi).",
        ("filosofi2021",),
        DOWN,
    ),
    _i(
        "potentiel_financier_hab",
        "Potentiel financier par habitant",
        C,
        "€",
        "Potentiel financier de la commune par habitant DGF (DGCL) ; agrégé en rapport des sommes.",
        ("dgcl_pf",),
        UP,
        decimals=0,
    ),
    _i(
        "densite_categorie",
        "Grille de densité",
        C,
        "",
        "Typologie de densité de l'Insee (ANCT).",
        ("anct_typologies",),
        kind="category",
    ),
    _i("ruralite", "Ruralité", C, "", "Typologie urbain/rural (ANCT).", ("anct_typologies",), kind="category"),
    _i(
        "centralite",
        "Centralité",
        C,
        "",
        "Niveau de centralité de la commune (ANCT).",
        ("anct_typologies",),
        kind="category",
    ),
    _i(
        "montagne",
        "Zone de montagne",
        C,
        "",
        "Massif de la zone de montagne, ou « hors montagne ».",
        ("anct_typologies",),
        kind="category",
    ),
    # Zonages
    _i(
        "qpv",
        "Quartiers prioritaires (QPV)",
        Z,
        "quartiers",
        "Nombre de quartiers prioritaires de la politique de la ville (génération 2024, à défaut 2015).",
        ("qpv2024", "qpv2015"),
        decimals=0,
    ),
    _i(
        "qpv_part_pop",
        "Population en QPV",
        Z,
        "%",
        "Part de la population municipale vivant en QPV (populations des QPV 2015).",
        ("qpv2015", "communes"),
    ),
    _i(
        "zrr_classee",
        "Zone de revitalisation rurale (2017)",
        Z,
        "",
        "Classement ZRR 2017 (historique ; les textes Cnaf du bonus territoire citent encore les ZRR) : « classée » "
        "= ZONAGE_ZRR C ; les communes « sortantes » (A, effets maintenus) ne sont pas comptées comme classées.",
        ("zrr2017",),
        kind="category",
        categories=ZRR_CATEGORIES,
    ),
    _i(
        "frr_classement",
        "France ruralités revitalisation (2025)",
        Z,
        "",
        "Classement FRR en vigueur.",
        ("frr2025",),
        kind="category",
        categories=FRR_CATEGORIES,
    ),
    # Bonus territoire
    _i(
        "bonus_statut",
        "Bonus territoire CTG (places nouvelles)",
        B,
        "",
        "Applicable : CTG signée, montant connu ; si CTG signée : montant que la commune toucherait une fois la "
        "CTG signée ; à confirmer : montant entre 2 600 et 3 600 € selon des données manquantes ; non : CTG non "
        "signée (0 €).",
        ("caf_ctg", "qpv2024", "zrr2017", "frr2025", "dgcl_pf", "filosofi2021"),
        kind="category",
        categories=BONUS_STATUT_CATEGORIES,
    ),
    _i(
        "bonus_tranche",
        "Tranche du bonus territoire",
        B,
        "",
        "Tranche du barème (T1 = QPV ou zone rurale prioritaire ; autres tranches selon la richesse, à confirmer).",
        ("qpv2024", "zrr2017", "dgcl_pf"),
        kind="category",
        categories=("T1", "T2", "T3", "T4", "selon richesse"),
        carte=False,
    ),
    _i(
        "bonus_montant",
        "Bonus territoire CTG par place nouvelle",
        B,
        "€",
        "Montant par place nouvelle PSU et par an selon le barème : versé (applicable), qu'elle toucherait une fois "
        "la CTG signée (si CTG signée), 0 (non) ; non disponible quand il est à confirmer (voir le statut).",
        ("caf_ctg", "qpv2024", "zrr2017", "dgcl_pf", "filosofi2021"),
        UP,
        decimals=0,
        carte=False,
    ),
    _i(
        "bonus_resume",
        "Bonus territoire CTG",
        B,
        "",
        "Statut et montant par place nouvelle, en une phrase.",
        ("caf_ctg",),
        kind="texte",
    ),
    _i("bonus_motif", "Motif du bonus territoire", B, "", "Explication en toutes lettres.", ("caf_ctg",), kind="texte"),
    # Sous-dotation
    _i(
        "sous_dotation",
        "Niveau de sous-dotation (petite enfance)",
        S,
        "",
        "P1 : zone prioritaire et sous-couverture ; P2 : sous-couverture et commune pauvre (critères Cnaf 2014) ; "
        "P3 : vigilance. Taux de couverture de la commune quand il existe, sinon accessibilité aux places d'EAJE "
        "comparée au niveau du département (règle sous la légende).",
        ("caf_txcouv", "caf_demande", "caf_eaje", "pop_age"),
        DOWN,
        kind="category",
        categories=SOUS_DOTATION_CATEGORIES,
    ),
    _i(
        "sous_dotation_motif",
        "Motif de la sous-dotation",
        S,
        "",
        "Règle appliquée, en toutes lettres.",
        ("caf_txcouv", "caf_demande", "caf_eaje"),
        kind="texte",
    ),
]

REGISTRY: dict[str, Indicator] = {ind.id: ind for ind in _ALL}
"""All indicators by id, ordered by theme then importance."""

THEMES = (OFF, A, C, Z, B, S)
