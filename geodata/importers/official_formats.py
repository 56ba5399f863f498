"""Catalogue entries for official formats users bring (BPE, INSEE RP, DGCL, data.caf.fr).

None of these files is held for dept 66 (national files of 25–250 MB, see PROVENANCE « Second hunt »): the user
downloads them, or ``ctg-carto data fetch`` does when the publisher has a stable URL (data.caf.fr exports).

data.caf.fr families (``caf_txcouv``, ``caf_nbpla``) are one layer built from one file per level: ``Source.find``
returns any of them, and the importer reads the siblings of the same family in the same directory (see
:mod:`geodata.importers.datacaf`). ``download_url`` is the commune-level export; the other levels are listed in
:data:`EXTRA_DOWNLOADS`, which ``data fetch`` downloads next to it.
"""

from __future__ import annotations

from geodata.catalogue_types import Source

_CAF_EXPORT = "https://data.caf.fr/api/explore/v2.1/catalog/datasets/{}/exports/csv"
_CAF_PAGE = "https://data.caf.fr/explore/dataset/{}/"
_CAF_LICENCE = "Licence Ouverte / Open Licence 2.0 (Etalab)"
_CAF_DIR = "caf_data"

TXCOUV_COLUMNS = (
    "annee",
    "numcom",
    "nomcom",
    "txcouv_com",
    "txcouv_eaje_com",
    "txcouv_psu_col_com",
    "txcouv_hors_psu_col_com",
    "txcouv_prescol_com",
    "txcouv_am_ind_com",
    "txcouv_gad_ind_com",
    "txcouv_ind_com",
)
NBPLA_COLUMNS = (
    "annee",
    "numcom",
    "nomcom",
    "pl_psu_col_com",
    "pl_hors_psu_col_com",
    "pl_prescol_com",
    "pl_am_ind_com",
    "pl_gad_ind_com",
    "tot_offre_com",
)

SOURCES: tuple[Source, ...] = (
    Source(
        id="bpe",
        title="Équipements petite enfance et famille (BPE)",
        publisher="Insee",
        dataset="Base permanente des équipements (BPE), fichier géolocalisé « ensemble »",
        vintage="millésime du fichier fourni (colonne AN)",
        licence="Licence Ouverte / Open Licence 2.0 (Etalab)",
        format="CSV « ; » (bpe21_ensemble_xy.csv jusqu'en 2021, BPE24.csv ensuite), coordonnées Lambert-93 ou WGS84",
        importer="geodata.importers.bpe:import_bpe",
        file_patterns=(
            "insee_bpe/**/bpe*_ensemble_xy*.csv",
            "insee_bpe/**/BPE2[0-9].csv",
            "**/bpe*_ensemble_xy*.csv",
            "**/BPE2[0-9].csv",
            "**/bpe2[0-9].csv",
        ),
        expected_columns=("DEPCOM", "TYPEQU", "LAMBERT_X", "LAMBERT_Y", "QUALITE_XY", "AN", "CAPACITE"),
        page_url="https://www.insee.fr/fr/metadonnees/source/serie/s1161",
        howto=(
            "Sur insee.fr, page « Base permanente des équipements », téléchargez le fichier géolocalisé « ensemble » "
            "(archive ZIP nationale), décompressez-le et placez le CSV (bpe21_ensemble_xy.csv ou BPE24.csv) dans le "
            "dossier des sources, sous-dossier insee_bpe. Seuls les codes D502 à D509 du département sont retenus."
        ),
        notes=(
            "La BPE sous-estime les crèches (2021 : 11 756 EAJE contre environ 15 000 selon l'ONAPE) : l'extrait Caf "
            "reste la source de référence.",
            "Codes TYPEQU à vérifier selon le millésime : la BPE 2013 n'avait qu'un code D501.",
        ),
    ),
    Source(
        id="pop_age",
        title="Population par tranche d'âge (0-2, 3-5, 6-10, 11-17 ans)",
        publisher="Insee",
        dataset="Recensement de la population : évolution et structure de la population (base-cc-evol-struct-pop)",
        vintage="année du recensement lue dans les colonnes (P22_ → 2022)",
        licence="Licence Ouverte / Open Licence 2.0 (Etalab)",
        format="CSV « ; », une ligne par commune, décimales avec un point",
        importer="geodata.importers.insee_pop:import_pop_age",
        file_patterns=(
            "insee_rp/**/base-cc-evol-struct-pop-*.csv",
            "insee_rp/**/base-cc-evol-struct-pop-*.CSV",
            "**/base-cc-evol-struct-pop-*.csv",
            "**/base-cc-evol-struct-pop-*.CSV",
        ),
        expected_columns=("CODGEO", "P22_POP", "P22_POP0002", "P22_POP0305", "P22_POP0610", "P22_POP1117"),
        page_url="https://www.insee.fr/fr/statistiques/8581696",
        howto=(
            "Sur insee.fr, « Évolution et structure de la population » (base communale), téléchargez "
            "base-cc-evol-struct-pop-AAAA_csv.zip, décompressez-le et placez le fichier base-cc-evol-struct-pop-AAAA "
            "dans le dossier des sources, sous-dossier insee_rp."
        ),
    ),
    Source(
        id="dgcl_pf",
        title="Potentiel financier par habitant des communes",
        publisher="Direction générale des collectivités locales (DGCL)",
        dataset="Critères de répartition des dotations versées par l'État aux collectivités territoriales (communes)",
        vintage="année des dotations, lue dans le nom du fichier",
        licence="Licence Ouverte / Open Licence 2.0 (Etalab)",
        format="CSV « , », virgule décimale, en-têtes « Section - Libellé »",
        importer="geodata.importers.dgcl:import_dgcl_pf",
        file_patterns=("dgcl/**/*criteres*repartition*.csv", "**/*criteres*repartition*.csv"),
        expected_columns=(
            "Informations générales - Code INSEE de la commune",
            "Informations générales - Nom de la commune",
            "Informations générales - Code département de la commune",
            "Informations générales - Population INSEE Année N ",
            "Potentiel fiscal et financier des communes - Potentiel financier par habitant",
        ),
        page_url=(
            "https://www.data.gouv.fr/fr/datasets/"
            "criteres-de-repartition-des-dotations-versees-par-letat-aux-collectivites-territoriales/"
        ),
        howto=(
            "Sur data.gouv.fr (ou dotations-dgcl.interieur.gouv.fr, « critères de répartition »), téléchargez le "
            "fichier CSV des communes de l'année voulue et placez-le dans le sous-dossier dgcl en gardant l'année "
            "dans son nom (par ex. criteres_repartition_2024.csv)."
        ),
    ),
    Source(
        id="caf_txcouv",
        title="Taux de couverture accueil du jeune enfant (Cnaf)",
        publisher="Cnaf (data.caf.fr)",
        dataset="Taux de couverture petite enfance : txcouv_pe_com, txcouv_pe_epci, txcouv_pe_dep, txcouv_pe_nat",
        vintage="années présentes dans les fichiers (colonne annee)",
        licence=_CAF_LICENCE,
        format="CSV export Opendatasoft « ; », UTF-8 avec BOM, un fichier par niveau",
        importer="geodata.importers.datacaf:import_caf_txcouv",
        file_patterns=(f"{_CAF_DIR}/**/txcouv_pe_*.csv", "**/txcouv_pe_*.csv"),
        expected_columns=TXCOUV_COLUMNS,
        page_url=_CAF_PAGE.format("txcouv_pe_com"),
        download_url=_CAF_EXPORT.format("txcouv_pe_com"),
        howto=(
            "Sur data.caf.fr, exportez en CSV les jeux txcouv_pe_com, txcouv_pe_epci, txcouv_pe_dep et txcouv_pe_nat "
            "(ou lancez « ctg-carto data fetch ») et placez les quatre fichiers ensemble dans le sous-dossier "
            "caf_data. Le taux communal n'est publié que pour les communes de plus de 10 000 habitants."
        ),
        notes=("Taux communal publié seulement pour les communes de plus de 10 000 habitants.",),
    ),
    Source(
        id="caf_nbpla",
        title="Places d'accueil du jeune enfant (Cnaf)",
        publisher="Cnaf (data.caf.fr)",
        dataset="Nombre de places petite enfance : nbpla_pe_com, nbpla_pe_epci, nbpla_pe_dep, nbpla_pe_nat",
        vintage="années présentes dans les fichiers (places au 31 décembre)",
        licence=_CAF_LICENCE,
        format="CSV export Opendatasoft « ; », UTF-8 avec BOM, un fichier par niveau",
        importer="geodata.importers.datacaf:import_caf_nbpla",
        file_patterns=(f"{_CAF_DIR}/**/nbpla_pe_*.csv", "**/nbpla_pe_*.csv"),
        expected_columns=NBPLA_COLUMNS,
        page_url=_CAF_PAGE.format("nbpla_pe_com"),
        download_url=_CAF_EXPORT.format("nbpla_pe_com"),
        howto=(
            "Sur data.caf.fr, exportez en CSV les jeux nbpla_pe_com, nbpla_pe_epci, nbpla_pe_dep et nbpla_pe_nat (ou "
            "lancez « ctg-carto data fetch ») et placez-les ensemble dans le sous-dossier caf_data."
        ),
    ),
    Source(
        id="caf_allocataires",
        title="Foyers allocataires et personnes couvertes par commune (Cnaf)",
        publisher="Cnaf (data.caf.fr)",
        dataset="Toutes prestations, niveau communal (s_ben_com_f)",
        vintage="décembre de chaque année présente (colonne dtreffre)",
        licence=_CAF_LICENCE,
        format="CSV export Opendatasoft « ; », UTF-8 avec BOM",
        importer="geodata.importers.datacaf:import_caf_allocataires",
        file_patterns=(f"{_CAF_DIR}/**/s_ben_com_f*.csv", "**/s_ben_com_f*.csv"),
        expected_columns=("dtreffre", "numcomdo", "nomcom", "indfoy_ndur", "indnbp_ndur"),
        page_url=_CAF_PAGE.format("s_ben_com_f"),
        download_url=_CAF_EXPORT.format("s_ben_com_f"),
        howto=(
            "Sur data.caf.fr, exportez en CSV le jeu s_ben_com_f (ou lancez « ctg-carto data fetch ») et placez-le "
            "dans le sous-dossier caf_data. Les effectifs sont arrondis à 5 par la Cnaf."
        ),
        notes=("Effectifs arrondis à 5 ; allocataires non localisés écartés.",),
    ),
)

EXTRA_DOWNLOADS: dict[str, tuple[str, ...]] = {
    "caf_txcouv": tuple(_CAF_EXPORT.format(f"txcouv_pe_{level}") for level in ("epci", "dep", "nat")),
    "caf_nbpla": tuple(_CAF_EXPORT.format(f"nbpla_pe_{level}") for level in ("epci", "dep", "nat")),
}
"""Other files of a data.caf.fr family, downloaded by ``data fetch`` beside the source's ``download_url``. Kept here
because :class:`~geodata.catalogue_types.Source` has a single download URL."""
