"""One test per kind of bad input: each tiny file is written in tmp_path in the publisher's format, and the error
must name the file, the line and the column (where there is one) so an adviser can fix the file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from geodata.crs import LAMBERT93
from geodata.errors import DataError
from geodata.importers.chiffres_cles import import_chiffres_cles
from geodata.importers.dila import import_dila_annuaire
from geodata.importers.filosofi import import_filosofi
from geodata.importers.france_services import import_france_services
from geodata.importers.qpv import import_qpv2015, import_qpv2024_perimetres
from geodata.importers.zonages import import_frr2025, import_zrr2017
from geodata.numbers import STATE_SECRET

FS_HEADER = (
    "id_fs,insee_dep,lib_fs,adresse,complement_adresse,insee_com,code_postal,lib_com,latitude,longitude,mail,"
    "telephone,h_lundi,h_mardi,h_mercredi,h_jeudi,h_vendredi,h_samedi,prise_rdv,commentaire,type_fs,format_fs,"
    "groupe_fs,labellisation_fs"
)
ILLE = (
    "400,66,France services d'Ille-sur-Têt,3 Rue de bourdeville,,66088,66130,Ille-sur-Têt,42.66962,2.623884,"
    "fs@example.fr,04 68 38 96 55,08:45 - 12:45,,,,,,Non,,Principal,Fixe,,"
)
CERET = (
    "401,66,France services de Céret,1 place Pablo Picasso,,66049,66400,Céret,42.4856,2.7486,"
    "fs2@example.fr,04 68 00 00 00,09:00 - 12:00,,,,,,Non,,Antenne,Fixe_antenne(s),,"
)
FRR_HEADER = "Code_insee;Departement;Commune;Classement FRR et FRR+ au 10 juillet 2025;"
FILO_HEADER = "CODGEO;NBMENFISC21;NBPERSMENFISC21;MED21;PIMP21;TP6021"
CHIFFRES_HEADER = "annee,indicateur,valeur,unite,precision,editeur_source,source_url"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def only_problem(exc: pytest.ExceptionInfo[DataError]):
    assert len(exc.value.problems) == 1, [str(p) for p in exc.value.problems]
    return exc.value.problems[0]


def square(x: float, y: float, h: float = 0.003) -> dict:
    ring = [[x - h, y - h], [x + h, y - h], [x + h, y + h], [x - h, y + h], [x - h, y - h]]
    return {"type": "Polygon", "coordinates": [ring]}


def qpv2015_geojson(tmp_path: Path, geometries: list[dict], crs: str | None = None) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"code_qp": f"QP06600{i + 1}", "nom_qp": f"Quartier {i + 1}", "code_commune": "66136"},
            "geometry": geom,
        }
        for i, geom in enumerate(geometries)
    ]
    obj: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        obj["crs"] = {"type": "name", "properties": {"name": crs}}
    path = tmp_path / "qpv2015_contours_66.geojson"
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


# --- encoding, separator, decimal comma, BOM -------------------------------------------------------------------


def test_cp1252_csv_is_read_with_a_warning(tmp_path, import_ctx_66):
    path = write(tmp_path, "liste-fs-20240801.csv", f"{FS_HEADER}\n{ILLE}\n", encoding="cp1252")
    result = import_france_services(path, import_ctx_66)
    assert result.table["commune"].iloc[0] == "Ille-sur-Têt"
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert warning.severity == "avertissement"
    assert warning.file == "liste-fs-20240801.csv"
    assert "Windows-1252" in warning.message


def test_cp1252_geojson_is_refused(tmp_path, import_ctx_66):
    text = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code_qp": "QP066001", "nom_qp": "Centre Ville", "code_commune": "66065"},
                    "geometry": square(2.971, 42.6006),
                }
            ],
        },
        ensure_ascii=False,
    ).replace("Centre Ville", "Réal")
    path = write(tmp_path, "qpv2015_contours_66.geojson", text, encoding="cp1252")
    with pytest.raises(DataError) as exc:
        import_qpv2015(path, import_ctx_66)
    problem = only_problem(exc)
    assert problem.file == "qpv2015_contours_66.geojson"
    assert "UTF-8" in problem.message
    assert problem.row == 1


def test_semicolon_instead_of_comma_is_detected(tmp_path, import_ctx_66):
    text = "\n".join(line.replace(",", ";") for line in (FS_HEADER, ILLE, CERET)) + "\n"
    gdf = import_france_services(write(tmp_path, "liste-fs.csv", text), import_ctx_66).table
    assert gdf["code_commune"].tolist() == ["66088", "66049"]
    assert gdf["lat"].tolist() == pytest.approx([42.66962, 42.4856])


def test_decimal_commas(tmp_path, import_ctx_66):
    # Semicolon-separated export with French decimal commas in the coordinates and the incomes.
    text = "\n".join(line.replace(",", ";") for line in (FS_HEADER, ILLE)) + "\n"
    text = text.replace("42.66962", "42,66962").replace("2.623884", "2,623884")
    gdf = import_france_services(write(tmp_path, "liste-fs.csv", text), import_ctx_66).table
    assert (gdf["lon"].iloc[0], gdf["lat"].iloc[0]) == pytest.approx((2.623884, 42.66962))
    filo = write(tmp_path, "filo.csv", f"{FILO_HEADER}\n66136;55482;108672;17380,5;49,0;34,0\n")
    table = import_filosofi(filo, import_ctx_66).table
    assert table["med"].iloc[0] == 17380.5
    assert table["tp60"].iloc[0] == 34.0


def test_bom_is_ignored(tmp_path, import_ctx_66):
    path = write(tmp_path, "frr.csv", "\ufeff" + f"{FRR_HEADER}\n66001;66;L'Albère;Non classée;\n")
    table = import_frr2025(path, import_ctx_66).table
    assert table["code_commune"].tolist() == ["66001"]


# --- columns -----------------------------------------------------------------------------------------------------


def test_missing_column(tmp_path, import_ctx_66):
    header = FS_HEADER.replace(",longitude", "")
    row = ILLE.replace(",2.623884", "")
    with pytest.raises(DataError) as exc:
        import_france_services(write(tmp_path, "liste-fs.csv", f"{header}\n{row}\n"), import_ctx_66)
    problem = only_problem(exc)
    assert (problem.file, problem.row, problem.column) == ("liste-fs.csv", 1, "longitude")
    assert "absente" in problem.message


def test_missing_frr_class_column(tmp_path, import_ctx_66):
    path = write(tmp_path, "frr.csv", "Code_insee;Departement;Commune\n66001;66;L'Albère\n")
    with pytest.raises(DataError) as exc:
        import_frr2025(path, import_ctx_66)
    problem = only_problem(exc)
    assert problem.file == "frr.csv"
    assert problem.row == 1
    assert problem.column.startswith("Classement FRR")


def test_renamed_column_is_refused_with_the_columns_found(tmp_path, import_ctx_66):
    path = write(tmp_path, "zrr.csv", "CODE_GEO,LIBGEO,ZRR_SIMP,ZONAGE_ZRR\n66001,L'Albère,NC - Non classée,NC\n")
    with pytest.raises(DataError) as exc:
        import_zrr2017(path, import_ctx_66)
    problem = only_problem(exc)
    assert (problem.file, problem.row, problem.column) == ("zrr.csv", 1, "CODGEO")
    assert "CODE_GEO" in problem.suggestion


def test_column_case_and_spacing_are_tolerated(tmp_path, import_ctx_66):
    path = write(tmp_path, "zrr.csv", "codgeo, libgeo ,Zrr_Simp,zonage_zrr\n66001,L'Albère,NC - Non classée,NC\n")
    assert import_zrr2017(path, import_ctx_66).table["zrr_simp"].tolist() == ["NC"]


def test_other_year_filosofi_columns(tmp_path, import_ctx_66):
    path = write(
        tmp_path, "filo.csv", "CODGEO;NBMENFISC20;NBPERSMENFISC20;MED20;TP6020\n66136;55000;108000;17000;33,5\n"
    )
    result = import_filosofi(path, import_ctx_66)
    assert result.table["med"].iloc[0] == 17000
    assert result.notes[0] == "Filosofi 2020 (colonne MED20)"


# --- codes -------------------------------------------------------------------------------------------------------


def test_duplicated_commune_code(tmp_path, import_ctx_66):
    text = f"{FRR_HEADER}\n66001;66;L'Albère;Non classée;\n66002;66;Alénya;Non classée;\n66001;66;L'Albère;FRR socle;\n"
    with pytest.raises(DataError) as exc:
        import_frr2025(write(tmp_path, "frr.csv", text), import_ctx_66)
    problem = only_problem(exc)
    assert (problem.file, problem.row, problem.column) == ("frr.csv", 4, "Code_insee")
    assert "66001" in problem.message
    assert "double" in problem.message


def test_code_of_another_departement_under_an_explicit_dep_column(tmp_path, import_ctx_66):
    text = f"{FRR_HEADER}\n66001;66;L'Albère;Non classée;\n11069;66;Carcassonne;FRR socle;\n"
    with pytest.raises(DataError) as exc:
        import_frr2025(write(tmp_path, "frr.csv", text), import_ctx_66)
    problem = only_problem(exc)
    assert (problem.file, problem.row, problem.column) == ("frr.csv", 3, "Code_insee")
    assert "11069" in problem.message
    assert "Departement" in problem.message


def test_rows_of_other_departements_are_cut_away(tmp_path, import_ctx_66):
    text = f"{FRR_HEADER}\n11069;11;Carcassonne;FRR socle;\n66001;66;L'Albère;Non classée;\n"
    assert import_frr2025(write(tmp_path, "frr.csv", text), import_ctx_66).table["code_commune"].tolist() == ["66001"]


def test_code_absent_from_the_current_cog(tmp_path, import_ctx_66):
    text = (
        "CODGEO,LIBGEO,ZRR_SIMP,ZONAGE_ZRR\n66001,L'Albère,NC - Non classée,NC\n66999,Ancienne,C - Classée en ZRR,C\n"
    )
    with pytest.raises(DataError) as exc:
        import_zrr2017(write(tmp_path, "zrr.csv", text), import_ctx_66)
    problem = only_problem(exc)
    assert (problem.file, problem.row, problem.column) == ("zrr.csv", 3, "CODGEO")
    assert "66999" in problem.message
    assert "COG" in problem.suggestion


def test_unknown_class_label(tmp_path, import_ctx_66):
    text = f"{FRR_HEADER}\n66001;66;L'Albère;FRR intermédiaire;\n"
    with pytest.raises(DataError) as exc:
        import_frr2025(write(tmp_path, "frr.csv", text), import_ctx_66)
    problem = only_problem(exc)
    assert (problem.row, problem.column) == (2, "Classement FRR et FRR+ au 10 juillet 2025")
    assert "FRR intermédiaire" in problem.message


# --- values ------------------------------------------------------------------------------------------------------


def test_secret_in_a_column_that_never_has_secrets(tmp_path, import_ctx_66):
    text = (
        f"{CHIFFRES_HEADER}\n2024,foyers_allocataires,112575,nombre,exact,Caf 66,https://example.org\n"
        "2024,allocataires_rsa,s,nombre,,Caf 66,\n"
    )
    with pytest.raises(DataError) as exc:
        import_chiffres_cles(write(tmp_path, "chiffres.csv", text), import_ctx_66)
    problem = only_problem(exc)
    assert (problem.file, problem.row, problem.column) == ("chiffres.csv", 3, "valeur")
    assert "secrète" in problem.suggestion


def test_secret_income_stays_secret_not_zero(tmp_path, import_ctx_66):
    text = f"{FILO_HEADER}\n66001;s;s;s;s;s\n66136;55482;108672;17380;49,0;34,0\n"
    table = import_filosofi(write(tmp_path, "filo.csv", text), import_ctx_66).table
    assert math.isnan(table["med"].iloc[0])
    assert table["med_etat"].iloc[0] == STATE_SECRET


@pytest.mark.parametrize(
    ("cell", "words"),
    [("-5", "inférieure au minimum"), ("abc", "n'est pas un nombre"), ("17 380 €", "n'est pas un nombre")],
)
def test_negative_or_non_numeric_value(tmp_path, import_ctx_66, cell, words):
    text = f"{FILO_HEADER}\n66001;s;s;s;s;s\n66136;55482;108672;{cell};49,0;34,0\n"
    with pytest.raises(DataError) as exc:
        import_filosofi(write(tmp_path, "filo.csv", text), import_ctx_66)
    problem = only_problem(exc)
    assert (problem.file, problem.row, problem.column) == ("filo.csv", 3, "MED21")
    assert words in problem.message


def test_negative_key_figure(tmp_path, import_ctx_66):
    text = f"{CHIFFRES_HEADER}\n2024,foyers_allocataires,-3,nombre,,Caf 66,\n"
    with pytest.raises(DataError) as exc:
        import_chiffres_cles(write(tmp_path, "chiffres.csv", text), import_ctx_66)
    assert (only_problem(exc).row, only_problem(exc).column) == (2, "valeur")


# --- broken files ------------------------------------------------------------------------------------------------


def test_empty_file(tmp_path, import_ctx_66):
    with pytest.raises(DataError) as exc:
        import_frr2025(write(tmp_path, "frr.csv", ""), import_ctx_66)
    problem = only_problem(exc)
    assert problem.file == "frr.csv"
    assert "vide" in problem.message


def test_header_only(tmp_path, import_ctx_66):
    with pytest.raises(DataError) as exc:
        import_frr2025(write(tmp_path, "frr.csv", FRR_HEADER + "\n"), import_ctx_66)
    assert "aucune ligne" in only_problem(exc).message


def test_html_error_page_saved_as_csv(tmp_path, import_ctx_66):
    html = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>Erreur</body></html>\n"
    with pytest.raises(DataError) as exc:
        import_filosofi(write(tmp_path, "cc_filosofi_2021_COM.csv", html), import_ctx_66)
    problem = only_problem(exc)
    assert problem.file == "cc_filosofi_2021_COM.csv"
    assert "HTML" in problem.message


def test_truncated_csv(tmp_path, import_ctx_66):
    text = f"{FS_HEADER}\n{ILLE}\n{CERET[:60]}"
    with pytest.raises(DataError) as exc:
        import_france_services(write(tmp_path, "liste-fs.csv", text), import_ctx_66)
    problem = only_problem(exc)
    assert (problem.file, problem.row) == ("liste-fs.csv", 3)
    assert "tronquée" in problem.suggestion


def test_truncated_geojson(tmp_path, import_ctx_66):
    full = QPV_FIXTURE.read_text(encoding="utf-8")
    path = write(tmp_path, QPV_FIXTURE.name, full[: len(full) // 2])
    with pytest.raises(DataError) as exc:
        import_qpv2024_perimetres(path, import_ctx_66)
    problem = only_problem(exc)
    assert problem.file == QPV_FIXTURE.name
    assert "tronqué" in problem.message
    assert problem.row is not None
    assert problem.row > 1


QPV_FIXTURE = (
    Path(__file__).resolve().parents[1] / "data" / "importers" / "QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"
)


# --- geometry and coordinates ------------------------------------------------------------------------------------


def test_invalid_polygon_is_repaired_and_counted(tmp_path, import_ctx_66):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[2.88, 42.69], [2.89, 42.70], [2.89, 42.69], [2.88, 42.70], [2.88, 42.69]]],
    }
    path = qpv2015_geojson(tmp_path, [square(2.895, 42.70), bowtie])
    result = import_qpv2015(path, import_ctx_66)
    assert result.table.geometry.is_valid.all()
    assert result.table.geometry.to_crs(LAMBERT93).area.gt(0).all()  # areas in metres, not square degrees
    assert "1 géométrie(s) invalide(s) corrigée(s) (make_valid)" in result.notes


def test_unrepairable_polygon_is_refused(tmp_path, import_ctx_66):
    flat = {"type": "Polygon", "coordinates": [[[2.88, 42.69], [2.89, 42.69], [2.90, 42.69], [2.88, 42.69]]]}
    path = qpv2015_geojson(tmp_path, [square(2.895, 42.70), flat])
    with pytest.raises(DataError) as exc:
        import_qpv2015(path, import_ctx_66)
    problem = only_problem(exc)
    assert problem.file == "qpv2015_contours_66.geojson"
    assert problem.message == "entité n° 2 : géométrie invalide et irréparable (aucune surface)"


def test_malformed_coordinates_are_refused(tmp_path, import_ctx_66):
    malformed = {"type": "Polygon", "coordinates": [[[2.88], [2.89, 42.70]]]}
    with pytest.raises(DataError) as exc:
        import_qpv2015(qpv2015_geojson(tmp_path, [square(2.895, 42.70), malformed]), import_ctx_66)
    assert "entité n° 2" in only_problem(exc).message
    assert "illisible" in only_problem(exc).message


def test_lambert93_coordinates_in_a_wgs84_csv(tmp_path, import_ctx_66):
    row = ILLE.replace("42.66962,2.623884", "6178342.5,665012.3")
    with pytest.raises(DataError) as exc:
        import_france_services(write(tmp_path, "liste-fs.csv", f"{FS_HEADER}\n{row}\n"), import_ctx_66)
    problems = exc.value.problems
    assert {(p.row, p.column) for p in problems} == {(2, "longitude"), (2, "latitude")}
    assert all("EPSG:2154" in p.suggestion and p.file == "liste-fs.csv" for p in problems)


def test_metric_coordinates_in_a_geojson_declaring_wgs84(tmp_path, import_ctx_66):
    path = qpv2015_geojson(tmp_path, [square(692000, 6177000, 300)], crs="urn:ogc:def:crs:OGC:1.3:CRS84")
    with pytest.raises(DataError) as exc:
        import_qpv2015(path, import_ctx_66)
    problem = only_problem(exc)
    assert "déclare WGS84" in problem.message
    assert "EPSG:2154" in problem.suggestion


def test_degrees_in_a_geojson_declaring_lambert93(tmp_path, import_ctx_66):
    path = qpv2015_geojson(tmp_path, [square(2.895, 42.70)], crs="urn:ogc:def:crs:EPSG::2154")
    with pytest.raises(DataError) as exc:
        import_qpv2015(path, import_ctx_66)
    problem = only_problem(exc)
    assert problem.file == "qpv2015_contours_66.geojson"
    assert "Lambert-93" in problem.message
    assert "degrés" in problem.message


def test_consistent_lambert93_geojson_is_reprojected(tmp_path, import_ctx_66):
    # Perpignan town centre is about (692 000, 6 177 000) in Lambert-93.
    path = qpv2015_geojson(tmp_path, [square(692000, 6177000, 300)], crs="urn:ogc:def:crs:EPSG::2154")
    result = import_qpv2015(path, import_ctx_66)
    centroid = result.table.geometry.iloc[0].centroid
    assert centroid.x == pytest.approx(2.89, abs=0.03)
    assert centroid.y == pytest.approx(42.70, abs=0.03)
    assert any("reprojetées" in n for n in result.notes)


def test_unsupported_crs_is_refused(tmp_path, import_ctx_66):
    path = qpv2015_geojson(tmp_path, [square(2.895, 42.70)], crs="urn:ogc:def:crs:EPSG::3857")
    with pytest.raises(DataError) as exc:
        import_qpv2015(path, import_ctx_66)
    assert "non pris en charge" in only_problem(exc).message


def test_point_outside_the_departement(tmp_path, import_ctx_66):
    # Carcassonne's coordinates on a row that claims Céret.
    row = CERET.replace("42.4856,2.7486", "43.2130,2.3491")
    with pytest.raises(DataError) as exc:
        import_france_services(write(tmp_path, "liste-fs.csv", f"{FS_HEADER}\n{ILLE}\n{row}\n"), import_ctx_66)
    problem = only_problem(exc)
    assert (problem.file, problem.row) == ("liste-fs.csv", 3)
    assert "hors du département 66" in problem.message


def test_swapped_latitude_longitude(tmp_path, import_ctx_66):
    row = ILLE.replace("42.66962,2.623884", "2.623884,42.66962")
    with pytest.raises(DataError) as exc:
        import_france_services(write(tmp_path, "liste-fs.csv", f"{FS_HEADER}\n{row}\n"), import_ctx_66)
    problem = only_problem(exc)
    assert problem.row == 2
    assert "inversées" in problem.suggestion


def test_old_file_point_outside_is_moved_to_the_town_hall(tmp_path, import_ctx_66):
    header = "id,type,nom,codeinsee,latitude,longitude,update,contact_phone,geo.address_searched"
    rows = [
        "caf-66049-01,caf,Caf Céret,66049,42.4867196,2.7449682,2016-02-08,08 10 25 66 10,Avenue F 66400 Céret",
        "pole_emploi-66149-01,pole_emploi,Pôle emploi,66149,43.473902,-0.933762,2015-01-01,,4 place 66500 Prades",
    ]
    result = import_dila_annuaire(write(tmp_path, "annuaire.csv", "\n".join([header, *rows]) + "\n"), import_ctx_66)
    assert [(w.row, w.severity) for w in result.warnings] == [(3, "avertissement")]
    hall = import_ctx_66.communes.set_index("code").loc["66149"]
    assert result.table["lon"].iloc[1] == pytest.approx(hall["mairie_lon"])


def test_inconsistent_qpv2024_departement(tmp_path, import_ctx_66):
    obj = json.loads(QPV_FIXTURE.read_text(encoding="utf-8"))
    obj["features"][1]["properties"]["insee_com"] = "11069"
    path = write(tmp_path, QPV_FIXTURE.name, json.dumps(obj))
    with pytest.raises(DataError) as exc:
        import_qpv2024_perimetres(path, import_ctx_66)
    problem = only_problem(exc)
    assert problem.column == "insee_com"
    assert "11069" in problem.message


def test_zrr_workbook_fixture_has_header_on_row_6():
    import openpyxl

    wb = openpyxl.load_workbook(
        Path(__file__).resolve().parents[1] / "data" / "importers" / "diffusion-zonages-zrr-cog2021.xlsx"
    )
    ws = wb["Classement ZRR (COG 2021)"]
    assert [c.value for c in ws[6]][:4] == ["CODGEO", "LIBGEO", "ZRR_SIMP", "ZONAGE_ZRR"]


def test_line_numbers_survive_blank_lines_and_quoted_newlines(tmp_path, import_ctx_66):
    # Line 3 is blank, the record on lines 4-5 has a quoted newline: the bad value sits on physical line 6.
    text = (
        f'{FRR_HEADER}\n66001;66;L\'Albère;Non classée;\n\n66002;66;"Alé\nnya";Non classée;\n66003;66;Amélie;FRR ++;\n'
    )
    with pytest.raises(DataError) as exc:
        import_frr2025(write(tmp_path, "frr.csv", text), import_ctx_66)
    assert only_problem(exc).row == 6
