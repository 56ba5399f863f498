"""A tiny synthetic territory with hand-computable indicators.

Six square communes (0.1° side) in département 66, two EPCI:
    lat 42.7-42.8   66004 Delta (B)  66005 Epsilon (B)   .   .   66006 Zeta (B, far east)
    lat 42.6-42.7   66001 Alpha (A)  66002 Beta (A)    66003 Gamma (A)
lon from 2.5, one column = 0.1°. Town halls at the square centres. EPCI B (200070365) is flagged partial
(it spans two départements, only these communes are in the bundle).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geodata.bundle import Bundle

LON0, LAT0, STEP = 2.5, 42.6, 0.1
EPCI_A, EPCI_B = "200000001", "200070365"

#         code     nom        pop    epci    col row
COMMUNES = [
    ("66001", "Alpha", 12000, EPCI_A, 0, 0),
    ("66002", "Beta", 3000, EPCI_A, 1, 0),
    ("66003", "Gamma", 500, EPCI_A, 2, 0),
    ("66004", "Delta", 800, EPCI_B, 0, 1),
    ("66005", "Epsilon", 5000, EPCI_B, 1, 1),
    ("66006", "=Zeta", 200, EPCI_B, 4, 1),
]


def hall(code: str) -> tuple[float, float]:
    """Town hall (square centre) of a fixture commune."""
    row = next(r for r in COMMUNES if r[0] == code)
    return LON0 + STEP * (row[4] + 0.5), LAT0 + STEP * (row[5] + 0.5)


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (km): the hand reference the Lambert-93 distance must match within ~1 %."""
    lon1, lat1, lon2, lat2 = map(np.radians, (*a, *b))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return float(2 * 6371.0 * np.arcsin(np.sqrt(h)))


def points(rows: list[dict]) -> gpd.GeoDataFrame:
    """Point layer in the bundle convention (lon/lat columns + geometry, EPSG:4326)."""
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(
        df, geometry=[Point(x, y) for x, y in zip(df["lon"], df["lat"], strict=False)], crs="EPSG:4326"
    )


def make_communes() -> gpd.GeoDataFrame:
    rows = []
    for code, nom, pop, epci, col, row in COMMUNES:
        x0, y0 = LON0 + STEP * col, LAT0 + STEP * row
        lon, lat = hall(code)
        rows.append(
            {
                "code": code,
                "nom": nom,
                "population": pop,
                "epci_code": epci,
                "epci_nom": "CC Alpha" if epci == EPCI_A else "CC Corbières Salanque Méditerranée",
                "epci_nature": "CC",
                "departement": "66",
                "mairie_lon": lon,
                "mairie_lat": lat,
                "geometry": box(x0, y0, x0 + STEP, y0 + STEP),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def state(values: list) -> list[str]:
    return ["secret" if v == "s" else "valeur" for v in values]


def num(values: list) -> list[float]:
    return [np.nan if v == "s" else float(v) for v in values]


def make_layers() -> dict[str, pd.DataFrame]:
    codes = [c[0] for c in COMMUNES]
    h = {c: hall(c) for c in codes}

    def eaje(i, code, places, psu, kind):
        return {
            "id_structure": i,
            "nom": f"EAJE {i}",
            "code_commune": code,
            "adresse": "",
            "type_accueil": kind,
            "places": places,
            "psu": psu,
            "gestionnaire": "",
            "lon": h[code][0],
            "lat": h[code][1],
            "geolocalisation": "mairie",
        }

    caf_eaje = points(
        [
            eaje("E1", "66001", 40, True, "multi-accueil"),
            eaje("E2", "66001", 20, True, "crèche collective"),
            eaje("E3", "66005", 10, False, "micro-crèche"),
            eaje("E4", "66002", 12, True, "crèche collective"),
        ]
    )
    alsh_cols = ["id_structure", "nom", "code_commune", "places_periscolaire", "places_mercredi", "places_vacances"]
    caf_alsh = gpd.GeoDataFrame(
        pd.DataFrame({c: pd.Series(dtype=object) for c in alsh_cols}).assign(
            lon=pd.Series(dtype=float), lat=pd.Series(dtype=float)
        ),
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
    )
    med = [19000, 24000, "s", 21000, 21500, 20000]
    tp60 = [25.0, 10.0, "s", 18.0, 9.0, 20.0]
    pers = [11000, 2900, "s", 780, 4900, 190]
    filo = pd.DataFrame(
        {
            "code_commune": codes,
            "med": num(med),
            "med_etat": state(med),
            "tp60": num(tp60),
            "tp60_etat": state(tp60),
            "nb_menages": num([5000, 1300, "s", 350, 2200, 90]),
            "nb_menages_etat": state([1, 1, "s", 1, 1, 1]),
            "nb_personnes": num(pers),
            "nb_personnes_etat": state(pers),
        }
    )
    pop_age = pd.DataFrame(
        {
            "code_commune": codes,
            "annee": 2022,
            "pop": [12000.0, 3000.0, 500.0, 800.0, 5000.0, 200.0],
            "pop_0002": [400.0, 100.0, 20.0, 30.0, 200.0, 5.0],
            "pop_0305": [500.0, 120.0, 25.0, 40.0, 250.0, 8.0],
            "pop_0610": [800.0, 200.0, 40.0, 60.0, 400.0, 12.0],
            "pop_1117": [1000.0, 300.0, 50.0, 70.0, 500.0, 15.0],
        }
    )
    for col in ("pop", "pop_0002", "pop_0305", "pop_0610", "pop_1117"):
        pop_age[f"{col}_etat"] = "valeur"
    pf = pd.DataFrame(
        {
            "code_commune": codes[:5],
            "annee": 2024,
            "pf_hab": [900.0, 1200.0, 700.0, 850.0, 950.0],
            "pf_hab_etat": "valeur",
            "population_dgf": [12500.0, 3100.0, 520.0, 830.0, 5100.0],
        }
    )
    qpv2024 = gpd.GeoDataFrame(
        {"code_qp": ["QN06601M"], "nom_qp": ["Quartier Nord"], "code_commune": ["66001"], "perimetre": [False]},
        geometry=gpd.GeoSeries([None], crs="EPSG:4326"),
    )
    qpv2015 = gpd.GeoDataFrame(
        {"code_qp": ["QP066001"], "nom_qp": ["Quartier Nord"], "code_commune": ["66001"], "population": [3000.0]},
        geometry=[box(2.51, 42.61, 2.52, 42.62)],
        crs="EPSG:4326",
    )
    zrr_flag = [False, False, True, True, False, False]
    zrr = pd.DataFrame(
        {
            "code_commune": codes,
            "zrr_simp": ["C" if z else "NC" for z in zrr_flag],
            "zonage_zrr": ["C" if z else "NC" for z in zrr_flag],
            "zrr_classee": zrr_flag,
            "libelle": "",
        }
    )
    frr_class = ["FRR socle", "FRR socle", "FRR+", "Non classée", "Non classée", "FRR socle"]
    frr = pd.DataFrame(
        {"code_commune": codes, "classement": frr_class, "frr_classee": [c != "Non classée" for c in frr_class]}
    )
    tx_rows = [
        ("com", "66001", 50.0, 20.0),
        ("epci", EPCI_A, 55.0, 15.0),
        ("epci", EPCI_B, 65.0, 25.0),
        ("dep", "66", 57.0, 18.0),
        ("nat", "FR", 60.9, 23.5),
    ]
    txcouv = pd.DataFrame(
        {
            "niveau": [r[0] for r in tx_rows],
            "code": [r[1] for r in tx_rows],
            "nom": "",
            "annee": 2023,
            "txcouv": [r[2] for r in tx_rows],
            "txcouv_etat": "valeur",
            "txcouv_eaje": [r[3] for r in tx_rows],
            "txcouv_eaje_etat": "valeur",
        }
    )
    ctg = pd.DataFrame(
        {
            "niveau": ["epci", "commune", "commune"],
            "code": [EPCI_B, "66002", "66001"],
            "nom": ["CC B", "Beta", "Alpha"],
            "statut": ["signée", "signée", "en cours"],
            "date_signature": ["2022-01-01", "2023-01-01", ""],
            "date_fin": ["2026-12-31", "2027-12-31", ""],
            "cofinanceur": ["epci", "commune", "commune"],
        }
    )
    fs = points(
        [
            {
                "id_fs": "FS1",
                "nom": "France services Epsilon",
                "code_commune": "66005",
                "type_fs": "Principal",
                "lon": h["66005"][0],
                "lat": h["66005"][1],
            }
        ]
    )
    dila = points(
        [
            {
                "id": "D1",
                "type": "caf",
                "nom": "CAF permanence",
                "code_commune": "66001",
                "lon": h["66001"][0],
                "lat": h["66001"][1],
            },
            {
                "id": "D2",
                "type": "cpam",
                "nom": "CPAM",
                "code_commune": "66004",
                "lon": h["66004"][0],
                "lat": h["66004"][1],
            },
        ]
    )
    cs = points(
        [
            {
                "id_structure": "C1",
                "nom": "CS",
                "type_structure": "centre social",
                "code_commune": "66001",
                "lon": h["66001"][0],
                "lat": h["66001"][1],
            },
            {
                "id_structure": "C2",
                "nom": "EVS",
                "type_structure": "EVS",
                "code_commune": "66004",
                "lon": h["66004"][0],
                "lat": h["66004"][1],
            },
        ]
    )
    typo = pd.DataFrame(
        {
            "code_commune": ["66003"],
            "densite": ["Rural à habitat dispersé"],
            "ruralite": ["rural"],
            "centralite": ["non centre"],
            "montagne": ["Pyrénées"],
        }
    )
    return {
        "caf_eaje": caf_eaje,
        "caf_alsh": caf_alsh,
        "filosofi2021": filo,
        "pop_age": pop_age,
        "dgcl_pf": pf,
        "qpv2024": qpv2024,
        "qpv2015": qpv2015,
        "zrr2017": zrr,
        "frr2025": frr,
        "caf_txcouv": txcouv,
        "caf_ctg": ctg,
        "france_services": fs,
        "dila_annuaire_2016": dila,
        "caf_centres_sociaux": cs,
        "anct_typologies": typo,
    }


def make_bundle(drop: tuple[str, ...] = (), replace: dict | None = None) -> Bundle:
    """The fixture bundle, optionally without some layers or with replaced ones."""
    communes = make_communes()
    layers = {k: v for k, v in make_layers().items() if k not in drop}
    layers.update(replace or {})
    cols = {"epci_nom": "first", "epci_nature": "first", "population": "sum", "code": "count"}
    epci = communes.dissolve(by="epci_code", aggfunc=cols).reset_index().rename(columns={"code": "n_communes"})
    epci["n_communes_total"] = epci["n_communes"].where(epci["epci_code"] != EPCI_B, 21)
    epci["partiel"] = epci["epci_code"] == EPCI_B
    manifest = {
        "departement": "66",
        "layers": {
            k: {"title": k, "publisher": "test", "vintage": "2024", "licence": "LO 2.0", "synthetic": k == "caf_eaje"}
            for k in layers
        },
    }
    return Bundle.from_frames(communes, epci=epci, layers=layers, manifest=manifest)


@pytest.fixture(scope="session")
def bundle() -> Bundle:
    return make_bundle()


@pytest.fixture(scope="session")
def ind(bundle):
    from indicators.compute import compute_indicators

    return compute_indicators(bundle)
