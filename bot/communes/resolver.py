"""Find a citizen's commune from free text: any spelling, old or new name.

"Đăk Choong", "xa dak ui", "phuong Le Loi cu", "tt plei kan", "ngoc bay"...
Names are compared in a folded, simplified form (no diacritics, unit words
and "cũ/mới" dropped, Đắk = Đăk, Ngọk = Ngọc, Pờ = Bờ), exactly first, then
with a typo-tolerant ratio (rapidfuzz). When a name is shared by units that
became different communes (two "Đăk Long", two "Đăk Hà"), the resolver asks
instead of guessing, unless the text names the old district or unit type.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from rapidfuzz import fuzz, process

from nlu.text import fold

__all__ = ["Directory", "FormerUnit", "Resolution", "Status"]

_UNIT_WORDS = {"xa": "xã", "phuong": "phường", "thi tran": "thị trấn", "tt": "thị trấn"}
_DISTRICT_PREFIX = r"(?:huyen|thanh pho|tp)"
_MIN_SCORE = 86


def simplify(name: str) -> str:
    """Fold a place name to the form names are compared in."""
    text = fold(name.lower())
    text = re.sub(r"[^a-z0-9 ]+", " ", text)  # "H'Drai" -> "h drai"
    text = re.sub(r"\bngok\b", "ngoc", text)
    text = re.sub(r"\bpo y\b", "bo y", text)
    text = re.sub(r"\bh drai\b|\bhdrai\b", "hdrai", text)
    text = re.sub(r"\bk roong\b", "kroong", text)
    return " ".join(text.split())


class Status(StrEnum):
    """How sure the resolver is."""

    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    PROVINCE = "province"  # the text is about the former province as a whole
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class FormerUnit:
    """One commune-level unit of the former Kon Tum province and what it became."""

    name: str
    unit_type: str
    district: str
    new_name: str
    new_type: str
    new_province: str

    @property
    def label(self) -> str:
        """The unit as people say it: "xã Đăk Long (huyện Đăk Hà)"."""
        return f"{self.unit_type} {self.name} ({self.district})"

    @property
    def new_label(self) -> str:
        """The commune it became: "xã Đăk Pxi, tỉnh Quảng Ngãi"."""
        return f"{self.new_type} {self.new_name}, {self.new_province}"


@dataclass(frozen=True)
class Resolution:
    """The outcome: the matching former units (one when found)."""

    status: Status
    matches: tuple[FormerUnit, ...] = field(default_factory=tuple)


class Directory:
    """The directory, searchable by any spelling of an old or new name."""

    def __init__(self, units: Iterable[FormerUnit]) -> None:
        """Index the units by their simplified old and new names."""
        self.units = tuple(units)
        self._by_key: dict[str, list[FormerUnit]] = {}
        for unit in self.units:
            self._by_key.setdefault(simplify(unit.name), []).append(unit)
        # A new commune's own name finds the units it absorbed that bear its name,
        # or else all of them ("xã Bờ Y" -> the three units that became it).
        # Folding can make an old and a new name meet ("Đăk Blà" became Đăk Rơ Wa;
        # "Đăk Bla" is a new phường): then both stay candidates and the unit type
        # or a question decides.
        for new_name in sorted({u.new_name for u in self.units}):
            members = [u for u in self.units if u.new_name == new_name]
            bucket = self._by_key.setdefault(simplify(new_name), [])
            if all(u.new_name != new_name for u in bucket):
                bucket.extend(members)
        self._districts = {
            simplify(re.sub(r"^(huyện|thành phố) ", "", u.district)): u.district for u in self.units
        }

    @classmethod
    def from_csv(cls, path: Path) -> Directory:
        """Load the seed CSV (one row per former unit)."""
        with path.open(encoding="utf-8", newline="") as handle:
            return cls(
                FormerUnit(
                    name=row["old_unit_name"],
                    unit_type=row["old_unit_type"],
                    district=row["old_district"],
                    new_name=row["new_unit_name"],
                    new_type=row["new_unit_type"],
                    new_province=row["new_province"],
                )
                for row in csv.DictReader(handle)
            )

    def resolve(self, text: str) -> Resolution:
        """Find the unit a citizen means; ask (AMBIGUOUS) rather than guess."""
        query = simplify(text)
        if re.search(r"\btinh kon tum\b", query):
            return Resolution(Status.PROVINCE)
        district = None
        for key, name in self._districts.items():
            pattern = rf"\b{_DISTRICT_PREFIX} {key}\b"
            if re.search(pattern, query):
                district = name
                query = re.sub(pattern, " ", query)  # "dak ha" here is the district
                break
        words = query.split()
        found = self._exact(words) or self._fuzzy(words)
        if found is None:
            return (
                self._district_only(query)
                if district is None
                else Resolution(
                    Status.AMBIGUOUS, tuple(u for u in self.units if u.district == district)
                )
            )
        key, start = found
        before = " ".join(words[max(0, start - 2) : start])
        unit_type = next(
            (unit for word, unit in _UNIT_WORDS.items() if re.search(rf"\b{word}$", before)), None
        )
        resolution = self._narrow(self._by_key[key], district, unit_type)
        says_old = district is not None or re.search(r"\b(cu|truoc day|truoc kia)\b", query)
        if resolution.status is Status.FOUND and not says_old:
            # "xã Đăk Hà" may be the old xã (now Tu Mơ Rông) or today's xã Đăk Hà.
            today = [
                u
                for u in self.units
                if simplify(u.new_name) == key and unit_type in (None, u.new_type)
            ]
            if today and today[0].new_name != resolution.matches[0].new_name:
                return Resolution(Status.AMBIGUOUS, (resolution.matches[0], today[0]))
        return resolution

    def _district_only(self, query: str) -> Resolution:
        # "Ia H'Drai" alone: a former district, not a commune; list its communes.
        for key, name in self._districts.items():
            if re.search(rf"\b{key}\b", query):
                return Resolution(
                    Status.AMBIGUOUS, tuple(u for u in self.units if u.district == name)
                )
        return Resolution(Status.NOT_FOUND)

    def _exact(self, words: list[str]) -> tuple[str, int] | None:
        # The longest known name in the text wins ("nguyen trai" over "kon tum").
        for size in range(min(5, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                window = " ".join(words[start : start + size])
                if window in self._by_key and len(window) >= 3:
                    return window, start
        return None

    def _fuzzy(self, words: list[str]) -> tuple[str, int] | None:
        best: tuple[float, str, int] | None = None
        keys = list(self._by_key)
        for size in range(1, min(5, len(words)) + 1):
            for start in range(len(words) - size + 1):
                window = " ".join(words[start : start + size])
                if len(window) < 4:
                    continue
                match = process.extractOne(window, keys, scorer=fuzz.ratio)
                if match and match[1] >= _MIN_SCORE and (best is None or match[1] > best[0]):
                    best = (match[1], match[0], start)
        return (best[1], best[2]) if best else None

    def _narrow(
        self, candidates: list[FormerUnit], district: str | None, unit_type: str | None
    ) -> Resolution:
        pool = candidates
        if district:
            pool = [u for u in pool if u.district == district] or pool
        if unit_type and len({u.new_name for u in pool}) > 1:
            pool = [u for u in pool if u.unit_type == unit_type] or pool
        if len({(u.new_type, u.new_name) for u in pool}) == 1:
            return Resolution(Status.FOUND, (pool[0],))
        return Resolution(Status.AMBIGUOUS, tuple(pool))
