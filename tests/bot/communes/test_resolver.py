"""The commune resolver on every row of the 2025 reorganisation table."""

from __future__ import annotations

import csv

import pytest

from bot.communes.resolver import Directory, Status
from bot.config import PROJECT_ROOT
from nlu.text import fold

CSV = PROJECT_ROOT / "data" / "communes" / "kontum_communes_2025.csv"
with CSV.open(encoding="utf-8", newline="") as _f:
    ROWS = list(csv.DictReader(_f))
# Names borne by two former units that became different communes (DOMAIN.md
# §7.2), and "Đăk Blà" (now Đăk Rơ Wa), which folds to the new phường Đăk Bla.
TRAPS = {"Đăk Long", "Đăk Hà", "Đăk Blà"}


@pytest.fixture(scope="module")
def directory():
    return Directory.from_csv(CSV)


def typo(name: str) -> str:
    """Drop one letter inside the longest word ("Choong" -> "Chong")."""
    words = name.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[i]
    words[i] = w[:2] + w[3:] if len(w) >= 5 else w
    return " ".join(words)


def spellings(row):
    name, kind = row["old_unit_name"], row["old_unit_type"]
    plain = fold(name).lower()
    out = [
        name,
        f"{kind} {name}",
        plain,
        f"{fold(kind)} {plain} cu",
        f"{fold(kind)} {plain} cu gio la xa nao",
        name.replace("Đăk", "Đắk"),
        f"nha toi o {plain} {fold(row['old_district']).lower()}",
    ]
    if max(len(w) for w in name.split()) >= 5:
        out.append(typo(plain))
    return out


def test_the_table_has_102_units_and_40_communes():
    assert len(ROWS) == 102
    assert len({r["new_unit_name"] for r in ROWS}) == 40


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["old_unit_name"] not in TRAPS], ids=lambda r: r["old_unit_name"]
)
def test_every_former_unit_resolves_in_many_spellings(directory, row):
    for text in spellings(row):
        result = directory.resolve(text)
        assert result.status is Status.FOUND, (text, result)
        assert result.matches[0].new_name == row["new_unit_name"], (text, result)


@pytest.mark.parametrize(
    ("text", "new_name"),
    [
        ("xã Đăk Long huyện Đăk Glei", "Đăk Long"),
        ("xa dak long huyen dak ha", "Đăk Pxi"),
        ("thị trấn Đăk Hà", "Đăk Hà"),
        ("tt dak ha cu", "Đăk Hà"),
        ("xa dak ha cu huyen tu mo rong", "Tu Mơ Rông"),
        ("xã Đăk Hà cũ", "Tu Mơ Rông"),
        ("xã Đăk Blà", "Đăk Rơ Wa"),
        ("xa dak bla cu", "Đăk Rơ Wa"),
        ("phuong dak bla", "Đăk Bla"),
    ],
)
def test_traps_resolve_when_the_district_or_type_is_given(directory, text, new_name):
    result = directory.resolve(text)
    assert result.status is Status.FOUND, result
    assert result.matches[0].new_name == new_name


@pytest.mark.parametrize("text", ["xã Đăk Long", "dak long", "Đăk Hà", "xa dak ha", "dak bla"])
def test_traps_ask_instead_of_guessing(directory, text):
    result = directory.resolve(text)
    assert result.status is Status.AMBIGUOUS
    assert len({u.new_name for u in result.matches}) == 2


def test_new_names_are_understood_too(directory):
    assert directory.resolve("xa Bo Y").matches[0].new_name == "Bờ Y"
    assert directory.resolve("phường Đăk Bla").matches[0].new_name == "Đăk Bla"
    assert directory.resolve("xa kon braih").matches[0].new_name == "Kon Braih"


def test_the_former_province_and_districts(directory):
    assert directory.resolve("tỉnh Kon Tum cũ nhập vào đâu").status is Status.PROVINCE
    district = directory.resolve("huyen Ia H'Drai")
    assert district.status is Status.AMBIGUOUS
    assert {u.name for u in district.matches} == {"Ia Dom", "Ia Tơi", "Ia Đal"}


@pytest.mark.parametrize("text", ["", "hello", "xin chao", "ha noi", "123456"])
def test_unknown_places_are_not_guessed(directory, text):
    assert directory.resolve(text).status is Status.NOT_FOUND


def test_directory_from_the_database_matches_the_csv(session_factory, directory):
    from bot.communes.service import load_directory
    from bot.db import session_scope

    with session_scope(session_factory) as session:
        from_db = load_directory(session=session)
    assert sorted(from_db.units, key=lambda u: (u.district, u.name)) == sorted(
        directory.units, key=lambda u: (u.district, u.name)
    )
    assert from_db.resolve("xa dak choong").matches[0].new_name == "Xốp"
