"""The « Données » page (dépôt des extraits Caf, reconstruction, versions): its layout and pure helpers.

Shown at ``/donnees`` by the router of :mod:`dashboard.web.pages`; a full page load, so the HTTP guard of
:mod:`dashboard.web.auth` asks an anonymous visitor for the editor password before the page appears.

Every id of the « Données » page starts with :data:`dashboard.web.auth.EDITOR_ID_PREFIX`, so its callbacks are
reserved to editors. Text from files (names, messages) is always given to Dash as text, never as HTML.

Switching to a rebuilt bundle: the running workers switch by themselves (:class:`dashboard.app.LiveBundle` checks
the bundle symlink at most once a second), so the page only says « Nouveau bundle prêt » and asks to reload it; no
restart. A file confirmed while a rebuild runs is queued and built right after it (:func:`geodata.rebuild.
request_rebuild`); restoring a version also puts back the CAF extracts it was built from, so the next rebuild cannot
bring back a rolled-back file (:func:`geodata.rebuild.restore`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import flask
from dash import dcc, html
from dash.development.base_component import Component

from dashboard.core import ids
from dashboard.core.widgets import aria, make_nav, upload_guard
from dashboard.web.pages import safe_file, send_static
from geodata.caf import TEMPLATES
from geodata.errors import Problem
from geodata.manifest import Manifest
from geodata.numbers import format_count, plural
from geodata.readers import megabytes
from geodata.settings import PROJECT_ROOT
from geodata.upload import UploadLimits, too_large_message

TEMPLATES_DIR = PROJECT_ROOT / "docs" / "templates"
TEMPLATE_ROUTE = "/modeles"
RESTORE_TYPE = "donnees-restaurer"
"""Type of the pattern-matching ids of the « Restaurer » buttons (one per bundle version)."""
POLL_MS = 1500

_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]+\.(csv|xlsx)$")

REPORT_COLUMNS = ("Fichier", "Ligne", "Colonne", "Gravité", "Problème", "Suggestion")
STATE_LABELS = {"running": "en cours", "ok": "terminée", "failed": "échouée", "none": "aucune"}


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------------------------


def limits_text(limits: UploadLimits) -> str:
    """The upload limits in one French sentence (shown beside the upload area)."""
    kinds = " ou ".join(s.lstrip(".").upper() for s in limits.suffixes)
    return (
        f"Formats acceptés : {kinds}. Au plus {megabytes(limits.max_bytes, limit=True)} Mo et "
        f"{format_count(limits.max_rows)} lignes par fichier ; plusieurs fichiers (un par modèle) en une fois."
    )


def has_blocking(problems: Iterable[Problem]) -> bool:
    """Whether one problem blocks the import (severity « erreur »)."""
    return any(p.severity == "erreur" for p in problems)


def report_rows(problems: Sequence[Problem]) -> list[dict[str, str]]:
    """One row of text per problem, errors first (stable order otherwise), for the validation report."""
    ordered = sorted(problems, key=lambda p: p.severity != "erreur")
    return [
        {
            "Fichier": p.file,
            "Ligne": "" if p.row is None else str(p.row),
            "Colonne": p.column or "",
            "Gravité": "erreur" if p.severity == "erreur" else "avertissement",
            "Problème": p.message,
            "Suggestion": p.suggestion,
        }
        for p in ordered
    ]


def make_report(problems: Sequence[Problem], files: Sequence[str]) -> Component:
    """Validation report: a table of problems (text only) or a « no problem » line; nothing changes before confirm."""
    if not files and not problems:
        return html.P("Aucun fichier déposé pour l'instant.", className="muted")
    errors = sum(p.severity == "erreur" for p in problems)
    warnings = len(problems) - errors
    checked = f"{'Fichiers vérifiés' if len(files) > 1 else 'Fichier vérifié'} : {', '.join(files)}." if files else ""
    checked = checked or "Aucun fichier accepté."
    if errors:
        verdict = (
            f"{plural(errors, 'erreur bloquante')}, {plural(warnings, 'avertissement')} : corrigez le fichier dans "
            "le tableur puis déposez-le à nouveau. Rien n'a été modifié."
        )
    elif warnings:
        verdict = f"Aucune erreur bloquante, {plural(warnings, 'avertissement')} : vous pouvez confirmer."
    else:
        verdict = "Aucun problème : vous pouvez confirmer."
    children: list[Component] = [html.P(checked), html.P(verdict, className="error" if errors else "ok")]
    if problems:
        rows = report_rows(problems)
        children.append(
            html.Table(
                [
                    html.Thead(html.Tr([html.Th(c, scope="col") for c in REPORT_COLUMNS])),
                    html.Tbody(
                        [
                            html.Tr([html.Td(row[c]) for c in REPORT_COLUMNS], className=f"severite-{row['Gravité']}")
                            for row in rows
                        ]
                    ),
                ],
                className="report-table",
            )
        )
    return html.Div(children)


def make_progress(status: Mapping[str, Any]) -> Component:
    """State and progress lines of the last rebuild."""
    state = str(status.get("state") or "none")
    if state == "none":
        return html.P("Aucune reconstruction lancée depuis cette installation.", className="muted")
    head = f"Dernière reconstruction : {STATE_LABELS.get(state, state)}"
    if status.get("started"):
        head += f" (lancée le {status['started']}"
        head += f", finie le {status['finished']})" if status.get("finished") else ")"
    lines = [str(line) for line in status.get("lines") or []]
    return html.Div(
        [
            html.P(head, className=f"rebuild-{state}"),
            html.Pre("\n".join(lines[-40:]), className="rebuild-lines"),
        ]
    )


def make_versions(rows: Sequence[Mapping[str, Any]], bundle: str = "") -> Component:
    """Table of bundle versions, newest first, with a « Restaurer » button (confirm dialog) for the others.

    Without any version, the bundle looked at is named, so a bundle served from elsewhere is seen at once.
    """
    if not rows:
        where = f" pour le bundle {bundle} (construit ailleurs ou à la main ?)" if bundle else ""
        return html.P(f"Aucune version de bundle enregistrée{where}.", className="muted")
    body = []
    for row in rows:
        name = str(row["name"])
        if row.get("current"):
            action: Component = html.Strong("version actuelle")
        else:
            action = dcc.ConfirmDialogProvider(
                html.Button("Restaurer", className="button", type="button"),
                id={"type": RESTORE_TYPE, "version": name},
                message=f"Restaurer la version {name} ? La carte l'affichera sans redémarrage, et les extraits Caf "
                "dont elle a été construite redeviendront les extraits courants (les actuels sont archivés) ; la "
                "version actuelle reste disponible dans cette liste.",
            )
        body.append(
            html.Tr(
                [
                    html.Td(name),
                    html.Td(str(row.get("built_at") or "")),
                    html.Td(str(row.get("layers", ""))),
                    html.Td("oui" if row.get("synthetic") else "non"),
                    html.Td(action),
                ]
            )
        )
    head = html.Tr([html.Th(c, scope="col") for c in ("Version", "Construite le", "Couches", "Fictives", "")])
    return html.Table([html.Thead(head), html.Tbody(body)], className="report-table")


def make_layers(manifest: Manifest) -> Component:
    """Layers present in the bundle (title, publisher, vintage, rows) and missing ones with how to add them."""
    present = [
        html.Li(
            f"{info.label} — {info.publisher}, {info.vintage} "
            f"({'?' if info.rows is None else info.rows} lignes{' ; données fictives' if info.synthetic else ''})"
        )
        for info in sorted(manifest.layers.values(), key=lambda info: info.label)
    ]
    missing = [html.Li([html.Strong(m.label or "?"), " : ", m.howto]) for m in manifest.missing]
    return html.Div(
        [
            html.H3(f"Couches présentes ({len(present)})"),
            html.Ul(present) if present else html.P("Aucune.", className="muted"),
            html.H3(f"Couches absentes ({len(missing)}) et comment les ajouter"),
            html.Ul(missing) if missing else html.P("Aucune : toutes les couches sont là.", className="muted"),
        ]
    )


def reload_notice(loaded: str, current: str) -> str:
    """« Nouveau bundle prêt » when the bundle on disk is not the one this worker serves; "" otherwise."""
    if not current or current == loaded:
        return ""
    return (
        f"Nouveau bundle prêt (version {current}) : le service le charge à la prochaine requête ; "
        "rechargez la page pour afficher la nouvelle carte."
    )


def template_files(directory: Path = TEMPLATES_DIR) -> list[tuple[str, list[str]]]:
    """Downloadable template files per template title: blank XLSX, blank CSV, filled example (those present)."""
    present = {p.name for p in Path(directory).glob("*") if _TEMPLATE_NAME.match(p.name)}
    groups = []
    for template in TEMPLATES:
        names = [f"{template.id}.xlsx", f"{template.id}.csv", f"{template.id}_exemple.csv"]
        groups.append((template.title.removesuffix(" — extrait Caf"), [n for n in names if n in present]))
    return [(title, names) for title, names in groups if names]


# ---------------------------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------------------------


def _section(title: str, *children: Any) -> html.Section:
    return html.Section([html.H2(title), *children], className="panel donnees-section")


def make_donnees_page(limits: UploadLimits | None = None, templates_dir: Path = TEMPLATES_DIR) -> html.Div:
    """The « Données » page (hidden until the URL is ``/donnees``); its dynamic parts are filled by callbacks."""
    limits = limits or UploadLimits()
    template_list = html.Ul(
        [
            html.Li(
                [f"{title} : "]
                + [
                    item
                    for k, name in enumerate(names)
                    for item in ([", "] if k else []) + [html.A(name, href=f"{TEMPLATE_ROUTE}/{name}", download=name)]
                ]
            )
            for title, names in template_files(templates_dir)
        ]
    )
    return html.Div(
        [
            dcc.Store(id=ids.DONNEES_TOKEN, storage_type="memory"),
            dcc.Interval(id=ids.DONNEES_INTERVAL, interval=POLL_MS, disabled=True),
            html.Header(
                [
                    make_nav(),
                    html.H1("Données : extraits Caf et reconstruction de la carte"),
                    html.P(
                        "Déposez un extrait rempli à partir d'un modèle : il est vérifié d'abord, rien ne change "
                        "avant votre confirmation. L'ancien fichier est archivé, jamais effacé."
                    ),
                ],
                className="page-header",
            ),
            html.P(id=ids.DONNEES_RELOAD, className="reload-notice", role="status"),
            _section(
                "1. Modèles vierges",
                html.P("Partez toujours d'un modèle : en-têtes exacts, une ligne par structure.", className="hint"),
                template_list,
            ),
            _section(
                "2. Déposer et vérifier",
                upload_guard(
                    dcc.Upload(
                        html.Div(["Glissez vos fichiers ici ou ", html.A("choisissez-les", href="#")]),
                        id=ids.DONNEES_UPLOAD,
                        multiple=True,
                        accept=",".join(limits.suffixes),
                        max_size=limits.max_bytes,
                        className="upload-zone",
                    ),
                    limits.max_bytes,
                    too_large_message(limits),
                    ids.DONNEES_TOO_LARGE,
                ),
                html.P(id=ids.DONNEES_TOO_LARGE, className="error", role="alert"),
                html.P(limits_text(limits), id=ids.DONNEES_LIMITS, className="hint"),
                html.Div(make_report([], []), id=ids.DONNEES_REPORT, **aria(live="polite")),
            ),
            _section(
                "3. Confirmer et reconstruire",
                html.Button(
                    "Confirmer et reconstruire",
                    id=ids.DONNEES_CONFIRM,
                    className="button",
                    n_clicks=0,
                    disabled=True,
                ),
                html.P(id=ids.DONNEES_MESSAGE, role="status"),
                html.Div(id=ids.DONNEES_PROGRESS, **aria(live="polite")),
            ),
            _section(
                "4. Versions du bundle",
                html.P(id=ids.DONNEES_RESTORE_MESSAGE, role="status"),
                html.Div(id=ids.DONNEES_VERSIONS),
            ),
            _section("5. Couches du bundle actuel", html.Div(id=ids.DONNEES_LAYERS)),
        ],
        id=ids.DONNEES_PAGE,
        className="page donnees",
        hidden=True,
    )


def register_template_route(server: flask.Flask) -> None:
    """``/modeles/<name>``: the blank CAF templates and their filled examples (plain names only)."""
    server.add_url_rule(
        f"{TEMPLATE_ROUTE}/<name>",
        "ctg_modeles",
        lambda name: send_static(safe_file(name, TEMPLATES_DIR, _TEMPLATE_NAME), as_attachment=True),
    )
