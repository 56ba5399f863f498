"""Meeting sequences: the stops a CAF adviser steps through on a projector. Pure functions, no I/O.

A stop is a view (:class:`~dashboard.core.state.ViewState`: indicator, classes, layers, EPCI, commune) and a title. The
default sequence is built from the bundle (département, then each EPCI, then chosen communes). A sequence travels as
a small JSON file (« Enregistrer la séquence ») and in the URL (``sequence=``: the same JSON, compressed with zlib and
base64url-encoded, so a 14-stop meeting fits in a few hundred characters and can be replayed from a link). Both are
checked strictly against the bundle: every problem is listed in French and nothing half-valid is shown.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dashboard.core.classify import MAX_CLASSES, METHODS, MIN_CLASSES
from dashboard.core.format import parse_breaks
from dashboard.core.model import DashboardModel
from dashboard.core.state import DEFAULT_LAYERS, ViewState, to_search

FORMAT = "ctg-carto-sequence"
VERSION = 1
MAX_STOPS = 100
MAX_TITLE = 120
MAX_FILE_BYTES = 200_000
TOO_LARGE = f"fichier trop gros ({{octets}} octets, {MAX_FILE_BYTES} au plus)"
"""Refusal of an oversize sequence file (``{octets}``: its size), also shown by the browser for a file it does not
send (``assets/upload-limits.js``)."""
UNDER_SERVED = "sous_dotation"
"""Indicator of the under-served level (P1, P2…): the default for EPCI stops when the bundle has it."""

STOP_KEYS = frozenset({"titre", "indicateur", "classes", "n", "seuils", "couches", "epci", "commune"})


@dataclass(frozen=True)
class Stop:
    """One step of a meeting: what the map shows and the title on screen."""

    title: str
    view: ViewState


class SequenceError(ValueError):
    """A sequence file or link that does not fit this bundle; ``problems`` lists every problem, in French."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("Séquence refusée : " + " ; ".join(self.problems))


def _layer_keys(model: DashboardModel) -> set[str]:
    return model.drawable_layers()


def default_sequence(
    model: DashboardModel, indicator: str | None = None, communes: Sequence[str] = (), base: ViewState | None = None
) -> tuple[Stop, ...]:
    """Département, each EPCI (under-served level when available, else ``indicator``), then each chosen commune."""
    if indicator not in model.columns:
        indicator = UNDER_SERVED if UNDER_SERVED in model.columns else next(iter(model.columns), "")
    available = _layer_keys(model)
    start = base or ViewState()
    view = ViewState(
        indicator=indicator,
        method=start.method,
        k=start.k,
        layers=tuple(k for k in (start.layers if base else DEFAULT_LAYERS) if k in available),
    )
    label = model.columns[indicator].meta.label if indicator in model.columns else indicator
    dep = model.departement_nom or f"Département {model.departement}"
    stops = [Stop(f"{dep} : {label}", view)]
    for code, name in model.epci_names.items():
        if code in model.bounds:
            stops.append(Stop(name, replace(view, epci=code)))
    for code in communes:
        i = model.index_of(code)
        if i is not None:
            stops.append(Stop(f"{model.names[i]} ({code})", replace(view, epci=model.epci_codes[i], commune=code)))
    return tuple(stops)


def stop_to_dict(stop: Stop) -> dict[str, Any]:
    """JSON object of a stop (French keys, the same names as the URL)."""
    view = stop.view
    return {
        "titre": stop.title,
        "indicateur": view.indicator,
        "classes": view.method,
        "n": view.k,
        "seuils": view.breaks,
        "couches": list(view.layers),
        "epci": view.epci,
        "commune": view.commune,
    }


def sequence_to_json(stops: Sequence[Stop], model: DashboardModel) -> str:
    """The file « Enregistrer la séquence » downloads: readable, indented, tagged with format and département."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "departement": model.departement,
        "arrets": [stop_to_dict(stop) for stop in stops],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _stop_from_dict(raw: Any, number: int, model: DashboardModel, problems: list[str]) -> Stop | None:
    where = f"arrêt {number}"
    if not isinstance(raw, Mapping):
        problems.append(f"{where} : un objet JSON {{…}} est attendu")
        return None
    before = len(problems)
    unknown = sorted(set(raw) - STOP_KEYS)
    if unknown:
        problems.append(
            f"{where} : clé(s) inconnue(s) {', '.join(unknown)} (attendues : {', '.join(sorted(STOP_KEYS))})"
        )
    title = raw.get("titre", "")
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        problems.append(f"{where} : « titre » doit être un texte de {MAX_TITLE} caractères au plus")
        title = ""
    indicator = raw.get("indicateur")
    if not isinstance(indicator, str) or indicator not in model.columns:
        problems.append(f"{where} : indicateur inconnu « {indicator} »")
        indicator = ""
    method = raw.get("classes", "quantiles")
    if method not in METHODS:
        problems.append(f"{where} : classification inconnue « {method} » (possibles : {', '.join(METHODS)})")
    k = raw.get("n", 5)
    if not isinstance(k, int) or isinstance(k, bool) or not MIN_CLASSES <= k <= MAX_CLASSES:
        problems.append(f"{where} : « n » doit être un nombre de classes entre {MIN_CLASSES} et {MAX_CLASSES}")
    breaks = raw.get("seuils", "")
    try:
        if not isinstance(breaks, str):
            raise ValueError("un texte est attendu")
        parse_breaks(breaks)
    except ValueError as exc:
        problems.append(f"{where} : seuils invalides ({exc})")
    available = _layer_keys(model)
    layers = raw.get("couches", [key for key in DEFAULT_LAYERS if key in available])
    if not isinstance(layers, list) or not all(isinstance(key, str) for key in layers):
        problems.append(f"{where} : « couches » doit être une liste de noms de couches")
        layers = []
    elif bad := [key for key in layers if key not in available]:
        problems.append(f"{where} : couche(s) inconnue(s) {', '.join(bad)}")
    epci = raw.get("epci", "")
    if not isinstance(epci, str) or (epci and epci not in model.bounds):
        problems.append(f"{where} : EPCI inconnu « {epci} »")
    commune = raw.get("commune", "")
    i = model.index_of(commune) if isinstance(commune, str) and commune else None
    if commune and i is None:
        problems.append(f"{where} : commune inconnue « {commune} »")
    elif i is not None and epci and model.epci_codes[i] != epci:
        problems.append(f"{where} : la commune {commune} n'appartient pas à l'EPCI {epci}")
    if len(problems) > before:
        return None
    view = ViewState(indicator, method, k, breaks, tuple(dict.fromkeys(layers)), epci, commune)
    return Stop(title.strip() or _title(model, view), view)


def _title(model: DashboardModel, view: ViewState) -> str:
    if view.commune:
        i = model.index_of(view.commune)
        return f"{model.names[i]} ({view.commune})" if i is not None else view.commune
    if view.epci:
        return model.epci_names.get(view.epci, view.epci)
    return model.departement_nom or f"Département {model.departement}"


def stops_from_list(items: Any, model: DashboardModel) -> tuple[Stop, ...]:
    """Check a list of stop objects against the bundle.

    Raises:
        SequenceError: with every problem found (not only the first).
    """
    if not isinstance(items, list) or not items:
        raise SequenceError(["la liste « arrets » est absente ou vide"])
    if len(items) > MAX_STOPS:
        raise SequenceError([f"{len(items)} arrêts : {MAX_STOPS} au plus"])
    problems: list[str] = []
    stops = [_stop_from_dict(raw, n, model, problems) for n, raw in enumerate(items, start=1)]
    if problems:
        raise SequenceError(problems)
    return tuple(stop for stop in stops if stop is not None)


NESTED = "fichier JSON trop imbriqué : ce n'est pas une séquence enregistrée par ctg-carto"


def _json_error(exc: Exception) -> str:
    """Where a JSON file is broken, in French (the decoder's own message is English)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"erreur de syntaxe ligne {exc.lineno}, colonne {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return "le fichier n'est pas en UTF-8"
    return "contenu illisible"


def sequence_from_json(content: str | bytes, model: DashboardModel) -> tuple[Stop, ...]:
    """Read a saved sequence file.

    Raises:
        SequenceError: not JSON, another format or département, or stops that do not fit the bundle.
    """
    if len(content) > MAX_FILE_BYTES:
        raise SequenceError([TOO_LARGE.replace("{octets}", str(len(content)))])
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SequenceError([f"ce n'est pas un fichier JSON lisible ({_json_error(exc)})"]) from None
    except RecursionError:  # [[[[…]]]] thousands of levels deep: not a sequence, and no 500
        raise SequenceError([NESTED]) from None
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise SequenceError([f"ce fichier n'est pas une séquence ctg-carto (« format » doit valoir « {FORMAT} »)"])
    if document.get("version") != VERSION:
        raise SequenceError([f"version {document.get('version')!r} non prise en charge (attendue : {VERSION})"])
    if str(document.get("departement", "")) != model.departement:
        raise SequenceError(
            [f"séquence du département « {document.get('departement')} », la carte est celle du {model.departement}"]
        )
    return stops_from_list(document.get("arrets"), model)


def encode_sequence(stops: Sequence[Stop]) -> str:
    """URL token of a sequence: compact JSON (default values left out), zlib, base64url without padding."""
    items = []
    for stop in stops:
        item = stop_to_dict(stop)
        for key, default in (("classes", "quantiles"), ("n", 5), ("seuils", ""), ("epci", ""), ("commune", "")):
            if item[key] == default:
                del item[key]
        items.append(item)
    raw = json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_sequence(token: str, model: DashboardModel) -> tuple[Stop, ...]:
    """Stops of a ``sequence=`` URL token.

    Raises:
        SequenceError: damaged link or stops that do not fit the bundle.
    """
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, MAX_FILE_BYTES)
        if inflater.unconsumed_tail:
            raise SequenceError(["séquence trop longue dans le lien"])
        items = json.loads(raw)
    except RecursionError:
        raise SequenceError([NESTED]) from None
    except (binascii.Error, zlib.error, ValueError) as exc:
        if isinstance(exc, SequenceError):
            raise
        raise SequenceError(["le lien de séquence est abîmé (copiez-le en entier)"]) from None
    return stops_from_list(items, model)


def sequence_of(state: ViewState, model: DashboardModel) -> tuple[tuple[Stop, ...], str]:
    """The stops of a page state (its ``sequence=`` token, else the default sequence) and the error of a bad token."""
    if state.sequence:
        try:
            return decode_sequence(state.sequence, model), ""
        except SequenceError as exc:
            return default_sequence(model, state.indicator), f"{exc} Séquence par défaut utilisée."
    return default_sequence(model, state.indicator), ""


def step(position: int, count: int, delta: int) -> int:
    """Stop number (1-based) after pressing → (+1) or ← (-1): stays on the first and last stop instead of wrapping.

    A presenter who presses → once too often must not jump back to the title stop in front of the mayors.
    """
    if count <= 0:
        return 0
    if position <= 0:
        return 1
    return min(max(position + delta, 1), count)


def stop_state(stop: Stop, page: ViewState, number: int) -> ViewState:
    """Page state showing ``stop`` as stop ``number``, keeping the meeting keys (presentation, sequence)."""
    return replace(
        stop.view, presentation=page.presentation, impression=page.impression, sequence=page.sequence, arret=number
    )


def stop_search(stop: Stop, page: ViewState, number: int) -> str:
    """URL query string of a stop: writing it to the URL reuses the normal URL → controls → patch callbacks."""
    return to_search(stop_state(stop, page, number))
