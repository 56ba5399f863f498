"""Meeting sequences (pure) and the presentation callbacks called as plain functions."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date

import pytest

from dashboard.core.state import ViewState, parse_state, to_search
from dashboard.meeting.callbacks import load_sequence_search, map_height, meeting_view, navigate_search
from dashboard.meeting.sequence import (
    SequenceError,
    Stop,
    decode_sequence,
    default_sequence,
    encode_sequence,
    sequence_from_json,
    sequence_of,
    sequence_to_json,
    step,
)


def test_default_sequence_is_departement_then_each_epci_then_communes(model):
    stops = default_sequence(model, communes=("66136",))
    epcis = [code for code in model.epci_names if code in model.bounds]
    assert len(stops) == 1 + len(epcis) + 1
    assert stops[0].view.epci == "" and stops[0].title == "Pyrénées-Orientales : Sous-dotation"
    assert [s.view.epci for s in stops[1:-1]] == epcis
    assert stops[1].title == model.epci_names[epcis[0]]
    # The under-served level is the default indicator of every stop when the bundle has it.
    assert {s.view.indicator for s in stops} == {"sous_dotation"}
    last = stops[-1]
    assert last.view.commune == "66136" and last.title == "Perpignan (66136)"
    assert last.view.epci == model.epci_codes[model.codes.index("66136")]
    # Layers are those of the default view that this bundle has (no ALSH, no QPV here).
    assert stops[0].view.layers == ("eaje", "france_services", "epci")


def test_sequence_json_and_url_round_trip(model):
    stops = (
        Stop("Ouverture", ViewState("taux_pauvrete", "jenks", 4, "", ("eaje",), "", "")),
        Stop("Perpignan", ViewState("eaje_places", "manuel", 3, "10 ; 20", (), "200027183", "66136")),
    )
    text = sequence_to_json(stops, model)
    document = json.loads(text)
    assert document["format"] == "ctg-carto-sequence" and document["departement"] == "66"
    assert document["arrets"][1]["commune"] == "66136"
    assert sequence_from_json(text, model) == stops
    token = encode_sequence(stops)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_sequence(token, model) == stops
    # Through the page URL as well: parse_state keeps the token untouched.
    search = to_search(ViewState(presentation=True, sequence=token, arret=2))
    assert parse_state(search).sequence == token
    assert sequence_of(parse_state(search), model) == (stops, "")


def test_default_sequence_of_the_real_size_fits_in_a_short_link(model):
    token = encode_sequence(default_sequence(model))
    assert len(token) < 1000


def test_validation_lists_every_problem_in_french(model):
    document = {
        "format": "ctg-carto-sequence",
        "version": 1,
        "departement": "66",
        "arrets": [
            {"titre": "ok", "indicateur": "population"},
            {"indicateur": "inconnu", "epci": "999999999", "commune": "75056", "couleur": "rouge"},
            {"indicateur": "population", "epci": "200027183", "commune": "66049", "n": 12, "couches": ["piscines"]},
        ],
    }
    with pytest.raises(SequenceError) as error:
        sequence_from_json(json.dumps(document), model)
    problems = error.value.problems
    assert "arrêt 2 : indicateur inconnu « inconnu »" in problems
    assert "arrêt 2 : EPCI inconnu « 999999999 »" in problems
    assert "arrêt 2 : commune inconnue « 75056 »" in problems
    assert any(p.startswith("arrêt 2 : clé(s) inconnue(s) couleur") for p in problems)
    assert "arrêt 3 : la commune 66049 n'appartient pas à l'EPCI 200027183" in problems
    assert "arrêt 3 : couche(s) inconnue(s) piscines" in problems
    assert any(p.startswith("arrêt 3 : « n »") for p in problems)
    assert len(problems) == 7


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pas du json", r"ce n'est pas un fichier JSON lisible \(erreur de syntaxe ligne 1, colonne 1\)"),
        ("[" * 100_000 + "]" * 100_000, "fichier JSON trop imbriqué"),
        ('{"format": "ctg-carto-sequence", "arrets": ' + "[" * 50_000 + "]" * 50_000 + "}", "trop imbriqué"),
        (b"\xff\xfe{", "pas en UTF-8"),
        ('{"format": "autre"}', "n'est pas une séquence ctg-carto"),
        ('{"format": "ctg-carto-sequence", "version": 1, "departement": "11", "arrets": []}', "département « 11 »"),
        ('{"format": "ctg-carto-sequence", "version": 1, "departement": "66", "arrets": []}', "absente ou vide"),
    ],
)
def test_bad_files_are_refused_with_a_reason(model, content, message):
    with pytest.raises(SequenceError, match=message):
        sequence_from_json(content, model)


def test_damaged_link_falls_back_to_the_default_sequence(model):
    stops, error = sequence_of(ViewState(sequence="abcdef"), model)
    assert stops == default_sequence(model, "eaje_places_100_moins3")
    assert "lien de séquence est abîmé" in error


def test_a_deeply_nested_link_is_refused_in_french_not_a_500(model):
    import base64
    import zlib

    token = base64.urlsafe_b64encode(zlib.compress(b"[" * 60_000 + b"]" * 60_000, 9)).decode().rstrip("=")
    stops, error = sequence_of(ViewState(sequence=token), model)
    assert "trop imbriqué" in error and stops == default_sequence(model, "eaje_places_100_moins3")


def test_step_stops_at_both_ends():
    assert step(0, 14, 1) == 1
    assert step(1, 14, 1) == 2
    assert step(14, 14, 1) == 14
    assert step(1, 14, -1) == 1
    assert step(3, 14, -1) == 2
    assert step(5, 0, 1) == 0


def test_navigation_writes_the_stop_view_into_the_url(model):
    stops = default_sequence(model, "population")
    token = encode_sequence(stops)
    start = to_search(ViewState(indicator="population", sequence=token))
    entered = navigate_search(model, start, "entrer")
    page = parse_state(entered)
    assert (page.presentation, page.arret, page.epci, page.sequence) == (True, 1, "", token)
    second = parse_state(navigate_search(model, entered, "suivant"))
    assert second.arret == 2 and second.epci == stops[1].view.epci
    back = parse_state(navigate_search(model, to_search(second), "precedent"))
    assert back.arret == 1 and back.epci == ""
    # ← on the first stop and → on the last change nothing.
    assert navigate_search(model, entered, "precedent") is None
    last = to_search(replace(stops[-1].view, presentation=True, sequence=token, arret=len(stops)))
    assert navigate_search(model, last, "suivant") is None
    # Échap leaves the mode, keeps the view and the sequence; outside the mode the keys do nothing.
    left = parse_state(navigate_search(model, to_search(second), "quitter"))
    assert (left.presentation, left.arret, left.epci, left.sequence) == (False, 0, second.epci, token)
    assert navigate_search(model, to_search(left), "suivant") is None


def test_meeting_view_counter_title_links_and_caption(model):
    stops = default_sequence(model)
    search = to_search(replace(stops[2].view, presentation=True, arret=3))
    view = meeting_view(model, search, "2025-11-20T10:00:00+00:00", date(2025, 11, 27))
    assert view["class"] == "page presentation"
    assert view["counter"] == f"3 / {len(stops)}"
    assert view["title"] == stops[2].title
    assert view["pdf"] == "/export/vue.pdf" + search
    assert view["status"] == f"Séquence : {len(stops)} arrêts (par défaut)."
    assert view["caption"] == []
    printed = meeting_view(model, "?indicateur=population&epci=200027183&impression=1", "", date(2025, 11, 27))
    assert printed["class"] == "page impression"
    assert len(printed["caption"]) > 5


def test_upload_accepts_a_saved_file_and_explains_a_bad_one(model):
    stops = default_sequence(model, "population")[:3]
    data = base64.b64encode(sequence_to_json(stops, model).encode()).decode()
    search, error = load_sequence_search(model, "?epci=200027183", f"data:application/json;base64,{data}", "a.json")
    assert error == ""
    assert decode_sequence(parse_state(search).sequence, model) == stops
    assert parse_state(search).epci == "200027183"
    bad = base64.b64encode(b'{"format": "ctg-carto-sequence", "version": 1, "departement": "66", '
                           b'"arrets": [{"indicateur": "x"}]}').decode()  # fmt: skip
    search, error = load_sequence_search(model, "", f"data:application/json;base64,{bad}", "b.json")
    assert search is None
    assert error == "« b.json » : Séquence refusée : arrêt 1 : indicateur inconnu « x »"
    search, error = load_sequence_search(model, "", "data:application/json;base64,@@@", "c.json")
    assert search is None and "fichier illisible" in error


def test_map_height_fits_the_projector():
    assert map_height(None) == 640
    assert map_height({"mode": "presentation", "height": 1080}) == 960
    assert map_height({"mode": "impression", "height": 794}) == 724
    assert map_height({"mode": "presentation", "height": 300}) == 420


def test_state_round_trips_meeting_keys():
    state = ViewState(indicator="population", epci="200027183", presentation=True, sequence="eJyLjgUAARUAuQ", arret=3)
    search = to_search(state)
    assert search.endswith("&presentation=1&arret=3&sequence=eJyLjgUAARUAuQ")
    assert parse_state(search) == state
    assert parse_state("?impression=1").impression is True
    # Junk never reaches the page: bad characters or a huge token are dropped.
    assert parse_state("?sequence=<script>&arret=-1").sequence == ""
    assert parse_state("?arret=abc").arret == 0
