"""Presentation mode, meeting sequences and export links: components and callbacks (``dash.callback``).

Stepping only writes the URL query string of the next stop: the existing ``sync_url`` callback then sets the
controls and the existing Patch callbacks recolour, zoom and outline the map, exactly as for a shared link. The
figure is never rebuilt and this module never patches it: when the mode changes, the measured frame (``VIEWPORT``)
drives the map's one view callback (``dashboard.map.callbacks.update_map_view``: height and fit together).
Keyboard (→, espace, Page suivante / ←, Page précédente / Échap) and full screen live in ``assets/presentation.js``,
which clicks the buttons of the presentation bar.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date
from typing import Any

from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
    no_update,
)

from dashboard.core import ids
from dashboard.core.model import DashboardModel
from dashboard.core.runtime import current
from dashboard.core.state import parse_view, to_search
from dashboard.exports.view import caption_items, export_href
from dashboard.map.figures import map_frame
from dashboard.meeting.layout import VIEWPORT
from dashboard.meeting.sequence import (
    SequenceError,
    encode_sequence,
    sequence_from_json,
    sequence_of,
    sequence_to_json,
    step,
    stop_search,
)

ACTIONS = {
    ids.PRESENTATION_ENTER: "entrer",
    ids.PRESENTATION_NEXT: "suivant",
    ids.PRESENTATION_PREVIOUS: "precedent",
    ids.PRESENTATION_EXIT: "quitter",
}


def navigate_search(model: DashboardModel, search: str | None, action: str) -> str | None:
    """Query string after a presentation action (``entrer``, ``suivant``, ``precedent``, ``quitter``); None: no change.

    Entering starts the sequence at stop 1; leaving keeps the view on screen and the sequence (to come back later).
    """
    page = parse_view(model, search)
    if action == "quitter":
        return to_search(replace(page, presentation=False, arret=0)) if page.presentation else None
    stops, _ = sequence_of(page, model)
    if action == "entrer":
        return stop_search(stops[0], replace(page, presentation=True), 1)
    if not page.presentation:
        return None
    number = step(page.arret, len(stops), 1 if action == "suivant" else -1)
    if number == page.arret:
        return None
    return stop_search(stops[number - 1], page, number)


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(ids.PRESENTATION_ENTER, "n_clicks"),
    Input(ids.PRESENTATION_NEXT, "n_clicks"),
    Input(ids.PRESENTATION_PREVIOUS, "n_clicks"),
    Input(ids.PRESENTATION_EXIT, "n_clicks"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def navigate(_enter: int, _next: int, _previous: int, _exit: int, search: str | None) -> Any:
    """Enter, step through or leave the presentation by writing the URL (keyboard: ``assets/presentation.js``)."""
    action = ACTIONS.get(str(ctx.triggered_id), "")
    new_search = navigate_search(current().served.model, search, action) if action else None
    return no_update if new_search is None or new_search == search else new_search


def meeting_view(model: DashboardModel, search: str | None, built_at: str, today: date) -> dict[str, Any]:
    """Everything the page shows about the meeting for a URL: mode class, counter, title, links, caption."""
    page = parse_view(model, search)
    stops, error = sequence_of(page, model)
    count = len(stops)
    if 1 <= page.arret <= count:
        counter, title = f"{page.arret} / {count}", stops[page.arret - 1].title
    else:
        counter, title = f"– / {count}", "Appuyez sur → pour commencer la séquence"
    mode = "presentation" if page.presentation else "impression" if page.impression else ""
    origin = "chargée" if page.sequence and not error else "par défaut"
    caption: list[Any] = []
    if page.impression:
        caption = [html.H2("Carte exportée")] + [
            html.P([html.Strong(f"{label} : "), text], className="caption-warning" if label == "Attention" else None)
            for label, text in caption_items(model, page, built_at, today)
        ]
    return {
        "class": f"page {mode}".strip(),
        "counter": counter,
        "title": title,
        "png": export_href(search, "png"),
        "pdf": export_href(search, "pdf"),
        "status": error or f"Séquence : {count} arrêts ({origin}).",
        "caption": caption,
    }


@callback(
    Output(ids.PAGE, "className"),
    Output(ids.PRESENTATION_COUNTER, "children"),
    Output(ids.PRESENTATION_TITLE, "children"),
    Output(ids.EXPORT_PNG, "href"),
    Output(ids.EXPORT_PDF, "href"),
    Output(ids.SEQUENCE_STATUS, "children"),
    Output(ids.PRINT_CAPTION, "children"),
    Input(ids.URL, "search"),
    State(ids.PAGE, "className"),
    State(ids.PRESENTATION_COUNTER, "children"),
    State(ids.PRESENTATION_TITLE, "children"),
    State(ids.SEQUENCE_STATUS, "children"),
    State(ids.PRINT_CAPTION, "children"),
)
def show_meeting(search: str | None, *shown: Any) -> tuple[Any, ...]:
    """Mode of the page, stop counter and title, export links and print caption, from the URL; texts already shown
    are not sent again (every URL change fires this callback: an interaction sends what changed only)."""
    served = current().served
    view = meeting_view(served.model, search, served.manifest.built_at, date.today())
    kept = dict(zip(("class", "counter", "title", "status", "caption"), shown, strict=False))
    return tuple(
        no_update if key in kept and kept[key] == view[key] else view[key]
        for key in ("class", "counter", "title", "png", "pdf", "status", "caption")
    )


clientside_callback(
    ClientsideFunction(namespace="ctgPresentation", function_name="viewport"),
    Output(VIEWPORT, "data"),
    Input(ids.URL, "search"),
    State(VIEWPORT, "data"),
)


def map_height(viewport: dict | None) -> int:
    """Map height for a mode: the window below the map's top on screen, minus the title bar when presenting/printing
    (one rule with the view's fit: :func:`dashboard.map.figures.map_frame`)."""
    return map_frame(viewport)[1]


@callback(
    Output(ids.SEQUENCE_DOWNLOAD, "data"),
    Input(ids.SEQUENCE_SAVE, "n_clicks"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def save_sequence(_clicks: int, search: str | None) -> dict:
    """Download the current sequence (loaded or default) as a small JSON file."""
    model = current().served.model
    stops, _ = sequence_of(parse_view(model, search), model)
    name = f"sequence_{model.departement}_{date.today().isoformat()}.json"
    return dcc.send_string(sequence_to_json(stops, model), name)


def load_sequence_search(model: DashboardModel, search: str | None, contents: str, filename: str) -> tuple[Any, str]:
    """(new query string carrying the sequence, "") for a good file, (None, French error) otherwise."""
    label = f"« {filename} »" if filename else "Le fichier"
    try:
        _, _, data = (contents or "").partition(",")
        raw = base64.b64decode(data, validate=True)
        stops = sequence_from_json(raw, model)
    except SequenceError as exc:
        return None, f"{label} : {exc}"
    except ValueError:
        return (
            None,
            f"{label} : fichier illisible (envoyez le fichier JSON enregistré par « Enregistrer la séquence »).",
        )
    page = parse_view(model, search)
    return to_search(replace(page, sequence=encode_sequence(stops), arret=0)), ""


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Output(ids.SEQUENCE_ERROR, "children"),
    Input(ids.SEQUENCE_UPLOAD, "contents"),
    State(ids.SEQUENCE_UPLOAD, "filename"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def upload_sequence(contents: str | None, filename: str | None, search: str | None) -> tuple[Any, str]:
    """Check an uploaded sequence strictly; a good one goes into the URL (replayable link), a bad one is explained."""
    if not contents:
        return no_update, ""
    new_search, error = load_sequence_search(current().served.model, search, contents, filename or "")
    return (no_update if new_search is None else new_search), error
