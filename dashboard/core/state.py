"""View state ⇄ URL query string, so a shared link or a reload shows the same map: pure functions.

Query keys are French and short: ``indicateur``, ``classes`` (method), ``n`` (number of classes), ``seuils`` (manual
breaks), ``couches`` (comma-separated layer keys; present even when empty so « no layer » survives a reload),
``epci``, ``commune``. Unknown or invalid values fall back to the defaults instead of breaking the page.

Meeting keys (:mod:`dashboard.meeting.sequence`): ``presentation=1`` (projector mode), ``impression=1`` (print
layout used by the export route), ``sequence`` (encoded stops, base64url) and ``arret`` (1-based stop number). They are
not view controls, so :func:`carry_meeting` copies them onto the view the controls describe.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode

from dashboard.core.classify import MAX_CLASSES, METHODS, MIN_CLASSES
from dashboard.core.model import DashboardModel

DEFAULT_INDICATOR = "eaje_places_100_moins3"
FALLBACK_INDICATORS = (DEFAULT_INDICATOR, "acces_eaje", "acces_eaje_hab", "sous_dotation", "bonus_statut")
"""First view when the URL names none: places per child, else accessibility (per child, else per inhabitant), else
the under-served levels, else the bonus status; never a raw count chosen by default."""


def default_indicator(available: Collection[str]) -> str | None:
    """The indicator shown first for a bundle offering ``available`` (in registry order)."""
    for key in FALLBACK_INDICATORS:
        if key in available:
            return key
    return next(iter(available), None)


DEFAULT_LAYERS = ("eaje", "france_services", "qpv", "epci")


@dataclass(frozen=True)
class ViewState:
    """Everything a link must restore."""

    indicator: str = DEFAULT_INDICATOR
    method: str = "quantiles"
    k: int = 5
    breaks: str = ""
    layers: tuple[str, ...] = DEFAULT_LAYERS
    epci: str = ""
    commune: str = ""
    presentation: bool = False
    impression: bool = False
    sequence: str = ""
    arret: int = 0


SEQUENCE_MAX_CHARS = 6000
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
_YES = frozenset({"1", "oui", "true"})


def carry_meeting(view: ViewState, previous: ViewState) -> ViewState:
    """``view`` with the meeting keys of ``previous``: a control change in presentation mode stays in presentation."""
    return replace(
        view,
        presentation=previous.presentation,
        impression=previous.impression,
        sequence=previous.sequence,
        arret=previous.arret,
    )


def parse_state(
    search: str | None,
    *,
    indicators: Collection[str] | None = None,
    layers: Collection[str] | None = None,
    epcis: Collection[str] | None = None,
    communes: Collection[str] | None = None,
    default: ViewState | None = None,
) -> ViewState:
    """Read a query string (``"?indicateur=…"``); each collection given restricts the accepted values."""
    base = default or ViewState()
    query = parse_qs((search or "").lstrip("?"), keep_blank_values=True)

    def one(key: str) -> str | None:
        values = query.get(key)
        return values[0].strip() if values else None

    state = base
    indicator = one("indicateur")
    if indicator and (indicators is None or indicator in indicators):
        state = replace(state, indicator=indicator)
    method = one("classes")
    if method in METHODS:
        state = replace(state, method=method)
    k = one("n")
    if k and k.isdigit() and MIN_CLASSES <= int(k) <= MAX_CLASSES:
        state = replace(state, k=int(k))
    breaks = one("seuils")
    if breaks is not None:
        state = replace(state, breaks=breaks[:200])
    keys = one("couches")
    if keys is not None:
        chosen = [key for key in keys.split(",") if key and (layers is None or key in layers)]
        state = replace(state, layers=tuple(dict.fromkeys(chosen)))
    epci = one("epci")
    if epci is not None and (epci == "" or epcis is None or epci in epcis):
        state = replace(state, epci=epci)
    commune = one("commune")
    if commune is not None and (commune == "" or communes is None or commune in communes):
        state = replace(state, commune=commune)
    state = replace(state, presentation=one("presentation") in _YES, impression=one("impression") in _YES)
    sequence = one("sequence") or ""
    if len(sequence) <= SEQUENCE_MAX_CHARS and set(sequence) <= _TOKEN_CHARS:
        state = replace(state, sequence=sequence)
    arret = one("arret")
    if arret and arret.isdigit() and int(arret) <= 999:
        state = replace(state, arret=int(arret))
    return state


def to_search(state: ViewState) -> str:
    """Query string of a view (``"?indicateur=…&couches=…"``); empty EPCI, commune and breaks are left out."""
    params: dict[str, str] = {
        "indicateur": state.indicator,
        "classes": state.method,
        "n": str(state.k),
        "couches": ",".join(state.layers),
    }
    if state.breaks:
        params["seuils"] = state.breaks
    if state.epci:
        params["epci"] = state.epci
    if state.commune:
        params["commune"] = state.commune
    if state.presentation:
        params["presentation"] = "1"
    if state.impression:
        params["impression"] = "1"
    if state.arret:
        params["arret"] = str(state.arret)
    if state.sequence:
        params["sequence"] = state.sequence
    return "?" + urlencode(params, safe=",")


def parse_view(model: DashboardModel, search: str | None) -> ViewState:
    """A URL query string read against what this bundle offers."""
    return parse_state(
        search,
        indicators=set(model.columns),
        layers=model.drawable_layers(),
        epcis=set(model.bounds),
        communes=set(model.codes),
    )
