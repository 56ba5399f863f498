"""A synthetic CAF extract (every template filled) so the app can be built and shown without the Caf's own files.

Why synthetic and not a sample of real data: the Caf extracts are internal. The demo must look plausible (totals near
the CAF 66 headline figures, more places where people live, empty mountain valleys for the under-served logic) while
being plainly fictitious: every name says « fictif », addresses are invented, and the directory carries
``DONNEES_FICTIVES.txt`` so every layer read from it is flagged ``synthetic`` all the way to the screen.

Figures reproduced (CAF 66 orders of magnitude): about 2 260 crèche places in about 90 EAJE (mostly PSU, some
micro-crèches PAJE), Perpignan about 35 % of them, a multi-accueil in the main town of every EPCI; about 170 ALSH;
25 centres sociaux and 15 EVS; the 5 Caf sites of the 2016 annuaire (Perpignan ×3, Céret, Prades) plus a few
permanences; a CTG status for every EPCI (one « non signée ») plus the Ville de Perpignan's own CTG (signed on
27 February 2025, a public fact, domain.md §1.1).

The « demande » extract gives every commune fictitious children counts (« enfants couverts », about 2,7 % of the
population under 3 and 8,3 % aged 3 to 10, with noise) and a fictitious coverage rate for the communes over
10 000 inhabitants (the ones the CNAF publishes) and a few others, so the dashboard shows the per-child indicators,
the CNAF rule and the accessibility fallback side by side. It is drawn from a random stream of its own.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geodata.caf import (
    ACCUEILS,
    ALSH,
    CENTRES_SOCIAUX,
    CTG,
    DEMANDE,
    EAJE,
    SYNTHETIC_MARKER,
    write_csv,
)

DEMO_DATE = date(2025, 6, 30)
"""Extraction date written in the demo files (fixed, so two runs give the same bytes)."""

EAJE_PLACES = 2260
N_EAJE = 90
MAIN_TOWN_SHARE = 0.35
N_ALSH = 170
N_CENTRES_SOCIAUX = 25
N_EVS = 15
NO_COORDS_SHARE = 0.15
"""Share of rows written without coordinates, to exercise the town-hall fallback."""
SHARE_0_2 = 0.027
SHARE_3_10 = 0.083
"""Fictitious children per inhabitant (orders of magnitude of the Insee age pyramid of the département)."""
RATE_MIN_POPULATION = 10_000
N_EXTRA_RATES = 6
"""Communes over 10 000 inhabitants get a fictitious coverage rate, plus a few smaller ones (drawn at random)."""

_EAJE_TYPES = (
    ("multi-accueil", 0.50),
    ("crèche collective", 0.12),
    ("micro-crèche PAJE", 0.22),
    ("micro-crèche PSU", 0.08),
    ("crèche familiale", 0.04),
    ("crèche parentale", 0.04),
)
_CAF_SITES = (
    # (town, type, frequency) — the 2016 annuaire sites, then permanences; names and addresses are invented.
    ("Perpignan", "accueil", "du lundi au vendredi"),
    ("Perpignan", "accueil", "du lundi au vendredi, matin"),
    ("Perpignan", "accueil", "lundi, mercredi et vendredi"),
    ("Céret", "accueil", "mardi et jeudi"),
    ("Prades", "rendez-vous", "sur rendez-vous uniquement"),
    ("Ille-sur-Têt", "permanence", "2e et 4e mardi du mois"),
    ("Saint-Paul-de-Fenouillet", "permanence", "1er jeudi du mois"),
    ("Font-Romeu-Odeillo-Via", "permanence", "3e mercredi du mois"),
    ("Argelès-sur-Mer", "permanence", "chaque lundi matin"),
)


def _allocate(weights: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` in integers proportional to ``weights`` (largest remainder, ties by order)."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=int)
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(int)
    rest = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return np.asarray(counts)


class _Placer:
    """Town-hall point plus a small seeded jitter kept inside the commune polygon; some rows left without."""

    def __init__(self, communes: gpd.GeoDataFrame, rng: np.random.Generator):
        self.by_code = communes.set_index("code")
        self.rng = rng

    def coords(self, code: str) -> tuple[str, str]:
        if self.rng.random() < NO_COORDS_SHARE:
            return "", ""
        row = self.by_code.loc[code]
        lon0, lat0 = float(row["mairie_lon"]), float(row["mairie_lat"])
        if not shapely.contains_xy(row["geometry"], lon0, lat0):
            # A few town halls of the base lie outside their commune (Baho, Millas…): start from inside instead.
            inner = row["geometry"].representative_point()
            lon0, lat0 = inner.x, inner.y
        lon, lat = lon0, lat0
        for _ in range(12):
            radius = self.rng.uniform(100, 700)
            angle = self.rng.uniform(0, 2 * math.pi)
            x = lon0 + radius * math.cos(angle) / (111_320 * math.cos(math.radians(lat0)))
            y = lat0 + radius * math.sin(angle) / 110_540
            if shapely.contains_xy(row["geometry"], x, y):
                lon, lat = x, y
                break
        return f"{lon:.5f}".replace(".", ","), f"{lat:.5f}".replace(".", ",")


def _expand(codes: list[str], counts: np.ndarray) -> list[str]:
    return [code for code, n in zip(codes, counts, strict=True) for _ in range(int(n))]


def _eaje_rows(communes: gpd.GeoDataFrame, rng: np.random.Generator, placer: _Placer) -> list[list[str]]:
    main = communes.iloc[int(np.argmax(communes["population"].to_numpy()))]
    # The main town of every EPCI has a crèche, even under 2 000 inhabitants (a whole intercommunality without one
    # would not be plausible); the other structures go to towns of 2 000 inhabitants or more, by population.
    hubs = set(communes.sort_values("population", ascending=False).drop_duplicates("epci_code")["code"])
    others = communes[
        (communes["code"] != main["code"]) & ((communes["population"] >= 2000) | communes["code"].isin(hubs))
    ]
    n_main = round(N_EAJE * 0.33)
    floor = (others["population"] < 2000).to_numpy().astype(int)
    weights = others["population"].to_numpy(float) * (1 - floor)
    codes = [main["code"]] * n_main + _expand(
        others["code"].tolist(), floor + _allocate(weights, N_EAJE - n_main - int(floor.sum()))
    )
    names, probs = zip(*_EAJE_TYPES, strict=True)
    kinds = rng.choice(np.array(names, dtype=object), size=len(codes), p=np.array(probs))
    # The first structure of each EPCI main town is its intercommunal multi-accueil (PSU), not a micro-crèche.
    for code in hubs - {main["code"]}:
        if code in codes:
            kinds[codes.index(code)] = "multi-accueil"
    micro = np.array([k.startswith("micro") for k in kinds])
    places = np.zeros(len(codes), dtype=int)
    places[micro] = rng.integers(10, 13, size=int(micro.sum()))
    is_main = np.array([c == main["code"] for c in codes])
    # Scale the other structures so Perpignan holds ~35 % and the total is exactly EAJE_PLACES.
    for group, target in ((is_main, round(EAJE_PLACES * MAIN_TOWN_SHARE)), (~is_main, None)):
        if target is None:
            target = EAJE_PLACES - int(places[is_main].sum())
        big = group & ~micro
        left = target - int(places[group & micro].sum())
        places[big] = _allocate(rng.uniform(0.5, 1.5, size=int(big.sum())), left)
    by_code = communes.set_index("code")
    rows = []
    for k, (code, kind, n) in enumerate(zip(codes, kinds, places, strict=True), start=1):
        town = str(by_code.at[code, "nom"])
        label = "Micro-crèche fictive" if kind.startswith("micro") else "Crèche fictive"
        psu = "non" if kind == "micro-crèche PAJE" else "oui"
        manager = (
            f"Société fictive n°{k}"
            if kind == "micro-crèche PAJE"
            else (f"Commune de {town}" if rng.random() < 0.6 else f"Association fictive n°{k}")
        )
        lon, lat = placer.coords(code)
        rows.append(
            [
                f"EAJE-{k:04d}",
                f"{label} n°{k} ({town})",
                code,
                town,
                f"{k} rue fictive",
                kind,
                str(int(n)),
                psu,
                manager,
                lon,
                lat,
                DEMO_DATE.strftime("%d/%m/%Y"),
            ]
        )
    return rows


def _alsh_rows(communes: gpd.GeoDataFrame, rng: np.random.Generator, placer: _Placer) -> list[list[str]]:
    main = communes.iloc[int(np.argmax(communes["population"].to_numpy()))]
    others = communes[(communes["code"] != main["code"]) & (communes["population"] >= 700)]
    n_main = 25
    weights = others["population"].to_numpy(float) ** 0.6
    codes = [main["code"]] * n_main + _expand(others["code"].tolist(), _allocate(weights, N_ALSH - n_main))
    by_code = communes.set_index("code")
    rows = []
    for k, code in enumerate(codes, start=1):
        town = str(by_code.at[code, "nom"])
        size = int(rng.integers(3, 13)) * 8
        peri = "" if rng.random() < 0.15 else str(size + 8 * int(rng.integers(0, 4)))
        mercredi = "" if rng.random() < 0.1 else str(size)
        vacances = "" if rng.random() < 0.1 else str(size + 8 * int(rng.integers(0, 3)))
        if not (peri or mercredi or vacances):
            mercredi = str(size)
        lon, lat = placer.coords(code)
        manager = f"Commune de {town}" if rng.random() < 0.55 else f"Association fictive n°{k}"
        rows.append(
            [
                f"ALSH-{k:04d}",
                f"ALSH fictif n°{k} ({town})",
                code,
                town,
                f"{k} avenue fictive",
                peri,
                mercredi,
                vacances,
                manager,
                lon,
                lat,
                DEMO_DATE.strftime("%d/%m/%Y"),
            ]
        )
    return rows


def _centres_rows(communes: gpd.GeoDataFrame, rng: np.random.Generator, placer: _Placer) -> list[list[str]]:
    main = communes.iloc[int(np.argmax(communes["population"].to_numpy()))]
    big = communes[(communes["code"] != main["code"]) & (communes["population"] >= 5000)]
    n_main = 10
    cs_codes = [main["code"]] * n_main + _expand(
        big["code"].tolist(), _allocate(big["population"].to_numpy(float), N_CENTRES_SOCIAUX - n_main)
    )
    mid = communes[(communes["population"] >= 800) & (communes["population"] < 5000)]
    weights = mid["population"].to_numpy(float)
    picks = rng.choice(len(mid), size=min(N_EVS, len(mid)), replace=False, p=weights / weights.sum())
    evs_codes = [mid["code"].iloc[int(i)] for i in sorted(picks)]
    by_code = communes.set_index("code")
    rows = []
    for k, (code, kind) in enumerate(
        [(c, "centre social") for c in cs_codes] + [(c, "EVS") for c in evs_codes], start=1
    ):
        town = str(by_code.at[code, "nom"])
        label = "Centre social fictif" if kind == "centre social" else "Espace de vie sociale fictif"
        lon, lat = placer.coords(code)
        manager = f"Association fictive n°{k}" if rng.random() < 0.7 else f"Commune de {town}"
        rows.append(
            [
                f"CS-{k:04d}",
                f"{label} n°{k} ({town})",
                kind,
                code,
                town,
                f"{k} place fictive",
                manager,
                lon,
                lat,
                DEMO_DATE.strftime("%d/%m/%Y"),
            ]
        )
    return rows


def _accueils_rows(communes: gpd.GeoDataFrame, placer: _Placer) -> list[list[str]]:
    code_by_name = dict(zip(communes["nom"], communes["code"], strict=True))
    rows = []
    for k, (town, kind, frequency) in enumerate(_CAF_SITES, start=1):
        code = code_by_name.get(town)
        if code is None:
            continue
        label = "Permanence Caf fictive" if kind == "permanence" else "Accueil Caf fictif"
        lon, lat = placer.coords(code)
        rows.append(
            [
                f"ACC-{k:02d}",
                f"{label} n°{k} ({town})",
                kind,
                code,
                town,
                f"{k} boulevard fictif",
                frequency,
                lon,
                lat,
                DEMO_DATE.strftime("%d/%m/%Y"),
            ]
        )
    return rows


def _ctg_rows(communes: gpd.GeoDataFrame, rng: np.random.Generator) -> list[list[str]]:
    epci = communes[communes["epci_code"] != ""].drop_duplicates("epci_code").sort_values("epci_code")
    n = len(epci)
    # One « non signée » in place of an « en cours » (neither draws dates, so the other rows keep their draws).
    pending = n // 4
    statuses = (
        ["signée"] * (n - 2 * pending)
        + ["en cours"] * (pending - 1)
        + ["non signée"] * min(1, pending)
        + ["à renouveler"] * pending
    )
    statuses = [statuses[int(i)] for i in rng.permutation(n)]
    rows = []
    for (_, row), status in zip(epci.iterrows(), statuses, strict=True):
        signed = end = ""
        if status == "signée":
            year = int(rng.integers(2021, 2025))
            signed = date(year, int(rng.integers(1, 13)), int(rng.integers(1, 29))).strftime("%d/%m/%Y")
            end = date(year + 4, 12, 31).strftime("%d/%m/%Y")
        elif status == "à renouveler":
            year = int(rng.integers(2018, 2021))
            signed = date(year, int(rng.integers(1, 13)), int(rng.integers(1, 29))).strftime("%d/%m/%Y")
            end = date(year + 4, 12, 31).strftime("%d/%m/%Y")
        rows.append(
            ["epci", row["epci_code"], row["epci_nom"], status, signed, end, "epci", DEMO_DATE.strftime("%d/%m/%Y")]
        )
    if "66136" in set(communes["code"]):
        # The Ville de Perpignan signed its own CTG 2024-2028 on 27 February 2025 (domain.md §1.1).
        rows.append(["commune", "66136", "Perpignan", "signée", "27/02/2025", "31/12/2028", "commune",
                     DEMO_DATE.strftime("%d/%m/%Y")])  # fmt: skip
    return rows


def _demande_rows(communes: gpd.GeoDataFrame, eaje: list[list[str]], rng: np.random.Generator) -> list[list[str]]:
    """Fictitious children covered per commune and a coverage rate for the largest communes and a few others."""
    pop = communes["population"].to_numpy(float)
    under3 = np.round(pop * SHARE_0_2 * rng.uniform(0.8, 1.2, len(pop))).astype(int)
    older = np.round(pop * SHARE_3_10 * rng.uniform(0.85, 1.15, len(pop))).astype(int)
    places: dict[str, int] = {}
    for row in eaje:
        places[row[2]] = places.get(row[2], 0) + int(row[6])
    big = pop >= RATE_MIN_POPULATION
    small = np.flatnonzero(~big & (pop >= 1500))
    extra = set(rng.choice(small, size=min(N_EXTRA_RATES, len(small)), replace=False).tolist()) if len(small) else set()
    rows = []
    for i, (code, name) in enumerate(zip(communes["code"], communes["nom"], strict=True)):
        rate = ""
        if big[i] or i in extra:
            # EAJE places per 100 children plus a childminder / school component, as in the CNAF global rate.
            collective = 100.0 * places.get(code, 0) / max(int(under3[i]), 1)
            rate = f"{collective + rng.uniform(18, 38):.1f}".replace(".", ",")
        rows.append([code, name, str(under3[i]), str(older[i]), rate, DEMO_DATE.strftime("%d/%m/%Y")])
    return rows


def write_demo_extract(dest: Path, communes: gpd.GeoDataFrame, seed: int = 66) -> list[Path]:
    """Write every CAF template filled with fictitious rows (CSV) plus ``DONNEES_FICTIVES.txt`` into ``dest``.

    Seeded and reproducible: the same ``communes`` and ``seed`` give the same bytes. Returns the written paths.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    communes = communes.sort_values("code").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    placer = _Placer(communes, rng)
    demand_rng = np.random.default_rng(seed + 1)  # its own stream: the other files do not depend on this one
    eaje = _eaje_rows(communes, rng, placer)
    written = [
        write_csv(dest / "eaje_demo.csv", EAJE.headers, eaje),
        write_csv(dest / "alsh_demo.csv", ALSH.headers, _alsh_rows(communes, rng, placer)),
        write_csv(dest / "centres_sociaux_demo.csv", CENTRES_SOCIAUX.headers, _centres_rows(communes, rng, placer)),
        write_csv(dest / "accueils_demo.csv", ACCUEILS.headers, _accueils_rows(communes, placer)),
        write_csv(dest / "ctg_demo.csv", CTG.headers, _ctg_rows(communes, rng)),
        write_csv(dest / "demande_demo.csv", DEMANDE.headers, _demande_rows(communes, eaje, demand_rng)),
    ]
    marker = dest / SYNTHETIC_MARKER
    marker.write_text(
        "DONNÉES FICTIVES\n\n"
        "Les fichiers de ce dossier ont été générés par ctg-carto (geodata.demo, graine "
        f"{seed}) pour la démonstration.\n"
        "Noms, adresses, capacités, statuts de CTG, nombres d'enfants et taux de couverture sont inventés : ils ne "
        "décrivent aucune structure ni aucune commune réelle.\n"
        "Toute couche lue depuis ce dossier est marquée « Données fictives » dans l'application.\n",
        encoding="utf-8",
    )
    written.append(marker)
    return written
