"""Targets, daily figures and progress per commune, on a generated province of 40 communes."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.campaign import progress
from bot.campaign.models import CommuneTarget, DailyFigure
from bot.communes.models import Commune
from bot.db import session_scope
from bot.handoff.officers import ImportRefusedError

TODAY = date(2026, 12, 7)


def _csv(header: list[str], rows: list[list[object]]) -> list[dict[str, str]]:
    """Rows as the console reads them from an uploaded file (through CSV text)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


@pytest.fixture
def province(session_factory):
    """Targets and ten days of figures for every commune, through the CSV imports."""
    rng = random.Random(7)  # noqa: S311 - a reproducible province, not a secret
    with session_scope(session_factory) as session:
        names = [c.name for c in session.scalars(select(Commune).order_by(Commune.id))]
    assert len(names) == 40
    targets = {name: rng.randrange(2_000, 12_000) for name in names}
    # each commune works at its own pace: some far behind, some ahead
    pace = {name: rng.uniform(0.2, 1.4) for name in names}
    rows, activated = [], dict.fromkeys(names, 0)
    for offset in range(10):
        day = TODAY - timedelta(days=10 - offset)
        for name in names:
            done = int(targets[name] * pace[name] / 20 * rng.uniform(0.5, 1.5))
            activated[name] += done
            rows.append([name, day.isoformat(), done + rng.randrange(50), rng.randrange(80), done])
    with session_scope(session_factory) as session:
        progress.import_targets(
            session, _csv(["commune", "target"], [[n, t] for n, t in targets.items()]), by="wg"
        )
        progress.import_figures(
            session, _csv(list(progress.FIGURE_COLUMNS), rows), by="wg", today=TODAY
        )
    return targets, activated


def test_the_laggards_are_the_communes_well_below_the_province(session_factory, province):
    targets, activated = province
    share = sum(activated.values()) / sum(targets.values())
    expected = sorted(
        (n for n in targets if activated[n] / targets[n] < 0.8 * share),
        key=lambda n: activated[n] / targets[n],
    )
    with session_scope(session_factory) as session:
        report = progress.report(session)
    assert report.target == sum(targets.values())
    assert report.activated == sum(activated.values())
    assert [c.name.split(" ", 1)[1] for c in report.laggards] == expected
    assert 3 <= len(expected) < 40  # the generated province has some, not all
    leaders = report.leaders(5)
    assert [c.name.split(" ", 1)[1] for c in leaders] == sorted(
        targets, key=lambda n: -activated[n] / targets[n]
    )[:5]
    assert [d for d, *_ in report.days] == [TODAY - timedelta(days=10 - i) for i in range(10)]
    assert sum(act for *_, act in report.days) == sum(activated.values())
    exported = progress.export_rows(report)
    assert len(exported) == 40
    assert sum(r["lagging"] == "1" for r in exported) == len(expected)


def test_an_officers_report_replaces_that_days_figures(session_factory, province):
    _targets, activated = province
    with session_scope(session_factory) as session:
        commune = session.scalar(select(Commune).where(Commune.name == "Xốp"))
        before = progress.total_activated(session, commune.id)
        progress.record(
            session,
            commune_id=commune.id,
            day=TODAY,
            figures=progress.Figures(10, 5, 7),
            source="officer",
            by="cb",
        )
        progress.record(
            session,
            commune_id=commune.id,
            day=TODAY,
            figures=progress.Figures(12, 5, 9),
            source="officer",
            by="cb",
        )
        assert progress.total_activated(session, commune.id) == before + 9
    assert before == activated["Xốp"]


def test_a_wrong_csv_changes_nothing_and_names_every_bad_line(session_factory, province):
    with session_scope(session_factory) as session:
        count = session.scalar(select(func.count(DailyFigure.id)))
        total = session.scalar(select(func.sum(DailyFigure.activated)))
    bad = _csv(
        list(progress.FIGURE_COLUMNS),
        [
            ["Xốp", TODAY.isoformat(), 5, 5, 5],  # fine
            ["Không Có Xã Này", TODAY.isoformat(), 1, 1, 1],  # line 3
            ["Xốp", "32/13/2026", 1, 1, 1],  # line 4
            ["Xốp", (TODAY + timedelta(days=1)).isoformat(), 1, 1, 1],  # line 5: the future
            ["Xốp", "06/12/2026", "mười", 1, 1],  # line 6
            ["Xốp", TODAY.isoformat(), 1, 1, 1],  # line 7: same commune and day as line 2
        ],
    )
    with session_scope(session_factory) as session, pytest.raises(ImportRefusedError) as refused:
        progress.import_figures(session, bad, by="wg", today=TODAY)
    lines = [e.split(":")[0] for e in refused.value.errors]
    assert lines == ["dòng 3", "dòng 4", "dòng 5", "dòng 6", "dòng 7"]
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count(DailyFigure.id))) == count
        assert session.scalar(select(func.sum(DailyFigure.activated))) == total
    with session_scope(session_factory) as session, pytest.raises(ImportRefusedError):
        progress.import_targets(session, _csv(["commune", "target"], [["Xốp", 0]]), by="wg")
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.min(CommuneTarget.target))) > 0
