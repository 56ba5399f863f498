"""Classification of commune values into coloured classes, and the matching legend bins: pure functions.

Classes are encoded as small integers drawn on a *stepped* colourscale (one colour per integer). Why: plotly draws
a continuous scale fast, while one discrete colour per class is very slow (plotly.py#2633). The three special
classes come first and have fixed codes, so a legend never confuses « secret », « non disponible » and a true zero.

Honest colours (what officials read on a projector): on every numeric indicator **darker means more** of what the
legend names, whatever the direction; the hue says which way is good (blues for supply, reds for what the territory
lacks or suffers, purples for neutral context). Categories get distinct colour-blind-safe colours (Okabe & Ito).
« Non disponible » is white with a dark outline, never the light grey of the communes outside the territory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geodata.numbers import MISSING_TEXT, SECRET_TEXT, format_number

METHODS: dict[str, str] = {
    "quantiles": "Quantiles (effectifs égaux)",
    "jenks": "Seuils naturels (Jenks)",
    "egaux": "Intervalles égaux",
    "manuel": "Seuils manuels",
}
"""Classification methods: URL value → French label."""

CLASS_ND = 0
CLASS_SECRET = 1
CLASS_ZERO = 2
FIRST_NUMERIC_CLASS = 3
FIRST_CATEGORY_CLASS = 2

COLOR_ND = "#ffffff"
"""Not available: white, drawn with :data:`ND_OUTLINE` (the communes outside the territory are light grey #f2f2f2)."""
ND_OUTLINE = "#333333"
ND_LINE_WIDTH = 1.8
COLOR_SECRET = "#8c8c8c"
"""Secret statistique: a neutral mid grey, never a colour of a palette (plotly cannot hatch polygons)."""

YLGNBU = ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58")
"""ColorBrewer YlGnBu 9 (colour-blind safe, prints in grey as a lightness ramp)."""

YLORRD = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026")
"""ColorBrewer YlOrRd 9: indicators where more is unfavourable (poverty, distance, gap to France)."""
PURPLES = ("#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d")
"""ColorBrewer Purples 9: neutral context (population, density)."""
SEQUENTIAL = {"hausse_favorable": YLGNBU, "baisse_favorable": YLORRD, "neutre": PURPLES}
"""Palette by the registry's ``direction``: always light → dark with the value (darker = more)."""
FIRST_SHADE = {"hausse_favorable": 1, "baisse_favorable": 1, "neutre": 2}
"""First shade used: the palettes' first steps are near white and would read as « non disponible »."""

OKABE_ITO = ("#D55E00", "#E69F00", "#F0E442", "#56B4E9", "#009E73", "#0072B2", "#CC79A7", "#000000")
"""Okabe & Ito categorical palette (colour-blind safe), ordered from alarming to calm for ordered categories."""

CATEGORY_COLORS: dict[str, dict[str, str]] = {
    "bonus_statut": {"applicable": "#009E73", "si CTG signée": "#56B4E9", "à confirmer": "#E69F00", "non": "#CC79A7"},
    "zrr_classee": {"classée": "#009E73", "non classée": "#F0E442"},
    **{f"eloigne_{kind}": {"oui": "#D55E00", "non": "#56B4E9"} for kind in ("eaje", "alsh", "caf", "france_services")},
}
"""Fixed colours of some categories (Okabe & Ito), so two statuses never share a hue; others follow OKABE_ITO."""

MIN_CLASSES = 2
MAX_CLASSES = 7


@dataclass(frozen=True)
class LegendBin:
    """One legend line: class code, French label, colour."""

    code: int
    label: str
    color: str


@dataclass(frozen=True)
class Classification:
    """Class code per commune (same order as the input) and everything the map and legend need."""

    codes: tuple[int, ...]
    bins: tuple[LegendBin, ...]
    """Every class, special ones first; a legend shows those with a count."""
    colors: tuple[str, ...]
    """Colour of each class code (index = code)."""
    breaks: tuple[float, ...] = ()
    """Upper bound of each numeric class."""

    @property
    def colorscale(self) -> list[list]:
        """Stepped plotly colourscale for z in ``[zmin, zmax]``: each integer code gets its own flat colour."""
        return stepped_colorscale(self.colors)

    @property
    def zmin(self) -> float:
        """Lower end of the colour scale: class 0 sits in the middle of its band."""
        return -0.5

    @property
    def zmax(self) -> float:
        """Upper end of the colour scale: the last class sits in the middle of its band."""
        return len(self.colors) - 0.5

    def counts(self, mask: np.ndarray | None = None) -> dict[int, int]:
        """Communes per class code, restricted to ``mask`` (the current EPCI) when given."""
        codes = np.asarray(self.codes, dtype=int)
        if mask is not None:
            codes = codes[np.asarray(mask, dtype=bool)]
        counted = np.bincount(codes, minlength=len(self.colors))
        return {code: int(counted[code]) for code in range(len(self.colors))}


def stepped_colorscale(colors: Sequence[str]) -> list[list]:
    """Colourscale with hard steps: code ``i`` of ``n`` is drawn in ``colors[i]`` for z in ``[-0.5, n - 0.5]``."""
    n = len(colors)
    scale: list[list] = []
    for i, color in enumerate(colors):
        scale.append([round(i / n, 6), color])
        scale.append([round((i + 1) / n, 6), color])
    return scale


def sequential_palette(n: int, direction: str = "hausse_favorable") -> tuple[str, ...]:
    """``n + 1`` colours of the direction's palette, lightest first: the first for a true zero, the others for the
    classes in increasing order (darker = more, for every direction)."""
    ramp = SEQUENTIAL.get(direction, PURPLES)
    first = FIRST_SHADE.get(direction, 2)
    idx = np.round(np.linspace(first, len(ramp) - 1, n + 1)).astype(int)
    return tuple(ramp[i] for i in idx)


JENKS_EXACT_MAX = 400
"""Above this many values, Jenks runs on an evenly spaced sample of the sorted values."""


def compute_breaks(values: np.ndarray, method: str, k: int, manual: Sequence[float] = ()) -> tuple[float, ...]:
    """Upper bounds of the classes of ``values`` (finite, non-empty), ascending and unique; the last is the maximum.

    Quantiles and Jenks collapse duplicate bounds, so a skewed distribution may give fewer than ``k`` classes.
    """
    vals = np.sort(np.asarray(values, dtype=float))
    vmax = float(vals[-1])
    k = int(min(max(k, MIN_CLASSES), MAX_CLASSES))
    n_unique = len(np.unique(vals))
    if method == "manuel" and manual:
        bounds = sorted({float(b) for b in manual})
        if vmax > bounds[-1]:
            bounds.append(vmax)
        return tuple(bounds)
    if n_unique <= k:
        return tuple(float(v) for v in np.unique(vals))
    if method == "jenks":
        import mapclassify

        # Fisher-Jenks is O(k·n²): exact for a département, on an evenly spaced sample (same min and max) for the
        # national bundle, where 34 867 values would take minutes without numba.
        sample = (
            vals if len(vals) <= JENKS_EXACT_MAX else vals[np.linspace(0, len(vals) - 1, JENKS_EXACT_MAX).astype(int)]
        )
        bounds = [float(b) for b in mapclassify.FisherJenks(sample, k=k).bins]
    elif method == "egaux":
        bounds = [float(b) for b in np.linspace(vals[0], vmax, k + 1)[1:]]
    else:  # quantiles (also the fallback of « manuel » without breaks)
        bounds = [float(np.quantile(vals, q, method="linear")) for q in np.linspace(0, 1, k + 1)[1:]]
    bounds[-1] = vmax
    return tuple(sorted(set(bounds)))


def classify_numeric(
    values: np.ndarray,
    states: Sequence[str],
    method: str = "quantiles",
    k: int = 5,
    manual: Sequence[float] = (),
    direction: str = "hausse_favorable",
    decimals: int = 1,
) -> Classification:
    """Class code per commune: ``CLASS_ND``, ``CLASS_SECRET``, ``CLASS_ZERO`` (a real 0) or ``3 + class index``.

    Breaks are computed on the real non-zero values only: a true zero is its own class « 0 », so a commune with no
    crèche is never mixed with one that has a few places. Whole-number data (counts) get whole-number classes read
    « 1 », « 2 – 3 », « 4 – 30 ».
    """
    vals = np.asarray(values, dtype=float)
    st = np.asarray(states, dtype=object)
    real = (st == "valeur") & np.isfinite(vals)
    zero = real & (vals == 0)
    positive = real & ~zero
    codes = np.full(len(vals), CLASS_ND, dtype=int)
    codes[st == "secret"] = CLASS_SECRET
    codes[zero] = CLASS_ZERO
    breaks: tuple[float, ...] = ()
    whole = bool(positive.any()) and bool(np.all(vals[positive] == np.round(vals[positive])))
    if positive.any():
        breaks = compute_breaks(vals[positive], method, k, manual)
        if whole:
            breaks = tuple(sorted({float(np.floor(b)) for b in breaks if b >= vals[positive].min()}))
        index = np.searchsorted(np.asarray(breaks), vals[positive], side="left")
        codes[positive] = FIRST_NUMERIC_CLASS + np.minimum(index, len(breaks) - 1)
    palette = sequential_palette(max(len(breaks), 1), direction)
    colors = (COLOR_ND, COLOR_SECRET, palette[0], *palette[1 : len(breaks) + 1])
    bins = [
        LegendBin(CLASS_ND, MISSING_TEXT, COLOR_ND),
        LegendBin(CLASS_SECRET, SECRET_TEXT, COLOR_SECRET),
        LegendBin(CLASS_ZERO, "0", palette[0]),
    ]
    lower = float(vals[positive].min()) if positive.any() else 0.0
    for i, upper in enumerate(breaks):
        low = lower if i == 0 else breaks[i - 1]
        bins.append(
            LegendBin(FIRST_NUMERIC_CLASS + i, _label(i, low, upper, whole, decimals), colors[FIRST_NUMERIC_CLASS + i])
        )
    return Classification(codes=tuple(int(c) for c in codes), bins=tuple(bins), colors=colors, breaks=breaks)


def _label(i: int, low: float, upper: float, whole: bool, decimals: int) -> str:
    """Legend text of class ``i`` covering ``(low, upper]`` (``[low, upper]`` for the first class)."""
    if whole:
        first = int(low) if i == 0 else int(low) + 1
        last = int(upper)
        return str(first) if first == last else f"{format_number(first, 0)} – {format_number(last, 0)}"
    if i > 0:
        return f"plus de {format_number(low, decimals)} à {format_number(upper, decimals)}"
    if low == upper:
        return format_number(upper, decimals)
    return f"de {format_number(low, decimals)} à {format_number(upper, decimals)}"


def classify_category(
    values: Sequence[object], states: Sequence[str], categories: Sequence[str], indicator: str = ""
) -> Classification:
    """Class code per commune for an ordered category indicator (e.g. P1, P2, P3 vigilance, couvert); colours from
    :data:`CATEGORY_COLORS` for ``indicator`` when fixed there, else Okabe & Ito in category order."""
    st = np.asarray(states, dtype=object)
    index = {cat: FIRST_CATEGORY_CLASS + i for i, cat in enumerate(categories)}
    codes = []
    for value, state in zip(values, st, strict=True):
        if state == "secret":
            codes.append(CLASS_SECRET)
        elif state == "valeur" and value in index:
            codes.append(index[value])
        else:
            codes.append(CLASS_ND)
    fixed = CATEGORY_COLORS.get(indicator, {})
    palette = tuple(fixed.get(cat, OKABE_ITO[i % len(OKABE_ITO)]) for i, cat in enumerate(categories))
    colors = (COLOR_ND, COLOR_SECRET, *palette)
    bins = [LegendBin(CLASS_ND, MISSING_TEXT, COLOR_ND), LegendBin(CLASS_SECRET, SECRET_TEXT, COLOR_SECRET)]
    bins += [LegendBin(index[cat], cat, colors[index[cat]]) for cat in categories]
    return Classification(codes=tuple(codes), bins=tuple(bins), colors=colors)
