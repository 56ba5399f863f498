"""Meeting pieces of the map page: the toolbar (presentation, sequences, exports), the presentation bar and the
print caption. Pure component factories (their callbacks: :mod:`dashboard.meeting.callbacks`)."""

from __future__ import annotations

from dash import dcc, html

from dashboard.core import ids
from dashboard.core.widgets import aria, upload_guard
from dashboard.exports.view import export_href
from dashboard.meeting.sequence import MAX_FILE_BYTES, TOO_LARGE

VIEWPORT = ids.VIEWPORT
"""Store filled in the browser: mode and window size, so the map height fits the projector."""


def make_meeting_toolbar() -> html.Div:
    """Buttons above the map: presentation, save/load the sequence, export the view."""
    return html.Div(
        [
            html.Button(
                "Mode présentation",
                id=ids.PRESENTATION_ENTER,
                className="button",
                n_clicks=0,
                title="Plein écran, grands caractères ; → / ← pour passer d'un arrêt à l'autre, Échap pour sortir",
            ),
            html.Button("Enregistrer la séquence", id=ids.SEQUENCE_SAVE, className="button secondary", n_clicks=0),
            upload_guard(
                dcc.Upload(
                    html.Span("Charger une séquence (JSON)"),
                    id=ids.SEQUENCE_UPLOAD,
                    className="button secondary upload",
                    accept=".json,application/json",
                    max_size=MAX_FILE_BYTES,
                    multiple=False,
                ),
                MAX_FILE_BYTES,
                TOO_LARGE,
                ids.SEQUENCE_ERROR,
            ),
            # No ``download`` attribute: the file comes with Content-Disposition: attachment, and a refusal
            # (« réessayez », HTTP 503) is shown as a French page instead of a silently failed download.
            html.A("Exporter PNG", id=ids.EXPORT_PNG, href=export_href("", "png"), className="button"),
            html.A("Exporter PDF", id=ids.EXPORT_PDF, href=export_href("", "pdf"), className="button"),
            html.Span(id=ids.SEQUENCE_STATUS, className="muted"),
            html.P(id=ids.SEQUENCE_ERROR, className="error", role="alert"),
            dcc.Download(id=ids.SEQUENCE_DOWNLOAD),
            dcc.Store(id=VIEWPORT),
        ],
        id=ids.PRESENTATION_TOOLBAR,
        className="meeting-toolbar",
    )


def make_presentation_bar() -> html.Div:
    """Stop counter, stop title and navigation, shown in presentation mode only (CSS)."""
    return html.Div(
        [
            html.Span(id=ids.PRESENTATION_COUNTER, className="presentation-counter", **aria(live="polite")),
            html.H2(id=ids.PRESENTATION_TITLE, className="presentation-title"),
            html.Div(
                [
                    html.Button("←", id=ids.PRESENTATION_PREVIOUS, n_clicks=0, title="Arrêt précédent (←)"),
                    html.Button("→", id=ids.PRESENTATION_NEXT, n_clicks=0, title="Arrêt suivant (→ ou espace)"),
                    html.Button("Plein écran", id=ids.PRESENTATION_FULLSCREEN, n_clicks=0),
                    html.Button("Quitter (Échap)", id=ids.PRESENTATION_EXIT, n_clicks=0),
                ],
                className="presentation-nav",
            ),
        ],
        id=ids.PRESENTATION_BAR,
        className="presentation-bar",
    )


def make_print_caption() -> html.Div:
    """Caption block of the print layout (filled from the URL; hidden on screen)."""
    return html.Div(id=ids.PRINT_CAPTION, className="print-caption")
