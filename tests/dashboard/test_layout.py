"""Layout: every id of ids.py exists exactly once; no string id outside ids.py; data text is never raw HTML."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from dash.development.base_component import Component

from dashboard.core import ids

ID_VALUES = {value for name, value in vars(ids).items() if name.isupper()}
DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def _walk(component):
    if isinstance(component, Component):
        yield component
        children = getattr(component, "children", None)
        items = children if isinstance(children, list | tuple) else [children]
        for child in items:
            yield from _walk(child)


def test_every_id_exists_exactly_once(app):
    found = Counter(c.id for c in _walk(app.layout()) if getattr(c, "id", None))
    assert set(found) == ID_VALUES
    assert all(count == 1 for count in found.values())


def test_ids_are_kebab_case_constants():
    for name, value in vars(ids).items():
        if name.isupper():
            assert value == value.lower()
            assert "_" not in value and " " not in value


def test_no_string_ids_outside_ids_module():
    for path in DASHBOARD.glob("*.py"):
        if path.name == "ids.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "id":
                assert not isinstance(node.value, ast.Constant), f"{path.name}:{node.lineno} id littéral"
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"Input", "Output", "State"}:
                assert not isinstance(node.args[0], ast.Constant), f"{path.name}:{node.lineno} id littéral"


def test_no_dangerous_html_anywhere():
    for path in DASHBOARD.glob("*.py"):
        assert "dangerously_allow_html" not in path.read_text(encoding="utf-8")


def test_indicator_picker_is_grouped_by_theme_and_lists_mappable_indicators_only(app):
    picker = next(c for c in _walk(app.layout()) if getattr(c, "id", None) == ids.INDICATOR_DROPDOWN)
    values = [o["value"] for o in picker.options]
    headers = [o["label"] for o in picker.options if o.get("disabled")]
    assert headers == ["— Contexte —", "— Offre —", "— Accès —", "— Sous-dotation —"]
    assert "bonus_motif" not in values  # texte: card only
    assert "med_niveau_vie" not in values  # not available in this bundle
    # No places per child nor accessibility in this bundle: the first view is the under-served map, never a count.
    assert picker.value == "sous_dotation"


def test_class_controls_hidden_for_categorical_indicators(app):
    fieldset = next(c for c in _walk(app.layout()) if getattr(c, "id", None) == ids.CLASS_CONTROLS)
    assert fieldset.hidden is True  # the first view is categorical


def test_layers_without_data_are_disabled_with_their_reason(app):
    zones = next(c for c in _walk(app.layout()) if getattr(c, "id", None) == ids.ZONE_LAYERS)
    by_key = {o["value"]: o for o in zones.options}
    # This bundle has no QPV layer and no CTG list: offered, disabled, with the reason, never drawn empty.
    assert by_key["qpv2024"]["disabled"] is True
    assert by_key["qpv2024"]["label"] == "QPV 2024 (périmètres) — indisponible : couche absente"
    assert by_key["ctg"]["label"].endswith("indisponible : couche absente du bundle")
    assert by_key["cibles"]["disabled"] is True
    assert not by_key["zrr"].get("disabled")
    assert "qpv2024" not in zones.value


def test_epci_filter_starts_with_whole_departement(app, model):
    dropdown = next(c for c in _walk(app.layout()) if getattr(c, "id", None) == ids.EPCI_DROPDOWN)
    assert dropdown.options[0] == {"label": "Tout le département", "value": ""}
    assert len(dropdown.options) == 1 + len(model.epci_names)
