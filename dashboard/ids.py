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

PAGE = "page"
PRESENTATION_TOOLBAR = "barre-reunion"
PRESENTATION_ENTER = "mode-presentation"
PRESENTATION_BAR = "barre-presentation"
PRESENTATION_COUNTER = "presentation-compteur"
PRESENTATION_TITLE = "presentation-titre"
PRESENTATION_NEXT = "presentation-suivant"
PRESENTATION_PREVIOUS = "presentation-precedent"
PRESENTATION_EXIT = "presentation-quitter"
PRESENTATION_FULLSCREEN = "presentation-plein-ecran"
SEQUENCE_SAVE = "sequence-enregistrer"
SEQUENCE_UPLOAD = "sequence-charger"
SEQUENCE_DOWNLOAD = "sequence-telechargement"
SEQUENCE_STATUS = "sequence-etat"
SEQUENCE_ERROR = "sequence-erreur"
EXPORT_PNG = "export-vue-png"
EXPORT_PDF = "export-vue-pdf"
PRINT_CAPTION = "legende-impression"

# Pages « Données » and « Aide » (dashboard.donnees). Ids of the « Données » page start with « donnees- »: the
# callbacks touching them are reserved to editors (dashboard.auth.EDITOR_ID_PREFIX).
AIDE_CONTENT = "aide-contenu"
AIDE_PAGE = "aide-page"
DONNEES_PAGE = "donnees-page"
DONNEES_TOKEN = "donnees-jeton"
DONNEES_INTERVAL = "donnees-minuterie"
DONNEES_RELOAD = "donnees-nouveau-bundle"
DONNEES_UPLOAD = "donnees-televersement"
DONNEES_LIMITS = "donnees-limites"
DONNEES_TOO_LARGE = "donnees-trop-volumineux"
DONNEES_REPORT = "donnees-rapport"
DONNEES_CONFIRM = "donnees-confirmer"
DONNEES_MESSAGE = "donnees-message"
DONNEES_PROGRESS = "donnees-progression"
DONNEES_RESTORE_MESSAGE = "donnees-restauration-message"
DONNEES_VERSIONS = "donnees-versions"
DONNEES_LAYERS = "donnees-couches"
VIEWPORT = "fenetre-affichage"
