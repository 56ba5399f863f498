"""The ``ctg-carto`` command line: build and check data, run the app, export.

Heavy modules are imported inside each command so ``ctg-carto data …`` never loads Dash.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.cli.common import EXPORT_HELP, bundle_path, load_bundle_or_say, say
from dashboard.cli.meeting import register as register_meeting_commands
from geodata.numbers import plural
from geodata.settings import Settings

if TYPE_CHECKING:
    pass


def cmd_data_build(args: argparse.Namespace, settings: Settings) -> int:
    """Build a bundle; print progress, then the table of layers present / missing."""
    from geodata.build import build_bundle

    sources = Path(args.sources) if args.sources else settings.sources_dir
    extra = tuple(Path(p) for p in args.sources_extra) if args.sources_extra else settings.sources_extra
    caf = Path(args.caf) if args.caf else settings.caf_dir
    out = Path(args.out) if args.out else settings.bundle
    say(f"Sources publiques : {sources}{'' if sources.is_dir() else ' (absent)'}")
    for directory in extra:
        say(f"  puis, pour ce qui y manque : {directory}{'' if directory.is_dir() else ' (absent)'}")
    say(f"Extraits Caf      : {caf}{'' if caf.is_dir() else ' (absent)'}")
    report = build_bundle(
        out,
        departement=args.departement or settings.departement,
        sources_dir=sources,
        caf_dir=caf,
        progress=say,
        extra_sources=extra,
        arrondissements=args.arrondissements or settings.arrondissements,
    )
    for problem in report.problems:
        say(f"{problem.severity.upper()} — {problem}")
    if not report.ok:
        say(f"\nÉchec : aucun changement, le bundle actuel ({out}) est conservé.")
        return 1
    say(f"\nBundle construit en {report.seconds:.1f} s : {out} → {report.version_dir}")
    say("\nCouches présentes :")
    for row in report.present:
        flag = "  [DONNÉES FICTIVES]" if row["synthetic"] else ""
        say(f"  ✔ {row['layer']:<22} {row['rows']:>6} lignes  {row['title']} — {row['vintage']}{flag}")
    say("\nCouches absentes :")
    for row in report.missing:
        say(f"  ✘ {row['layer']:<22} {row['title']} — {row['howto']}")
    return 0


def cmd_data_check(args: argparse.Namespace, settings: Settings) -> int:
    """Validate input files without building: every problem with file, line and column."""
    from geodata.check import check_path

    problems, checked = check_path(Path(args.path), departement=args.departement or settings.departement)
    for name, status in checked:
        say(f"{status:<8} {name}")
    for problem in problems:
        say(f"{problem.severity.upper()} — {problem}")
    errors = sum(p.severity == "erreur" for p in problems)
    say(f"\n{plural(len(checked), 'fichier vérifié')}, {plural(errors, 'erreur')}.")
    return 1 if errors else 0


def cmd_data_fetch(args: argparse.Namespace, settings: Settings) -> int:
    """Download the official files the catalogue has URLs for (cache + checksums)."""
    from geodata.catalogue import FETCHABLE_SOURCES
    from geodata.fetch import fetch_sources, format_results
    from geodata.settings import DOWNLOAD_DIR

    dest = Path(args.dest) if args.dest else DOWNLOAD_DIR
    results = fetch_sources(dest, FETCHABLE_SOURCES, mirror=args.mirror)
    say(format_results(results))
    return 0 if all(r.ok for r in results) else 1


def cmd_data_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Write the synthetic CAF extract (« Données fictives ») in the templates' format."""
    from geodata.communes import load_commune_base
    from geodata.demo import write_demo_extract

    out = Path(args.out) if args.out else settings.caf_dir
    base = load_commune_base(args.departement or settings.departement)
    paths = write_demo_extract(out, base.communes, seed=args.seed)
    for path in paths:
        say(f"écrit : {path}")
    say("Ces fichiers sont FICTIFS (DONNEES_FICTIVES.txt) : la carte affichera « Données fictives ».")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the Dash app (development server; use the Procfile's gunicorn in production).

    ``--bundle`` replaces the configured bundle everywhere, not only for the first load: the « Données » page lists
    the versions, rebuilds and restores of the bundle being served (it used to look at ``CTG_CARTO_BUNDLE`` and say
    « Aucune version de bundle enregistrée » while the served bundle had versions).
    """
    from dashboard.app import create_app

    bundle = load_bundle_or_say(args, settings)
    if bundle is None:
        return 2
    settings = replace(settings, bundle=bundle_path(args, settings))
    app = create_app(settings, bundle)
    app.run(host=args.host or settings.host, port=args.port or settings.port, debug=settings.debug)
    return 0


def cmd_export_indicators(args: argparse.Namespace, settings: Settings) -> int:
    """Write the full indicator table of one level (CSV or XLSX, sources at the top; parameters beside it)."""
    from indicators.compute import compute_indicators
    from indicators.export import write_indicator_csv

    bundle = load_bundle_or_say(args, settings)
    if bundle is None:
        return 2
    indicators = compute_indicators(bundle)
    write_indicator_csv(indicators, args.level, Path(args.out), excel=args.excel)
    say(f"écrit : {args.out}" + ("  [DONNÉES FICTIVES]" if indicators.synthetic else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of ``ctg-carto`` (French help)."""
    parser = argparse.ArgumentParser(prog="ctg-carto", description="Carte des services aux familles (CTG, Caf).")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="données : construire, vérifier, télécharger, démo").add_subparsers(
        dest="data_command", required=True
    )
    build = data.add_parser("build", help="construire le bundle de territoire")
    build.add_argument("--departement", help="code du département (66 par défaut) ou « all »")
    build.add_argument("--sources", help="répertoire des fichiers publics (par défaut data/sources, ceux du 66)")
    build.add_argument(
        "--sources-extra",
        action="append",
        metavar="DIR",
        help="répertoire cherché ensuite, pour les fichiers absents du premier (répétable ; défaut var/sources)",
    )
    build.add_argument(
        "--arrondissements",
        choices=["auto", "oui", "non"],
        help="Paris, Lyon, Marseille par arrondissement municipal (auto : dans le 75, le 69 et le 13)",
    )
    build.add_argument("--caf", help="répertoire des extraits Caf")
    build.add_argument("--out", help="répertoire du bundle (par défaut CTG_CARTO_BUNDLE)")
    build.set_defaults(func=cmd_data_build)

    check = data.add_parser("check", help="vérifier des fichiers sans construire")
    check.add_argument("path", help="fichier ou répertoire")
    check.add_argument("--departement")
    check.set_defaults(func=cmd_data_check)

    fetch = data.add_parser("fetch", help="télécharger les fichiers officiels connus du catalogue")
    fetch.add_argument("--mirror", help="répertoire ou URL d'un miroir")
    fetch.add_argument("--dest", help="répertoire de destination (par défaut var/sources)")
    fetch.set_defaults(func=cmd_data_fetch)

    demo = data.add_parser("demo", help="écrire un extrait Caf FICTIF pour démonstration")
    demo.add_argument("--out", help="répertoire (par défaut CTG_CARTO_CAF_DIR)")
    demo.add_argument("--seed", type=int, default=66)
    demo.add_argument("--departement")
    demo.set_defaults(func=cmd_data_demo)

    serve = sub.add_parser("serve", help="lancer l'application")
    serve.add_argument("--bundle")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    export = sub.add_parser("export", help="exporter").add_subparsers(dest="export_command", required=True)
    ind = export.add_parser(
        "indicators",
        help="table des indicateurs (CSV ou XLSX)",
        description=EXPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ind.add_argument("--level", choices=["commune", "epci"], default="commune")
    ind.add_argument("--bundle")
    ind.add_argument("--out", required=True, help="fichier à écrire : .csv, ou .xlsx pour un classeur")
    ind.add_argument("--excel", action="store_true", help="CSV pour Excel : « ; », virgule décimale, UTF-8 avec BOM")
    ind.set_defaults(func=cmd_export_indicators)
    register_meeting_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ctg-carto`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args, Settings.from_env()) or 0)


if __name__ == "__main__":
    sys.exit(main())
