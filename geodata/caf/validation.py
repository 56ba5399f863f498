"""Validation of a filled CAF template: every problem of a file at once (line, column, French message, suggestion).

Cells are parsed by column kind (numbers, dates, yes/no, choices, codes, coordinates), checked against the bounds
declared on each :class:`~geodata.caf.templates.Column`, then by the rules of each template (EAJE, ALSH, CTG,
demande). Text cells are kept exactly as typed: escaping is the app's job.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata import territory
from geodata.caf.templates import (
    CAF_LIMITS,
    CODE_COMMUNE,
    COMMUNE,
    CTG_LEVELS,
    DATE_EXTRACTION,
    LATITUDE,
    LONGITUDE,
    MICRO_CRECHE_MAX_PLACES,
    MICRO_CRECHES,
    WARNING,
    Column,
    Template,
    below,
    format_limit,
)
from geodata.crs import LAMBERT93, WGS84
from geodata.errors import DataError, Problem
from geodata.importers import ImportContext
from geodata.numbers import format_number, parse_number
from geodata.readers import LINE, normalise_name, read_table

# ---------------------------------------------------------------------------------------------------------------
# Small parsers
# ---------------------------------------------------------------------------------------------------------------


def norm_text(text: str) -> str:
    """Comparable form of a value: no accents, lower case, hyphens/apostrophes/underscores as spaces."""
    text = normalise_name(str(text))
    return re.sub(r"\s+", " ", re.sub(r"[-_'’.]", " ", text)).strip()


_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4\u0060"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u2033\u00ab\u00bb"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_LOOK_ALIKES = str.maketrans(
    {
        **dict.fromkeys(_DASHES, "-"),
        **dict.fromkeys(_QUOTES, "'"),
        **dict.fromkeys(_DOUBLE_QUOTES, '"'),
        **dict.fromkeys(_INVISIBLE, ""),
    }
)


def identity_key(text: str) -> str:
    """What makes two identifiers « the same » for an adviser: Unicode look-alikes folded (NFKC: full-width letters,
    non-breaking spaces; every dash to ``-``, every quote to ``'``), invisible characters dropped, spaces collapsed,
    case ignored. ``EAJE‐0001`` (U+2010 hyphen) and ``eaje-0001`` are the key of ``EAJE-0001``."""
    folded = unicodedata.normalize("NFKC", text).translate(_LOOK_ALIKES)
    return re.sub(r"\s+", " ", folded).strip().casefold()


def _clean_code(text: str) -> str:
    """A code with look-alikes folded (full-width digits, invisible characters) and, when it is made of digits, its
    spaces dropped (« ６６ 136 » → ``66136``); anything else is kept as typed, for the error message."""
    folded = unicodedata.normalize("NFKC", text).translate(_LOOK_ALIKES).strip()
    compact = re.sub(r"\s+", "", folded)
    return compact if compact.isdigit() else folded


_YES = {"oui", "o", "1", "vrai", "x", "yes", "true"}
_NO = {"non", "n", "0", "faux", "no", "false"}

_DATE_FR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
DATE_IN_NAME = re.compile(r"(20\d{2})[-_]?(\d{2})[-_]?(\d{2})")


def parse_date(text: str) -> date | None:
    """``31/03/2025``, ``31-03-2025``, ``2025-03-31`` (Excel dates arrive as the latter) → date; else None."""
    text = text.strip()
    m = _DATE_FR.match(text)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _DATE_ISO.match(text)
        if not m:
            return None
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _choice_map(column: Column) -> dict[str, str]:
    mapping = {norm_text(c): c for c in column.choices}
    mapping.update({norm_text(a): c for a, c in column.aliases})
    return mapping


def _looks_lambert93(x: float, y: float) -> bool:
    return 50_000 <= x <= 1_300_000 and 6_000_000 <= y <= 7_200_000


def _lambert_to_wgs84(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    transformer = Transformer.from_crs(LAMBERT93, WGS84, always_xy=True)
    lon, lat = transformer.transform(x, y)
    return float(lon), float(lat)


def _fmt_deg(value: float) -> str:
    return format_number(value, 5)


# ---------------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Checked:
    """Parsed columns of a file (one list per output key, aligned with the rows) and the problems found."""

    values: dict[str, list[Any]]
    lines: list[int]
    problems: list[Problem]
    extraction_dates: list[date]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != WARNING]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]


def read_extract(template: Template, path: Path, warnings: list[Problem]) -> pd.DataFrame:
    """Read the file with every template column renamed to its template spelling; report missing columns at once."""
    df = read_table(path, optional=template.headers, warnings=warnings, limits=CAF_LIMITS)
    file = path.name
    present = set(df.columns)
    unknown = [c for c in df.columns if c != LINE and c not in template.headers]
    problems = []
    for column in template.columns:
        if not column.present or column.name in present:
            continue
        close = difflib.get_close_matches(norm_text(column.name), [norm_text(u) for u in unknown], n=1, cutoff=0.5)
        if close:
            original = next(u for u in unknown if norm_text(u) == close[0])
            hint = f"la colonne « {original} » est-elle celle-ci ? renommez-la « {column.name} »"
        else:
            hint = f"ajoutez la colonne « {column.name} » (en-têtes du modèle : {' ; '.join(template.headers)})"
        problems.append(
            Problem(file, "colonne obligatoire absente ou renommée", row=1, column=column.name, suggestion=hint)
        )
    if problems:
        raise DataError(problems)
    for name in unknown:
        warnings.append(
            Problem(
                file,
                "colonne inconnue, ignorée",
                row=1,
                column=name,
                suggestion="vérifiez l'orthographe si elle devait être lue",
                severity=WARNING,
            )
        )
    return df


class _Validator:
    """Check the cells of one file against its template and the commune base, collecting every problem."""

    def __init__(self, template: Template, df: pd.DataFrame, file: str, ctx: ImportContext):
        self.template = template
        self.df = df
        self.file = file
        self.ctx = ctx
        self.lines: list[int] = [int(x) for x in df[LINE].tolist()]
        self.problems: list[Problem] = []
        self.communes = ctx.communes.set_index("code", drop=False)

    def cells(self, name: str) -> list[str]:
        if name not in self.df.columns:
            return [""] * len(self.df)
        return ["" if v is None else str(v).strip() for v in self.df[name].tolist()]

    def problem(
        self, i: int | None, column: str | None, message: str, suggestion: str = "", warn: bool = False
    ) -> None:
        row = None if i is None else self.lines[i]
        self.problems.append(
            Problem(
                self.file,
                message,
                row=row,
                column=column,
                suggestion=suggestion,
                severity=WARNING if warn else "erreur",
            )
        )

    # -- generic column kinds --------------------------------------------------------------------------------------

    def run(self) -> _Checked:
        values: dict[str, list[Any]] = {}
        for column in self.template.columns:
            cells = self.cells(column.name)
            parsed = self.parse_column(column, cells)
            if column.key:
                values[column.key] = parsed
        dates = self.extraction_dates()
        if self.template.points:
            self.check_points(values)
        special: Callable[[dict[str, list[Any]]], None] | None = {
            "caf_eaje": self.check_eaje,
            "caf_alsh": self.check_alsh,
            "caf_ctg": self.check_ctg,
            "caf_demande": self.check_demande,
        }.get(self.template.id)
        if special:
            special(values)
        return _Checked(values=values, lines=self.lines, problems=self.problems, extraction_dates=dates)

    def parse_column(self, column: Column, cells: list[str]) -> list[Any]:
        out: list[Any] = []
        for i, text in enumerate(cells):
            if text == "":
                if column.mandatory:
                    self.problem(i, column.name, "valeur obligatoire manquante", f"exemple : {column.example}")
                out.append(
                    np.nan
                    if column.kind in {"entier", "nombre", "coordonnee"}
                    else None
                    if column.kind == "oui_non"
                    else ""
                )
                continue
            out.append(self.parse_cell(column, i, text))
        if column.kind == "identifiant":
            self.check_unique(column, out)
        return out

    def parse_cell(self, column: Column, i: int, text: str) -> object:
        kind = column.kind
        if kind == "entier":
            number = parse_number(text)
            if number is None:
                self.problem(
                    i, column.name, f"« {text[:40]} » n'est pas un nombre", "écrivez un nombre entier, par ex. 24"
                )
                return np.nan
            if number < 0 and column.bounds is not None and column.bounds.low == 0:
                what = "nombre de places" if "places" in column.name.lower() else "nombre"
                self.problem(i, column.name, f"{what} négatif ({text})", "écrivez 0 ou un nombre positif")
                return np.nan
            if not self.within_bounds(column, i, number, text[:40]):
                return np.nan
            if not float(number).is_integer():
                self.problem(i, column.name, f"« {text} » n'est pas un nombre entier", "un nombre de places est entier")
                return np.nan
            self.check_plausible(column, i, number, text[:40])
            return float(number)
        if kind == "nombre":
            number = parse_number(text)
            if number is None or number < 0:
                self.problem(i, column.name, f"« {text[:40]} » n'est pas un nombre positif", f"ex. {column.example}")
                return np.nan
            if not self.within_bounds(column, i, number, text[:40]):
                return np.nan
            self.check_plausible(column, i, number, text[:40])
            return float(number)
        if kind == "coordonnee":
            number = parse_number(text)
            if number is None or not math.isfinite(number):
                self.problem(i, column.name, f"« {text[:40]} » n'est pas une coordonnée", "degrés décimaux, ex. 2,8954")
                return np.nan
            return float(number)
        if kind == "oui_non":
            low = norm_text(text)
            if low in _YES:
                return True
            if low in _NO:
                return False
            self.problem(i, column.name, f"« {text[:40]} » : répondez « oui » ou « non »", "oui ou non")
            return None
        if kind == "choix":
            mapping = _choice_map(column)
            canonical = mapping.get(norm_text(text))
            if canonical is not None:
                return canonical
            close = difflib.get_close_matches(norm_text(text), list(mapping), n=1, cutoff=0.6)
            allowed = " ; ".join(column.choices)
            hint = f"vouliez-vous dire « {mapping[close[0]]} » ? " if close else ""
            message = f"valeur « {text[:40]} » inconnue"
            if column.strict:
                self.problem(i, column.name, message, f"{hint}valeurs possibles : {allowed}")
            else:
                self.problem(
                    i, column.name, message + " (gardée telle quelle)", f"{hint}valeurs prévues : {allowed}", True
                )
            return text
        if kind == "code_commune":
            return self.check_commune_code(column, i, text)
        if kind == "date":
            parsed = parse_date(text)
            if parsed is None:
                self.problem(i, column.name, f"« {text[:40]} » n'est pas une date", "écrivez la date en JJ/MM/AAAA")
                return ""
            if not self.within_bounds(column, i, parsed, format_limit(parsed)):
                return ""
            self.check_plausible(column, i, parsed, format_limit(parsed))
            return parsed.isoformat()
        if kind == "code":
            text = _clean_code(text)
            return text.zfill(5) if text.isdigit() and len(text) == 4 else text
        return text  # texte, identifiant: kept exactly as typed (HTML included, never interpreted)

    def within_bounds(self, column: Column, i: int, value: float | date, shown: str) -> bool:
        """False (and a blocking error naming the bound) when ``value`` is impossible for ``column``."""
        bounds = column.bounds
        finite = not isinstance(value, float) or math.isfinite(value)
        if bounds is None or (finite and not below(value, bounds.low) and not below(bounds.high, value)):
            return finite
        self.problem(
            i,
            column.name,
            f"valeur {shown} hors limites : « {column.name} » doit être entre {format_limit(bounds.low)} et "
            f"{format_limit(bounds.high)}",
            "vérifiez la cellule (chiffres en trop, format de cellule, date mal saisie ?)",
        )
        return False

    def check_plausible(self, column: Column, i: int, value: float | date, shown: str) -> None:
        """A warning when ``value`` is possible but unusual for ``column`` (it is kept)."""
        bounds = column.bounds
        if bounds is None:
            return
        why = f" ; {bounds.why}" if bounds.why else ""
        if bounds.plausible_low is not None and below(value, bounds.plausible_low):
            issue = f"inférieure à {format_limit(bounds.plausible_low)}"
        elif bounds.plausible_high is not None and below(bounds.plausible_high, value):
            issue = f"supérieure à {format_limit(bounds.plausible_high)}"
        elif bounds.not_future and isinstance(value, date) and value > date.today():
            issue = "dans le futur"
        else:
            return
        self.problem(
            i, column.name, f"valeur {shown} inhabituelle ({issue})", f"vérifiez-la{why} ; elle est gardée", warn=True
        )

    def check_unique(self, column: Column, values: list[Any]) -> None:
        """Refuse identifiers that are the same once Unicode look-alikes, spaces and case are folded."""
        first: dict[str, int] = {}
        for i, value in enumerate(values):
            if value == "":
                continue
            key = identity_key(value)
            if not key:
                self.problem(i, column.name, "identifiant fait seulement de caractères invisibles", "écrivez-le")
            elif key in first:
                before = values[first[key]]
                same = ""
                if before != value:
                    same = (
                        f" (même identifiant que « {before} » aux tirets, espaces, majuscules ou caractères "
                        "invisibles près)"
                    )
                self.problem(
                    i,
                    column.name,
                    f"identifiant « {value} » en double{same}",
                    f"déjà utilisé ligne {self.lines[first[key]]} ; chaque ligne doit avoir son propre identifiant",
                )
            else:
                first[key] = i

    def check_commune_code(self, column: Column, i: int, text: str) -> str:
        text = _clean_code(text)
        code = text.zfill(5) if text.isdigit() and len(text) == 4 else text
        if code in self.communes.index:
            self.check_commune_name(i, code)
            return code
        if len(code) == 5 and not self.ctx.in_scope(code):
            self.problem(
                i,
                column.name,
                f"la commune « {code} » n'est pas dans le département {self.ctx.departement}",
                "cet extrait ne doit contenir que les structures du département",
            )
            return code
        hint = self.closest_commune(i)
        if not hint and code.endswith("0") and code.isdigit():
            hint = f"« {code} » ressemble à un code postal : indiquez le code INSEE de la commune"
        self.problem(
            i, column.name, f"code commune « {code} » inconnu", hint or "vérifiez le code INSEE (5 caractères)"
        )
        return code

    def closest_commune(self, i: int) -> str:
        """Suggest a code from the optional « Commune » name of the row (the closest known name)."""
        names = self.cells(COMMUNE.name)
        if not names[i]:
            return ""
        by_norm = {norm_text(n): c for c, n in zip(self.ctx.communes["code"], self.ctx.communes["nom"], strict=True)}
        close = difflib.get_close_matches(norm_text(names[i]), list(by_norm), n=1, cutoff=0.6)
        if not close:
            return ""
        code = by_norm[close[0]]
        return f"commune la plus proche par le nom : {self.communes.at[code, 'nom']} ({code})"

    def check_commune_name(self, i: int, code: str) -> None:
        names = self.cells(COMMUNE.name)
        if not names[i] or norm_text(names[i]) == norm_text(self.communes.at[code, "nom"]):
            return
        matches = self.ctx.communes[self.ctx.communes["nom"].map(norm_text) == norm_text(names[i])]
        if len(matches) == 1:
            other = matches.iloc[0]
            self.problem(
                i,
                CODE_COMMUNE.name,
                f"le code {code} est celui de {self.communes.at[code, 'nom']}, pas de {names[i]}",
                f"code de {other['nom']} : {other['code']}",
                warn=True,
            )

    def extraction_dates(self) -> list[date]:
        cells = self.cells(DATE_EXTRACTION.name)
        return sorted({d for d in (parse_date(c) for c in cells if c) if d is not None})

    # -- coordinates -----------------------------------------------------------------------------------------------

    def check_points(self, values: dict[str, list[Any]]) -> None:
        lon, lat = values["lon"], values["lat"]
        lon_name, lat_name = LONGITUDE.name, LATITUDE.name
        raw_lon, raw_lat = self.cells(lon_name), self.cells(lat_name)
        candidates = []
        for i in range(len(lon)):
            x, y = lon[i], lat[i]
            if bool(raw_lon[i]) != bool(raw_lat[i]):
                missing = lat_name if raw_lon[i] else lon_name
                self.problem(
                    i, missing, "coordonnée incomplète", "remplissez longitude et latitude, ou aucune des deux"
                )
                continue
            if np.isnan(x) or np.isnan(y):
                continue
            if _looks_lambert93(x, y):
                glon, glat = _lambert_to_wgs84(x, y)
                self.problem(
                    i,
                    lon_name,
                    "coordonnées en Lambert-93 (mètres) et non en degrés",
                    f"en degrés WGS84 : longitude {_fmt_deg(glon)} ; latitude {_fmt_deg(glat)}",
                )
                continue
            lon_ok, lat_ok = (
                c.bounds is None or not (below(v, c.bounds.low) or below(c.bounds.high, v))
                for c, v in ((LONGITUDE, x), (LATITUDE, y))
            )
            if not (lon_ok and lat_ok):
                bad = LONGITUDE if not lon_ok else LATITUDE
                low, high = (
                    (format_limit(bad.bounds.low), format_limit(bad.bounds.high))
                    if bad.bounds is not None
                    else ("?", "?")
                )
                self.problem(
                    i,
                    bad.name,
                    f"coordonnées impossibles ({raw_lon[i][:20]} ; {raw_lat[i][:20]}) : « {bad.name} » doit être "
                    f"entre {low} et {high}",
                    "degrés décimaux WGS84",
                )
                continue
            candidates.append(i)
        if not candidates:
            return
        idx = np.array(candidates)
        xs = np.array([lon[i] for i in candidates])
        ys = np.array([lat[i] for i in candidates])
        located = territory.points(xs, ys)
        communes = self.ctx.communes
        inside = territory.near_territory(located, communes, territory.CAF_TOLERANCE_M)
        swapped_inside = territory.near_territory(territory.points(ys, xs), communes, territory.CAF_TOLERANCE_M)
        for k, i in enumerate(idx):
            if inside[k]:
                continue
            if swapped_inside[k]:
                hint = "longitude et latitude semblent inversées"
            else:
                hint = "vérifiez les coordonnées, ou laissez-les vides pour placer la structure à la mairie"
            self.problem(
                int(i),
                lon_name,
                f"point ({raw_lon[i]} ; {raw_lat[i]}) hors du département {self.ctx.departement}",
                hint,
            )
        codes = values.get("code_commune", [""] * len(lon))
        checked = [k for k, i in enumerate(idx) if inside[k] and codes[i] in self.communes.index]
        own = gpd.GeoSeries([self.communes.at[codes[idx[k]], "geometry"] for k in checked], crs=communes.crs)
        in_own = territory.near_own_commune(located.iloc[checked], own, territory.COMMUNE_TOLERANCE_M)
        for k, ok in zip(checked, in_own, strict=True):
            i, code = idx[k], codes[idx[k]]
            if not ok:
                self.problem(
                    int(i),
                    lon_name,
                    f"le point n'est pas dans la commune {self.communes.at[code, 'nom']} ({code})",
                    "vérifiez le code commune ou les coordonnées",
                    warn=True,
                )

    # -- template-specific rules -----------------------------------------------------------------------------------

    def check_eaje(self, values: dict[str, list[Any]]) -> None:
        for i, (kind, places) in enumerate(zip(values["type_accueil"], values["places"], strict=True)):
            if kind in MICRO_CRECHES and places > MICRO_CRECHE_MAX_PLACES:
                self.problem(
                    i,
                    "Places",
                    f"micro-crèche de {format_limit(places)} places : une micro-crèche en compte "
                    f"{MICRO_CRECHE_MAX_PLACES} au plus",
                    "vérifiez le nombre de places ou le type d'accueil",
                    warn=True,
                )
        for i, (kind, psu) in enumerate(zip(values["type_accueil"], values["psu"], strict=True)):
            if kind == "micro-crèche PAJE" and psu is True:
                self.problem(
                    i,
                    "PSU",
                    "une micro-crèche PAJE n'est pas financée par la PSU",
                    "mettez « non », ou le type « micro-crèche PSU »",
                    warn=True,
                )

    def check_alsh(self, values: dict[str, list[Any]]) -> None:
        keys = ("places_periscolaire", "places_mercredi", "places_vacances")
        raw = [self.cells(self.template.column(k).name) for k in keys]
        for i in range(len(self.lines)):
            if not any(col[i] for col in raw):
                self.problem(i, None, "aucun nombre de places renseigné", "indiquez au moins une capacité", warn=True)

    def check_demande(self, values: dict[str, list[Any]]) -> None:
        """One row per commune: two rows would make the demand of a commune ambiguous."""
        first: dict[str, int] = {}
        for i, code in enumerate(values["code_commune"]):
            if code in first:
                self.problem(
                    i, CODE_COMMUNE.name, f"commune {code} en double", f"déjà décrite ligne {self.lines[first[code]]}"
                )
            elif code:
                first[code] = i

    def check_ctg(self, values: dict[str, list[Any]]) -> None:
        epci = self.ctx.communes.drop_duplicates("epci_code").set_index("epci_code")["epci_nom"]
        epci = epci[epci.index != ""]
        code_name = self.template.column("code").name
        noms = values["nom"]
        seen: dict[tuple[str, str], int] = {}
        for i, (level, code) in enumerate(zip(values["niveau"], values["code"], strict=True)):
            if level == "epci" and code:
                if code in epci.index:
                    noms[i] = noms[i] or str(epci[code])
                else:
                    close = difflib.get_close_matches(norm_text(noms[i]), [norm_text(n) for n in epci], n=1, cutoff=0.5)
                    hint = "n° SIREN à 9 chiffres de l'EPCI (banatic)"
                    if close:
                        match = next(c for c, n in epci.items() if norm_text(n) == close[0])
                        hint = f"EPCI le plus proche par le nom : {epci[match]} ({match})"
                    self.problem(i, code_name, f"EPCI « {code} » inconnu dans le département", hint)
            elif level == "commune" and code:
                if code in self.communes.index:
                    noms[i] = noms[i] or str(self.communes.at[code, "nom"])
                elif len(code) == 5 and not self.ctx.in_scope(code):
                    self.problem(
                        i, code_name, f"la commune « {code} » n'est pas dans le département {self.ctx.departement}"
                    )
                else:
                    self.problem(i, code_name, f"code commune « {code} » inconnu", "code INSEE à 5 caractères")
            key = (level, code)
            if code and key in seen:
                self.problem(i, code_name, f"{level} {code} en double", f"déjà décrit ligne {self.lines[seen[key]]}")
            elif code:
                seen[key] = i
        for i in range(len(self.lines)):
            start, end = values["date_signature"][i], values["date_fin"][i]
            if start and end and end < start:
                self.problem(
                    i, "Date de fin", "date de fin antérieure à la date de signature", "vérifiez les deux dates"
                )
            if values["statut"][i] in {"signée", "à renouveler"} and not start:
                self.problem(
                    i, "Date de signature", "convention signée sans date de signature", "ajoutez-la", warn=True
                )
            if not values["cofinanceur"][i]:
                values["cofinanceur"][i] = values["niveau"][i] if values["niveau"][i] in CTG_LEVELS else ""
