"""Every threshold and reference of the diagnostic, read from ``parametres.toml`` and ``bareme_bonus_territoire.toml``.

Why a frozen object stored with each result: a map shown in a partnership meeting must be reproducible, so the
parameters travel with the indicators (and into the CSV sidecar) instead of living as constants in the code.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PARAMS_FILE = Path(__file__).with_name("parametres.toml")
BAREME_FILE = Path(__file__).with_name("bareme_bonus_territoire.toml")

ZONAGES_RURAUX = ("zrr2017", "frr2025", "les_deux")
CONDITIONS = ("zone_prioritaire", "pf_et_nv_bas", "pf_ou_nv_bas", "autres")


@dataclass(frozen=True)
class Tranche:
    """One tranche of the bonus territoire barème."""

    id: str
    libelle: str
    condition: str
    montant: float
    a_confirmer: bool


@dataclass(frozen=True)
class Bareme:
    """Versioned barème of the bonus territoire CTG EAJE (new places, € per place per year)."""

    annee: int
    source: str
    montant_min: float
    montant_max: float
    tranches: tuple[Tranche, ...]

    def tranche(self, condition: str) -> Tranche:
        """The tranche applying under ``condition`` (one of :data:`CONDITIONS`)."""
        for t in self.tranches:
            if t.condition == condition:
                return t
        raise KeyError(condition)


@dataclass(frozen=True)
class Params:
    """Thresholds and references of the diagnostic (see ``parametres.toml`` for the sources of each value)."""

    version: str
    seuil_eaje_km: float
    seuil_alsh_km: float
    seuil_centre_social_km: float
    seuil_caf_km: float
    seuil_france_services_km: float
    zonage_rural: str
    frr_classes_prioritaires: tuple[str, ...]
    tx_global_france: float
    tx_eaje_france: float
    tx_france_annee: int
    tx_france_source: str
    seuil_couverture: float
    pf_reference_eur_hab: float
    pf_reference_source: str
    nv_reference_eur: float
    nv_reference_source: str
    ctg_statuts_signes: tuple[str, ...]
    ctg_statuts_non: tuple[str, ...]
    repli_actif: bool
    ratio_deficit: float
    ratio_vigilance: float
    facteur_detour: float
    paliers_km: tuple[tuple[float, float], ...]
    """Distance-decay steps of the accessibility (upper bound in km of estimated road distance, weight)."""
    cibles_niveaux: tuple[str, ...]
    cibles_statuts_bonus: tuple[str, ...]
    cibles_ratio_acces_max: float
    bareme: Bareme

    @property
    def d0_km(self) -> float:
        """Catchment radius of the accessibility (km of estimated road distance): the last step's bound."""
        return self.paliers_km[-1][0]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (written beside exports)."""
        data: dict[str, Any] = asdict(self)
        return data


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def load_bareme(path: Path | None = None) -> Bareme:
    """Read the barème TOML; refuse a barème without the four conditions (a silent gap would mislead)."""
    path = Path(path or BAREME_FILE)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    tranches = tuple(
        Tranche(
            id=str(t["id"]),
            libelle=str(t["libelle"]),
            condition=str(t["condition"]),
            montant=float(t["montant"]),
            a_confirmer=bool(t.get("a_confirmer", True)),
        )
        for t in raw.get("tranches", [])
    )
    found = {t.condition for t in tranches}
    _check(
        found == set(CONDITIONS),
        f"{path.name} : conditions de tranches attendues {', '.join(CONDITIONS)}, trouvées {', '.join(sorted(found))}",
    )
    return Bareme(
        annee=int(raw["annee"]),
        source=str(raw["source"]),
        montant_min=float(raw["montant_min"]),
        montant_max=float(raw["montant_max"]),
        tranches=tranches,
    )


def load_params(path: Path | None = None, bareme: Path | None = None) -> Params:
    """Load the parameters (default: the files shipped beside this module).

    Raises:
        ValueError: unknown ``zonage_rural`` or incomplete barème, named in French.
    """
    path = Path(path or PARAMS_FILE)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    dist, zon, ref = raw["distances"], raw["zonages"], raw["references"]
    zonage = str(zon.get("zonage_rural", "zrr2017"))
    _check(
        zonage in ZONAGES_RURAUX,
        f"{path.name} : zonage_rural « {zonage} » inconnu (valeurs possibles : {', '.join(ZONAGES_RURAUX)})",
    )
    sous = raw.get("sous_dotation", {})
    acc = raw.get("accessibilite", {})
    steps = tuple((float(b), float(w)) for b, w in acc.get("paliers_km", [[5.0, 1.0], [10.0, 0.6], [15.0, 0.2]]))
    bounds = [b for b, _ in steps]
    _check(
        bool(steps) and bounds == sorted(set(bounds)) and bounds[0] > 0 and all(0 < w <= 1 for _, w in steps),
        f"{path.name} : accessibilite.paliers_km doit lister des bornes croissantes > 0 km et des poids dans ]0 ; 1]",
    )
    detour = float(acc.get("facteur_detour", 1.3))
    _check(detour >= 1.0, f"{path.name} : accessibilite.facteur_detour doit valoir au moins 1 (trouvé {detour})")
    cibles = raw.get("cibles", {})
    return Params(
        version=str(raw.get("version", "")),
        seuil_eaje_km=float(dist["seuil_eaje_km"]),
        seuil_alsh_km=float(dist["seuil_alsh_km"]),
        seuil_centre_social_km=float(dist["seuil_centre_social_km"]),
        seuil_caf_km=float(dist["seuil_caf_km"]),
        seuil_france_services_km=float(dist["seuil_france_services_km"]),
        zonage_rural=zonage,
        frr_classes_prioritaires=tuple(zon.get("frr_classes_prioritaires", ())),
        tx_global_france=float(ref["tx_global_france"]),
        tx_eaje_france=float(ref["tx_eaje_france"]),
        tx_france_annee=int(ref["tx_france_annee"]),
        tx_france_source=str(ref["tx_france_source"]),
        seuil_couverture=float(ref["seuil_couverture"]),
        pf_reference_eur_hab=float(ref["pf_reference_eur_hab"]),
        pf_reference_source=str(ref["pf_reference_source"]),
        nv_reference_eur=float(ref["nv_reference_eur"]),
        nv_reference_source=str(ref["nv_reference_source"]),
        ctg_statuts_signes=tuple(raw.get("ctg", {}).get("statuts_signes", ("signée",))),
        ctg_statuts_non=tuple(raw.get("ctg", {}).get("statuts_non", ("non signée",))),
        repli_actif=bool(sous.get("repli_actif", True)),
        ratio_deficit=float(sous.get("ratio_deficit", 0.5)),
        ratio_vigilance=float(sous.get("ratio_vigilance", 1.0)),
        facteur_detour=detour,
        paliers_km=steps,
        cibles_niveaux=tuple(cibles.get("niveaux", ("P1", "P2"))),
        cibles_statuts_bonus=tuple(cibles.get("statuts_bonus", ("applicable", "si CTG signée", "à confirmer"))),
        cibles_ratio_acces_max=float(cibles.get("ratio_acces_max", 1.0)),
        bareme=load_bareme(bareme),
    )
