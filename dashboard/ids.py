"""Every component id of the app (kebab-case values).

Layout, callbacks and tests import these; there are no string ids elsewhere.
"""

URL = "url"
MAP = "carte"
MAP_WRAPPER = "carte-cadre"
SYNTHETIC_BANNER = "bandeau-donnees-fictives"

INDICATOR_DROPDOWN = "choix-indicateur"
INDICATOR_DEFINITION = "definition-indicateur"
METHOD_RADIO = "choix-classification"
CLASS_COUNT = "nombre-classes"
BREAKS_INPUT = "seuils-manuels"
BREAKS_ERROR = "seuils-manuels-erreur"

POINT_LAYERS = "couches-points"
ZONE_LAYERS = "couches-zones"
LAYER_LEGEND = "legende-couches"

EPCI_DROPDOWN = "filtre-epci"
COMMUNE_DROPDOWN = "recherche-commune"

LEGEND = "legende"
SUMMARY = "resume-selection"
COMMUNE_CARD = "fiche-commune"
DETAILS_PANEL = "detail-structure"

TABLE = "tableau-communes"
EXPORT_CSV = "export-csv"
EXPORT_XLSX = "export-xlsx"
DOWNLOAD = "telechargement"

SOURCES_PANEL = "sources"
