"""The plain-text report of the « N new places » simulation that ``ctg-carto simulate`` prints.

The numbers come from :class:`indicators.simulate.Simulation` unchanged; this module only words them. French number
format: decimal comma, thousands separated by the narrow no-break space U+202F (« 1 234,5 » never wraps), « € » after
a no-break space (:mod:`geodata.numbers`).
"""

from __future__ import annotations

from geodata.numbers import format_euros, format_number
from indicators.bonus import NOTE_A_CONFIRMER, STATUT_APPLICABLE, STATUT_NON, STATUT_SI_CTG
from indicators.simulate import Simulation
from indicators.table import VALUE

LEVEL_NAMES = {"commune": "commune", "epci": "EPCI", "departement": "département", "france": "France"}


def simulation_text(sim: Simulation) -> str:
    """The report, section by section: offer, coverage, under-served level, funding, investment, assumptions."""
    lines = [f"Simulation : {sim.places} place(s) de crèche PSU à {sim.nom} ({sim.commune}), année {sim.annee}"]
    if sim.synthetic:
        lines.append("DONNÉES FICTIVES : résultat de démonstration, à ne pas diffuser comme réel.")
    lines += ["", *_offer_lines(sim), "", *_coverage_lines(sim), "", *_underserved_lines(sim)]
    lines += ["", *_funding_lines(sim), "", *_investment_lines(sim)]
    return "\n".join(lines)


def euro_range(low: float, high: float) -> str:
    """« 1 000 € » when both ends agree, else « 1 000 € à 2 000 € »."""
    return format_euros(low) if low == high else f"{format_euros(low)} à {format_euros(high)}"


def _offer_lines(sim: Simulation) -> list[str]:
    lines = [f"Places en EAJE {sim.unite} (avant → après)"]
    for r in sim.ratios:
        where = f"  {r.nom} ({LEVEL_NAMES[r.niveau]})"
        if r.etat == VALUE:
            lines.append(
                f"{where} : {format_number(r.avant)} → {format_number(r.apres)}"
                f"  ({format_number(r.places_avant, 0)} → {format_number(r.places_apres, 0)} places)"
            )
        else:
            lines.append(f"{where} : non disponible ({r.note})")
    return lines


def _coverage_lines(sim: Simulation) -> list[str]:
    lines = ["Taux de couverture global Caf (avant → après)"]
    if not sim.couverture:
        lines.append("  non disponible (taux de couverture Caf absents du bundle)")
    for c in sim.couverture:
        where = f"  {c.nom} ({LEVEL_NAMES[c.niveau]})"
        if c.etat == VALUE and c.apres == c.apres:
            lines.append(f"{where} : {format_number(c.avant)} % → {format_number(c.apres)} %")
        elif c.etat == VALUE:
            lines.append(f"{where} : {format_number(c.avant)} % → non calculable ({c.note})")
        else:
            lines.append(f"{where} : non disponible ({c.note})")
    return lines


def _underserved_lines(sim: Simulation) -> list[str]:
    lines = [
        f"Sous-dotation : {sim.sous_dotation_avant} → {sim.sous_dotation_apres}",
        f"  avant : {sim.motif_avant}",
        f"  après : {sim.motif_apres}",
    ]
    lines += [f"  aussi : {nom} ({code}) {before} → {after}" for code, nom, before, after in sim.autres_changements]
    return lines


def _funding_lines(sim: Simulation) -> list[str]:
    b, p = sim.bonus, sim.psu
    if b.montant_place == b.montant_place:
        per_place = f"{b.tranche}, {format_euros(b.montant_place)} par place"
    else:
        per_place = f"{b.tranche}, {format_euros(b.montant_min_place)} à {format_euros(b.montant_max_place)} par place"
    if b.statut == STATUT_APPLICABLE:
        bonus = f"{format_euros(b.total)} ({per_place})"
    elif b.statut == STATUT_NON:
        bonus = f"0 € — {b.motif.split(' ; ')[0]}"
    elif b.statut == STATUT_SI_CTG:
        bonus = f"si une CTG est signée, {per_place}, soit {euro_range(b.total_min, b.total_max)}"
    else:
        bonus = f"{NOTE_A_CONFIRMER} — {per_place}, soit {euro_range(b.total_min, b.total_max)}"
    total = sim.fonctionnement_total
    per_year = format_euros(total) if total == total else euro_range(p.total + b.total_min, p.total + b.total_max)
    return [
        "Financement Caf estimé par an",
        f"  Bonus territoire CTG : {bonus}",
        f"    motif : {b.motif}",
        f"  PSU (ordre de grandeur) : {format_euros(p.total)} ({format_euros(p.par_place)} par place, "
        f"{format_number(p.heures, 0)} h × {format_number(p.psu_horaire, 2)} € net par heure)",
        f"  Total fonctionnement : {per_year} par an",
    ]


def _investment_lines(sim: Simulation) -> list[str]:
    i = sim.investissement
    return [
        f"Aide à l'investissement ({i.dispositif}) : {euro_range(i.total_min, i.total_max)} "
        f"({format_euros(i.min_place)} à {format_euros(i.max_place)} par place, dans la limite de "
        f"{format_number(100 * i.part_max, 0)} % de la dépense subventionnable)",
        "",
        "Hypothèses :",
        *[f"  - {a}" for a in sim.assumptions],
    ]
