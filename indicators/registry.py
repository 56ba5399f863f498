"""The indicator registry: one stable id per indicator, with its French label, unit, definition and input layers.

Why a registry: the dashboard builds its pickers, legends and CSV headers from it, and ids appear in URLs, so an id
never changes meaning. Order = theme, then importance.
"""

from __future__ import annotations

from dataclasses import dataclass

SOUS_DOTATION_CATEGORIES = ("P1", "P2", "P3 vigilance", "couvert")
BONUS_APPLICABLE_CATEGORIES = ("oui", "non", "CTG inconnue")
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
) -> Indicator:
    return Indicator(id, label, theme, unit, definition, inputs, direction, kind, categories, decimals)


OFF, A, C, Z, B, S = "Offre", "Accès", "Contexte", "Zonages", "Bonus territoire", "Sous-dotation"
UP, DOWN = "hausse_favorable", "baisse_favorable"
EAJE, POP = ("caf_eaje",), ("pop_age",)

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
        "Places EAJE rapportées aux enfants de 0 à 2 ans (Insee) ; agrégé en rapport des sommes.",
        ("caf_eaje", "pop_age"),
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
        "seulement au-delà de 10 000 habitants, sinon taux de l'EPCI.",
        ("caf_txcouv",),
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
        "Indicateur local de la Caf : places ALSH pour 100 enfants de 3 à 10 ans (Insee).",
        ("caf_alsh", "pop_age"),
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
        "part_pop_loin_eaje",
        "Population éloignée d'un EAJE",
        A,
        "%",
        "Part de la population dont la mairie est au-delà du seuil de distance EAJE (paramètre).",
        ("caf_eaje", "communes"),
        DOWN,
    ),
    _i(
        "part_pop_loin_alsh",
        "Population éloignée d'un ALSH",
        A,
        "%",
        "Part de la population au-delà du seuil de distance ALSH (paramètre).",
        ("caf_alsh", "communes"),
        DOWN,
    ),
    _i(
        "part_pop_loin_caf",
        "Population éloignée d'un accueil CAF",
        A,
        "%",
        "Part de la population au-delà du seuil de distance CAF (paramètre).",
        ("caf_accueils", "dila_annuaire_2016", "communes"),
        DOWN,
    ),
    _i(
        "part_pop_loin_france_services",
        "Population éloignée d'une France services",
        A,
        "%",
        "Part de la population au-delà du seuil de distance France services (paramètre).",
        ("france_services", "communes"),
        DOWN,
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
        "Enfants de 0 à 2 ans (Insee, recensement).",
        POP,
        decimals=0,
    ),
    _i(
        "pop_3_10",
        "Enfants de 3 à 10 ans",
        C,
        "enfants",
        "Enfants de 3 à 10 ans (Insee, recensement).",
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
        "bonus_applicable",
        "Bonus territoire CTG applicable",
        B,
        "",
        "Oui si une CTG signée couvre la commune ou son EPCI ; « CTG inconnue » sans la liste des CTG.",
        ("caf_ctg",),
        kind="category",
        categories=BONUS_APPLICABLE_CATEGORIES,
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
    ),
    _i(
        "bonus_montant",
        "Bonus territoire CTG (places nouvelles)",
        B,
        "€",
        "Montant par place nouvelle PSU et par an selon le barème paramétré ; 0 sans CTG signée.",
        ("caf_ctg", "qpv2024", "zrr2017", "dgcl_pf", "filosofi2021"),
        UP,
        decimals=0,
    ),
    _i("bonus_motif", "Motif du bonus territoire", B, "", "Explication en toutes lettres.", ("caf_ctg",), kind="texte"),
    # Sous-dotation
    _i(
        "sous_dotation",
        "Niveau de sous-dotation (petite enfance)",
        S,
        "",
        "P1 : zone prioritaire et sous-couverture ; P2 : sous-couverture et commune pauvre (critères Cnaf 2014) ; "
        "P3 : vigilance ; à défaut de taux de couverture, règle de repli sur l'offre EAJE.",
        ("caf_txcouv", "caf_eaje"),
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
        ("caf_txcouv", "caf_eaje"),
        kind="texte",
    ),
]

REGISTRY: dict[str, Indicator] = {ind.id: ind for ind in _ALL}
"""All indicators by id, ordered by theme then importance."""

THEMES = (OFF, A, C, Z, B, S)
