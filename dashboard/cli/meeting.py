"""Partnership-meeting commands of ``ctg-carto``: ``simulate``, ``export fiche`` and ``export cibles``.

Hooked into ``dashboard/cli.py`` by ``register(sub)`` at the end of ``build_parser`` (after the ``export`` group
exists, so ``fiche`` joins it). Heavy modules are imported inside the commands, as in ``cli.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.cli.common import EXPORT_HELP, load_bundle_or_say, say
from geodata.numbers import plural
from geodata.settings import Settings

if TYPE_CHECKING:
    from geodata.bundle import Bundle
    from indicators.compute import Indicators


def _load(args: argparse.Namespace, settings: Settings) -> tuple[Bundle, Indicators] | None:
    """The bundle and its indicators, or None after printing why the bundle cannot be read."""
    from indicators.compute import compute_indicators

    bundle = load_bundle_or_say(args, settings)
    return None if bundle is None else (bundle, compute_indicators(bundle))


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    """Print the « N new places » simulation of one commune."""
    from dashboard.cli.report import simulation_text
    from indicators.simulate import simulate

    loaded = _load(args, settings)
    if loaded is None:
        return 2
    bundle, ind = loaded
    en_qpv = {"oui": True, "non": False, None: None}[args.qpv]
    try:
        sim = simulate(ind, bundle, args.commune, args.places, annee=args.annee, en_qpv=en_qpv)
    except ValueError as exc:
        say(f"Erreur : {exc}")
        return 1
    say(simulation_text(sim))
    return 0


def _progress(i: int, n: int, name: str, width: int = 24) -> str:
    done = round(width * i / n) if n else width
    return f"[{i}/{n}] [{'#' * done}{'.' * (width - done)}] {name}"


def cmd_export_fiche(args: argparse.Namespace, settings: Settings) -> int:
    """Write the fiche territoire of one EPCI or commune, or one PDF per EPCI with ``--all-epci``."""
    from dashboard.exports.chromium import RenderError, render_pdf
    from dashboard.exports.fiche import build_fiche_html, epci_codes, slug

    loaded = _load(args, settings)
    if loaded is None:
        return 2
    bundle, ind = loaded
    flag = "  [DONNÉES FICTIVES]" if ind.synthetic else ""
    try:
        if args.all_epci:
            out_dir = Path(args.all_epci)
            out_dir.mkdir(parents=True, exist_ok=True)
            epcis = epci_codes(bundle)
            for i, (code, name) in enumerate(epcis, start=1):
                say(_progress(i, len(epcis), name))
                html = build_fiche_html(ind, bundle, "epci", code)
                render_pdf(html, out_dir / f"fiche_epci_{code}_{slug(name)}.pdf")
            say(f"{plural(len(epcis), 'fiche écrite')} dans {out_dir}{flag}")
            return 0
        if not args.out:
            say("Erreur : --out FICHIER.pdf est obligatoire avec --epci ou --commune.")
            return 1
        level, code = ("epci", args.epci) if args.epci else ("commune", args.commune)
        html = build_fiche_html(ind, bundle, level, code)
        path = render_pdf(html, Path(args.out))
    except ValueError as exc:
        say(f"Erreur : {exc}")
        return 1
    except RenderError as exc:
        say(str(exc))
        return 3
    say(f"écrit : {path}{flag}")
    return 0


def cmd_export_cibles(args: argparse.Namespace, settings: Settings) -> int:
    """Write the ranked « communes à cibler » (CSV for French spreadsheets or XLSX, parameters beside it)."""
    from dataclasses import replace

    from indicators.targets import TargetFilter, compute_targets, write_targets_csv

    loaded = _load(args, settings)
    if loaded is None:
        return 2
    _, ind = loaded
    filt = TargetFilter.default(ind, args.epci or "")
    if args.epci and args.epci not in ind.epci.values.index:
        say(f"Erreur : EPCI « {args.epci} » absent du bundle")
        return 1
    if args.niveaux:
        filt = replace(filt, niveaux=tuple(n.strip() for n in args.niveaux.split(",") if n.strip()))
    targets = compute_targets(ind, filt)
    write_targets_csv(ind, targets, filt, Path(args.out))
    flag = "  [DONNÉES FICTIVES]" if ind.synthetic else ""
    if targets.reason:
        say(f"Liste vide : {targets.reason}")
    say(f"écrit : {args.out} ({plural(len(targets.table), 'commune')}, classées par {targets.ranked_by}){flag}")
    return 0


def _export_group(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The sub-commands of ``export`` (created when ``cli.py`` has not defined the group)."""
    export = subparsers.choices.get("export")
    if export is None:
        export = subparsers.add_parser("export", help="exporter")
        return export.add_subparsers(dest="export_command", required=True)
    for action in export._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return export.add_subparsers(dest="export_command", required=True)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``simulate`` and ``export fiche`` to the top-level sub-commands of ``ctg-carto``."""
    sim = subparsers.add_parser("simulate", help="simuler l'ouverture de places de crèche dans une commune")
    sim.add_argument("--commune", required=True, help="code INSEE de la commune")
    sim.add_argument("--places", type=int, required=True, help="nombre de places nouvelles")
    sim.add_argument("--annee", type=int, help="année d'ouverture (par défaut celle de simulation.toml)")
    sim.add_argument(
        "--qpv", choices=["oui", "non"], help="crèche dans un QPV (oui : tranche 1) ou hors QPV ; par défaut la commune"
    )
    sim.add_argument("--bundle", help="répertoire du bundle (par défaut CTG_CARTO_BUNDLE)")
    sim.set_defaults(func=cmd_simulate)

    fiche = _export_group(subparsers).add_parser("fiche", help="fiche territoire PDF (EPCI ou commune)")
    target = fiche.add_mutually_exclusive_group(required=True)
    target.add_argument("--epci", help="code SIREN de l'EPCI")
    target.add_argument("--commune", help="code INSEE de la commune")
    target.add_argument("--all-epci", metavar="DIR", help="une fiche PDF par EPCI dans ce répertoire")
    fiche.add_argument("--out", help="fichier PDF à écrire (avec --epci ou --commune)")
    fiche.add_argument("--bundle", help="répertoire du bundle (par défaut CTG_CARTO_BUNDLE)")
    fiche.set_defaults(func=cmd_export_fiche)

    cibles = _export_group(subparsers).add_parser(
        "cibles",
        help="communes à cibler (CSV ou XLSX classé, filtres des paramètres)",
        description=EXPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cibles.add_argument(
        "--out", required=True, help="fichier à écrire : .csv (« ; », virgule décimale) ou .xlsx pour un classeur"
    )
    cibles.add_argument("--epci", help="code SIREN d'un EPCI (par défaut tout le territoire)")
    cibles.add_argument("--niveaux", help="niveaux retenus, séparés par des virgules (par défaut ceux des paramètres)")
    cibles.add_argument("--bundle", help="répertoire du bundle (par défaut CTG_CARTO_BUNDLE)")
    cibles.set_defaults(func=cmd_export_cibles)
