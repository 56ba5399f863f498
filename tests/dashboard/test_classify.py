"""Classification: hand-computed breaks, special classes, stepped colourscale, legend bins."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.core.classify import (
    CLASS_ND,
    CLASS_SECRET,
    CLASS_ZERO,
    COLOR_ND,
    COLOR_SECRET,
    FIRST_NUMERIC_CLASS,
    YLGNBU,
    YLORRD,
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
    # Breaks on non-zero real values 1..4 only: equal intervals → 2.5, 4; whole numbers → classes 1-2 and 3-4.
    assert classes.breaks == pytest.approx((2.0, 4.0))
    assert classes.codes == (CLASS_SECRET, CLASS_ND, CLASS_ZERO, 3, 3, 4, 4)
    assert classes.colors[CLASS_ND] == COLOR_ND == "#ffffff"
    assert classes.colors[CLASS_SECRET] == COLOR_SECRET
    labels = [b.label for b in classes.bins]
    assert labels == ["non disponible", "secret statistique", "0", "1 – 2", "3 – 4"]
    assert classes.counts() == {0: 1, 1: 1, 2: 1, 3: 2, 4: 2}
    assert classes.counts(np.array([True, False, True, True, False, False, False])) == {0: 0, 1: 1, 2: 1, 3: 1, 4: 0}


def test_count_classes_read_as_whole_numbers():
    counts = np.array([0.0] * 179 + [1.0] * 20 + [2.0] * 10 + [3.0] * 6 + [4.0, 7.0, 12.0, 30.0] * 2 + [5.0, 9.0, 11.0])
    classes = classify_numeric(counts, ["valeur"] * len(counts), "quantiles", 3, decimals=0)
    assert [b.label for b in classes.bins][2:] == ["0", "1", "2 – 3", "4 – 30"]
    # Continuous values keep « de … à » / « plus de … à ».
    rates = classify_numeric(VALUES + 0.5, ["valeur"] * 10, "egaux", 3)
    assert [b.label for b in rates.bins][3:] == ["de 1,5 à 4,5", "plus de 4,5 à 7,5", "plus de 7,5 à 10,5"]


@pytest.mark.parametrize("direction", ["hausse_favorable", "baisse_favorable", "neutre"])
def test_darker_always_means_more(direction):
    """Whatever the direction, colours darken as the value grows (luminance strictly decreasing)."""
    classes = classify_numeric(np.append(VALUES, 0.0), ["valeur"] * 11, "quantiles", 5, direction=direction)
    ramp = [classes.colors[CLASS_ZERO]] + [classes.colors[FIRST_NUMERIC_CLASS + i] for i in range(len(classes.breaks))]
    lum = [luminance(c) for c in ramp]
    assert lum == sorted(lum, reverse=True) and len(set(lum)) == len(lum)
    # The highest value is drawn in the darkest colour.
    assert classes.colors[classes.codes[int(np.argmax(VALUES))]] == ramp[-1]


def test_direction_picks_the_hue_not_the_order():
    assert sequential_palette(3, "hausse_favorable") == (YLGNBU[1], YLGNBU[3], YLGNBU[6], YLGNBU[8])
    assert sequential_palette(3, "baisse_favorable") == (YLORRD[1], YLORRD[3], YLORRD[6], YLORRD[8])
    # The lightest shade used is never white: white is « non disponible ».
    for direction in ("hausse_favorable", "baisse_favorable", "neutre"):
        assert luminance(sequential_palette(5, direction)[0]) < luminance(COLOR_ND)


def luminance(color: str) -> float:
    """Relative luminance (sRGB, WCAG) of « #rrggbb »."""
    rgb = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


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
    # Fixed colours for the bonus statuses: four distinct hues, none of them the grey of « non disponible ».
    bonus = classify_category(
        ["applicable", "non"],
        ["valeur", "valeur"],
        ("applicable", "si CTG signée", "à confirmer", "non"),
        "bonus_statut",
    )
    assert len(set(bonus.colors[2:])) == 4
    assert COLOR_ND not in bonus.colors[2:]
