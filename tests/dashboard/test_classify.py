"""Classification: hand-computed breaks, special classes, stepped colourscale, legend bins."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.classify import (
    CLASS_ND,
    CLASS_SECRET,
    CLASS_ZERO,
    COLOR_ND,
    COLOR_SECRET,
    FIRST_NUMERIC_CLASS,
    YLGNBU,
    classify_category,
    classify_numeric,
    compute_breaks,
    sequential_palette,
    stepped_colorscale,
)

VALUES = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])


def test_quantile_breaks_by_hand():
    # Linear quantiles at 0.2, 0.4, … of 1..10: 1 + 9 q → 2.8, 4.6, 6.4, 8.2, 10.
    assert compute_breaks(VALUES, "quantiles", 5) == pytest.approx((2.8, 4.6, 6.4, 8.2, 10.0))


def test_equal_interval_breaks_by_hand():
    assert compute_breaks(VALUES, "egaux", 3) == pytest.approx((4.0, 7.0, 10.0))


def test_jenks_separates_obvious_groups():
    values = np.array([1.0, 1.1, 1.2, 5.0, 5.1, 5.2, 20.0, 20.5])
    assert compute_breaks(values, "jenks", 3) == pytest.approx((1.2, 5.2, 20.5))


def test_manual_breaks_keep_user_thresholds_and_add_the_maximum():
    assert compute_breaks(VALUES, "manuel", 5, [5.0, 2.5]) == (2.5, 5.0, 10.0)
    assert compute_breaks(VALUES, "manuel", 5, [50.0]) == (50.0,)


def test_ties_collapse_to_fewer_classes():
    assert compute_breaks(np.array([3.0, 3.0, 3.0, 7.0]), "quantiles", 5) == (3.0, 7.0)


def test_special_states_and_true_zero_get_their_own_classes():
    values = np.array([np.nan, np.nan, 0.0, 1.0, 2.0, 3.0, 4.0])
    states = ["secret", "nd", "valeur", "valeur", "valeur", "valeur", "valeur"]
    classes = classify_numeric(values, states, "egaux", 2, decimals=0)
    # Breaks on non-zero real values 1..4 only: equal intervals → 2.5, 4.
    assert classes.breaks == pytest.approx((2.5, 4.0))
    assert classes.codes == (CLASS_SECRET, CLASS_ND, CLASS_ZERO, 3, 3, 4, 4)
    assert classes.colors[CLASS_ND] == COLOR_ND
    assert classes.colors[CLASS_SECRET] == COLOR_SECRET
    labels = [b.label for b in classes.bins]
    assert labels == ["non disponible", "secret statistique", "0", "de 1 à 2", "plus de 2 à 4"]
    assert classes.counts() == {0: 1, 1: 1, 2: 1, 3: 2, 4: 2}
    assert classes.counts(np.array([True, False, True, True, False, False, False])) == {0: 0, 1: 1, 2: 1, 3: 1, 4: 0}


def test_reverse_palette_puts_dark_colours_on_low_values():
    normal = classify_numeric(VALUES, ["valeur"] * 10, "quantiles", 3)
    reverse = classify_numeric(VALUES, ["valeur"] * 10, "quantiles", 3, reverse=True)
    assert normal.colors[FIRST_NUMERIC_CLASS] != reverse.colors[FIRST_NUMERIC_CLASS]
    assert sequential_palette(3) == (YLGNBU[0], YLGNBU[3], YLGNBU[5], YLGNBU[8])
    assert reverse.colors[CLASS_ZERO] == YLGNBU[8]


def test_stepped_colorscale_gives_each_code_a_flat_band():
    scale = stepped_colorscale(["#a", "#b", "#c"])
    assert scale == [[0, "#a"], [0.333333, "#a"], [0.333333, "#b"], [0.666667, "#b"], [0.666667, "#c"], [1, "#c"]]
    classes = classify_numeric(VALUES, ["valeur"] * 10, "quantiles", 4)
    assert classes.zmin == -0.5
    assert classes.zmax == len(classes.colors) - 0.5


def test_categories_keep_their_order_and_colour_blind_palette():
    classes = classify_category(
        ["P2", "couvert", "", "P1"], ["valeur", "valeur", "nd", "valeur"], ("P1", "P2", "couvert")
    )
    assert classes.codes == (3, 4, CLASS_ND, 2)
    assert [b.label for b in classes.bins][2:] == ["P1", "P2", "couvert"]
    assert classes.colors[2] == "#D55E00"
