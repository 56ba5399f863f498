"""URL ⇄ view state."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dashboard.core.state import DEFAULT_LAYERS, ViewState, parse_state, to_search

LAYERS = ("eaje", "alsh", "france_services", "qpv2015", "zrr", "epci")


def test_empty_search_gives_defaults():
    assert parse_state("") == ViewState()
    assert parse_state(None).layers == DEFAULT_LAYERS


def test_explicit_state_round_trips():
    state = ViewState("taux_pauvrete", "jenks", 4, "10 ; 20,5", ("alsh", "zrr"), "200027183", "66136")
    search = to_search(state)
    assert search.startswith("?indicateur=taux_pauvrete&classes=jenks&n=4&couches=alsh,zrr")
    assert parse_state(search) == state


def test_no_layer_survives_a_reload():
    state = ViewState(layers=())
    assert "couches=&" in to_search(state) or to_search(state).endswith("couches=")
    assert parse_state(to_search(state)).layers == ()


def test_invalid_values_fall_back_to_defaults():
    state = parse_state(
        "?indicateur=inconnu&classes=magie&n=99&couches=eaje,pirate&epci=123&commune=00000",
        indicators={"eaje_places"},
        layers=set(LAYERS),
        epcis={"200027183"},
        communes={"66136"},
    )
    assert state == ViewState(layers=("eaje",))


@given(
    indicator=st.sampled_from(["population", "eaje_places", "sous_dotation"]),
    method=st.sampled_from(["quantiles", "jenks", "egaux", "manuel"]),
    k=st.integers(2, 7),
    breaks=st.text(alphabet="0123456789 ;,.&=?#", max_size=20).map(str.strip),
    layers=st.lists(st.sampled_from(LAYERS), unique=True).map(tuple),
    epci=st.sampled_from(["", "200027183"]),
    commune=st.sampled_from(["", "66136", "2A004"]),
)
def test_round_trip_property(indicator, method, k, breaks, layers, epci, commune):
    state = ViewState(indicator, method, k, breaks, layers, epci, commune)
    assert parse_state(to_search(state)) == state
