"""Catalogue entries for the official files we hold for dept 66 (``/work/shared/data/raw`` on team machines).

Each pattern first matches the cut we keep (``anct_france_services/france_services_66_*.csv``), then the publisher's
own file name wherever it sits in the data directory (``**/liste-fs-*.csv``), so a freshly downloaded national
file is found too. Order matters where two sources write the same layer: the builder takes the first source found,
so the QPV 2024 perimeters come before the QPV 2024 list.
"""

from __future__ import annotations

from geodata.catalogue_types import Source

LICENCE_OUVERTE = "Licence Ouverte / Etalab 2.0"

FRANCE_SERVICES = Source(
    id="france_services",
    title="France services",
    publisher="ANCT (Agence nationale de la cohésion des territoires)",
    dataset="Liste des structures France services",
    vintage="1er août 2024",
    licence=LICENCE_OUVERTE,
    format="CSV (séparateur virgule, UTF-8, latitude/longitude WGS84)",
    importer="geodata.importers.france_services:import_france_services",
    file_patterns=("anct_france_services/france_services_*.csv", "**/liste-fs-*.csv"),
    expected_columns=(
        "id_fs",
        "insee_dep",
        "lib_fs",
        "adresse",
        "complement_adresse",
        "insee_com",
        "code_postal",
        "lib_com",
        "latitude",
        "longitude",
        "mail",
        "telephone",
        "h_lundi",
        "h_mardi",
        "h_mercredi",
        "h_jeudi",
        "h_vendredi",
        "h_samedi",
        "type_fs",
        "format_fs",
    ),
    page_url="https://www.data.gouv.fr/fr/datasets/62503e25bc0f6370f4a651ce/",
    howto=(
        "Téléchargez la « Liste des structures France services » (fichier liste-fs-AAAAMMJJ.csv) sur data.gouv.fr "
        "et déposez-le tel quel dans le dossier des sources : seules les lignes du département sont gardées."
    ),
    notes=("Copie du dépôt anct-carto/france_services (data/liste-fs-20240801.csv), coupée sur insee_dep.",),
)

QPV2015 = Source(
    id="qpv2015",
    title="Quartiers prioritaires de la politique de la ville (génération 2015)",
    publisher="ANCT / SIG Ville ; population : Insee",
    dataset="Quartiers prioritaires de la politique de la ville (QPV) 2015 et indicateurs Insee des QPV",
    vintage="2015 (périmètres en vigueur jusqu'au 31/12/2023)",
    licence=LICENCE_OUVERTE,
    format="GeoJSON (WGS84) + CSV des indicateurs (pop_mun)",
    importer="geodata.importers.qpv:import_qpv2015",
    file_patterns=("qpv_hackaviz2021/qpv2015_contours_*.geojson", "**/qpv2015*contours*.geojson"),
    expected_columns=("code_qp", "nom_qp", "code_commune", "pop_mun"),
    page_url="https://www.data.gouv.fr/fr/datasets/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/",
    howto=(
        "Couche historique. Déposez les contours des QPV 2015 en GeoJSON WGS84 (propriétés code_qp, nom_qp, "
        "code_commune) et, à côté, le fichier qpv2015_indicateurs_*.csv (colonne pop_mun) pour la population."
    ),
    notes=(
        "Contours : dépôt ToulouseDataViz/Hackaviz2021 (data/qp.geojson), issus du fichier SIG Ville.",
        "Population : pop_mun des indicateurs Insee des QPV (population 2015 estimée Insee/Cnaf).",
    ),
)

QPV2024_PERIMETRES = Source(
    id="qpv2024_perimetres",
    layer="qpv2024",
    title="Quartiers prioritaires de la politique de la ville 2024 (périmètres)",
    publisher="ANCT / SIG Ville",
    dataset="Quartiers prioritaires de la politique de la ville (QPV) — QP2024 France hexagonale et outre-mer",
    vintage="2024 (décret n° 2023-1314 du 28 décembre 2023)",
    licence=LICENCE_OUVERTE,
    format="GeoJSON national (WGS84)",
    importer="geodata.importers.qpv:import_qpv2024_perimetres",
    file_patterns=("**/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson", "**/QP2024*WGS84*.geojson"),
    expected_columns=("code_qp", "lib_qp", "insee_com", "lib_com", "insee_dep"),
    page_url="https://www.data.gouv.fr/fr/datasets/quartiers-prioritaires-de-la-politique-de-la-ville-qpv/",
    howto=(
        "Téléchargez l'archive des QPV 2024 sur data.gouv.fr, extrayez "
        "GEOJSON/QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson et déposez-le dans le dossier des sources : "
        "il remplace alors la simple liste des QPV 2024 (les périmètres permettent le calcul par quartier)."
    ),
)

QPV2024_LISTE = Source(
    id="qpv2024_liste",
    layer="qpv2024",
    title="Quartiers prioritaires de la politique de la ville 2024 (liste, sans périmètre)",
    publisher="ANCT (service cartographie, superposeur)",
    dataset="QPV 2024 : codes et communes (centroïdes par commune de l'ANCT)",
    vintage="2024 (décret n° 2023-1314 du 28 décembre 2023)",
    licence=LICENCE_OUVERTE,
    format="CSV (insee_com, lib_com, code_qp, lib_qp)",
    importer="geodata.importers.qpv:import_qpv2024_liste",
    file_patterns=("qpv2024_anct_superposeur/qpv2024_liste_*.csv", "**/qpv2024_liste*.csv"),
    expected_columns=("insee_com", "lib_com", "code_qp", "lib_qp"),
    page_url="https://github.com/anct-carto/superposeur-V2",
    howto=(
        "Solution de repli quand le GeoJSON officiel des QPV 2024 manque : une ligne par QPV avec le code commune. "
        "Sans périmètre, un QPV est rattaché à sa commune entière. "
        "Préférez le GeoJSON officiel (source qpv2024_perimetres)."
    ),
    notes=(
        "Dérivé du fichier centroide-4326_qpv.geojson d'anct-carto/superposeur-V2 : codes et noms appariés par "
        "position (hypothèse) ; noms de 2015.",
    ),
)

ZRR2017 = Source(
    id="zrr2017",
    title="Zones de revitalisation rurale (ZRR) — couche historique",
    publisher="ANCT — Observatoire des territoires",
    dataset="Communes bénéficiaires du dispositif Zones de revitalisation rurale (diffusion-zonages-zrr-cog2021)",
    vintage="classement du 1er juillet 2017 (remplacé par FRR le 1er juillet 2024)",
    licence=LICENCE_OUVERTE,
    format="XLS officiel (en-tête ligne 6) ou CSV extrait (CODGEO, LIBGEO, ZRR_SIMP, ZONAGE_ZRR)",
    importer="geodata.importers.zonages:import_zrr2017",
    file_patterns=(
        "anct_zrr/zrr_2017_*.csv",
        "**/diffusion-zonages-zrr-cog*.xls",
        "**/diffusion-zonages-zrr-cog*.xlsx",
    ),
    expected_columns=("CODGEO", "LIBGEO", "ZRR_SIMP", "ZONAGE_ZRR"),
    page_url="https://www.data.gouv.fr/fr/datasets/zones-de-revitalisation-rurale-zrr/",
    howto=(
        "Téléchargez diffusion-zonages-zrr-cog2021.xls (« Zones de revitalisation rurale (ZRR) » sur data.gouv.fr "
        "ou l'Observatoire des territoires) et déposez-le sans le modifier : la feuille « Classement ZRR » est lue."
    ),
    notes=("Le classement ZRR est figé ; les textes Cnaf citent encore « ZRR » pour le bonus territoire.",),
)

FRR2025 = Source(
    id="frr2025",
    title="France Ruralités Revitalisation (FRR et FRR+)",
    publisher="État — plan France Ruralités (DGCL / ANCT)",
    dataset="Liste des communes classées FRR et FRR+",
    vintage="10 juillet 2025",
    licence="Données publiques (licence non précisée par le producteur)",
    format="CSV (séparateur point-virgule, « ; » final, UTF-8)",
    importer="geodata.importers.zonages:import_frr2025",
    file_patterns=("frr_2025/frr_classement_*.csv", "**/liste-communes-FRR-*.csv"),
    expected_columns=("Code_insee", "Departement", "Commune", "Classement FRR et FRR+ au 10 juillet 2025"),
    page_url="https://www.collectivites-locales.gouv.fr/",
    howto=(
        "Téléchargez la liste des communes FRR (liste-communes-FRR-juillet2025.csv) publiée avec le plan France "
        "ruralités sur collectivites-locales.gouv.fr et déposez-la telle quelle : "
        "les lignes du département sont gardées."
    ),
    notes=("Copie du dépôt incubateur-ademe/benefriches (apps/api/data/france-ruralites).",),
)

FILOSOFI2021 = Source(
    id="filosofi2021",
    title="Revenus et pauvreté des ménages (Filosofi)",
    publisher="Insee",
    dataset="Revenus, pauvreté et niveau de vie en 2021 — Communes (cc_filosofi_2021_COM)",
    vintage="2021",
    licence=LICENCE_OUVERTE,
    format="CSV (séparateur point-virgule, virgule décimale, « s » = secret statistique)",
    importer="geodata.importers.filosofi:import_filosofi",
    file_patterns=("insee_filosofi/filosofi*_communes_*.csv", "**/cc_filosofi_*_COM.csv"),
    expected_columns=("CODGEO", "NBMENFISC21", "NBPERSMENFISC21", "MED21", "TP6021"),
    page_url="https://www.insee.fr/fr/statistiques/7756855",
    howto=(
        "Téléchargez le fichier Filosofi communal de l'Insee (cc_filosofi_2021_COM.csv) et déposez-le tel quel ; "
        "les valeurs « s » (secret statistique, petites communes) restent secrètes, jamais 0."
    ),
    notes=("MED21 est secret pour 47 communes du 66 : repli sur l'EPCI à prévoir dans les indicateurs.",),
)

ANCT_TYPOLOGIES = Source(
    id="anct_typologies",
    title="Typologies communales (densité, ruralité, centralité, montagne)",
    publisher="ANCT — Observatoire des territoires (grilles Insee, Acadie, Inrae)",
    dataset="Grilles communales du superposeur ANCT",
    vintage="exports de mars 2026",
    licence=LICENCE_OUVERTE,
    format="4 CSV (insee_com, lib_com, niveau_<grille>)",
    importer="geodata.importers.anct:import_anct_typologies",
    file_patterns=("anct_grilles_communes/densite_*.csv", "**/densite*.csv"),
    expected_columns=(
        "insee_com",
        "lib_com",
        "niveau_densite",
        "niveau_ruralite",
        "niveau_centralite",
        "niveau_montagne",
    ),
    page_url="https://www.observatoire-des-territoires.gouv.fr/",
    howto=(
        "Déposez ensemble les quatre fichiers densite_*.csv, ruralite_*.csv, centralite_*.csv et montagne_*.csv "
        "(dépôt anct-carto/superposeur-V2, dossier data/grilles) : le fichier densite sert de point d'entrée."
    ),
    notes=("montagne ne liste que les communes en zone de montagne ; les autres reçoivent « ».",),
)

ANCT_PROGRAMMES = Source(
    id="anct_programmes",
    title="Programmes de l'ANCT (Action cœur de ville, Petites villes de demain, Villages d'avenir…)",
    publisher="ANCT",
    dataset="Géométries des programmes du superposeur ANCT (acv, pvd, va, citeduc, frla)",
    vintage="septembre 2024",
    licence=LICENCE_OUVERTE,
    format="GeoJSON (points WGS84)",
    importer="geodata.importers.anct:import_anct_programmes",
    file_patterns=("anct_programmes/anct_programmes_*.geojson", "**/anct_programmes*.geojson"),
    expected_columns=("programme_file", "id_territoire", "lib_territoire", "date_signature", "liste_geo"),
    page_url="https://github.com/anct-carto/superposeur-anct",
    howto=(
        "Rassemblez les couches acv/pvd/va/citeduc/frla_geom.geojson du superposeur ANCT en un GeoJSON de points "
        "avec une propriété programme_file (nom de la couche d'origine)."
    ),
)

DILA_ANNUAIRE_2016 = Source(
    id="dila_annuaire_2016",
    title="Annuaire Service-Public.fr — points d'accueil sociaux (2016, ancien)",
    publisher="DILA (Direction de l'information légale et administrative)",
    dataset="Service-Public.fr — Annuaire de l'administration, base de données locales",
    vintage="2016 (ancien)",
    licence=LICENCE_OUVERTE + " ; géocodage BAN (ODbL 1.0)",
    format="CSV (séparateur virgule, UTF-8)",
    importer="geodata.importers.dila:import_dila_annuaire",
    file_patterns=("dila_annuaire_2016/annuaire_services_publics_*.csv", "**/annuaire_services_publics*.csv"),
    expected_columns=(
        "id",
        "type",
        "nom",
        "codeinsee",
        "latitude",
        "longitude",
        "update",
        "contact_phone",
        "geo.address_searched",
    ),
    page_url="https://www.data.gouv.fr/fr/datasets/service-public-fr-annuaire-de-l-administration-base-de-donnees-locales/",
    howto=(
        "Couche ancienne (2016) : à n'utiliser que faute de liste à jour des accueils Caf. Extrait du dépôt "
        "cquest/annuaire-services-publics ; la Caf peut fournir sa liste actuelle (modèle caf_accueils)."
    ),
    notes=(
        "Millésime 2016 : adresses et horaires à vérifier ; certains sites ont fermé ou déménagé.",
        "Deux entrées géocodées hors du département sont replacées à la mairie de leur commune.",
    ),
)

CHIFFRES_CLES = Source(
    id="chiffres_cles",
    title="Chiffres clés départementaux de la Caf",
    publisher="Caf des Pyrénées-Orientales (bilans annuels relayés par la presse) ; Insee",
    dataset="Chiffres clés départementaux compilés (une source par ligne)",
    vintage="2019-2024",
    licence="Faits cités de pages publiques ; chiffre Insee sous " + LICENCE_OUVERTE,
    format="CSV (annee, indicateur, valeur, unite, precision, editeur_source, source_url)",
    importer="geodata.importers.chiffres_cles:import_chiffres_cles",
    file_patterns=("chiffres_cles_66/chiffres_cles_*.csv", "**/chiffres_cles_*.csv"),
    expected_columns=("annee", "indicateur", "valeur", "unite", "precision", "editeur_source", "source_url"),
    howto=(
        "Tableau tenu à la main : une ligne par chiffre avec son année, son unité, sa précision (arrondi, borne "
        "basse…) et l'adresse de la page source. À remplacer par le bilan officiel de la Caf quand il est fourni."
    ),
    notes=("Chiffres de presse, souvent arrondis : pour les grands repères, pas comme série statistique.",),
)

SOURCES: tuple[Source, ...] = (
    FRANCE_SERVICES,
    QPV2015,
    QPV2024_PERIMETRES,
    QPV2024_LISTE,
    ZRR2017,
    FRR2025,
    FILOSOFI2021,
    ANCT_TYPOLOGIES,
    ANCT_PROGRAMMES,
    DILA_ANNUAIRE_2016,
    CHIFFRES_CLES,
)
"""Official files, one entry per format; ``QPV2024_PERIMETRES`` precedes ``QPV2024_LISTE`` (same layer)."""
