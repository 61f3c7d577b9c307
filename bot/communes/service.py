"""Commune directory in the database: seeding from the CSV, loading for the resolver."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.communes.models import Commune, FormerUnitRow
from bot.communes.resolver import Directory, FormerUnit

__all__ = ["COMMUNES_CSV", "load_directory", "seed_communes"]

COMMUNES_CSV = Path("data") / "communes" / "kontum_communes_2025.csv"


def seed_communes(*, session: Session, csv_path: Path) -> int:
    """Load the reorganisation table once; return how many former units were added."""
    if session.scalar(select(FormerUnitRow.id).limit(1)) is not None:
        return 0
    communes: dict[tuple[str, str, str], Commune] = {}
    added = 0
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = (row["new_province"], row["new_unit_type"], row["new_unit_name"])
            if key not in communes:
                communes[key] = Commune(province=key[0], unit_type=key[1], name=key[2])
                session.add(communes[key])
            session.add(
                FormerUnitRow(
                    name=row["old_unit_name"],
                    unit_type=row["old_unit_type"],
                    district=row["old_district"],
                    province=row["old_province"],
                    commune=communes[key],
                )
            )
            added += 1
    return added


def load_directory(*, session: Session) -> Directory:
    """Build the resolver from the directory tables."""
    rows = session.scalars(select(FormerUnitRow).options(selectinload(FormerUnitRow.commune)))
    return Directory(
        FormerUnit(
            name=r.name,
            unit_type=r.unit_type,
            district=r.district,
            new_name=r.commune.name,
            new_type=r.commune.unit_type,
            new_province=r.commune.province,
        )
        for r in rows
    )
