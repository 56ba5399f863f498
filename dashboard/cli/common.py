"""What every ``ctg-carto`` command shares: printing, and the bundle of ``--bundle`` or of the settings."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from geodata.settings import Settings

if TYPE_CHECKING:
    from geodata.bundle import Bundle

EXPORT_HELP = """\
Chaque table exportée porte ses sources :
- CSV : les premières lignes commencent par « # » : « Données fictives » quand une source est fictive, le titre,
  chaque source avec son éditeur, son millésime et sa licence ; puis la ligne d'en-tête et la table. Un tableur
  les affiche en tête ; un programme les saute (pandas.read_csv(fichier, comment="#")).
- XLSX : une ligne d'en-tête au-dessus de la table (en-tête de la table en ligne 4) et une feuille « Sources ».
Valeurs arrondies à la précision de chaque indicateur ; « secret statistique » et « non disponible » sont écrits
dans la cellule de la valeur. Les paramètres et le barème utilisés sont écrits à côté : <fichier>.parametres.json.
"""


def say(msg: str) -> None:
    """Print one line at once (progress of long commands shows as it happens)."""
    print(msg, flush=True)


def bundle_path(args: argparse.Namespace, settings: Settings) -> Path:
    """``--bundle`` when given, else the configured bundle."""
    return Path(args.bundle) if getattr(args, "bundle", None) else settings.bundle


def load_bundle_or_say(args: argparse.Namespace, settings: Settings) -> Bundle | None:
    """The bundle of ``--bundle`` (else the configured one), or None after printing why it cannot be read."""
    from geodata.bundle import BundleError, load_bundle

    try:
        return load_bundle(bundle_path(args, settings))
    except BundleError as exc:
        say(str(exc))
        return None
