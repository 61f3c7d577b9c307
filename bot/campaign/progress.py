"""Targets and daily figures per commune, and the progress the working group watches.

Figures come from the officers' daily report on Telegram (``/baocao``) or from the police's
CSV (all or nothing: one bad line and nothing changes, every bad line named). A commune's
progress is its accounts activated (the sum of its days) against its target; the laggards
are the communes whose share of their target is well below the province's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import audit
from bot.campaign import when
from bot.campaign.models import (
    CommuneQuestion,
    CommuneTarget,
    DailyFigure,
    Reminder,
    ReminderStatus,
)
from bot.communes.models import Commune
from bot.db import insert_or_else
from bot.handoff.models import HandoffTicket
from bot.handoff.officers import ImportRefusedError, communes_named

__all__ = [
    "FIGURE_COLUMNS",
    "LAGGARD_RATIO",
    "TARGET_COLUMNS",
    "CommuneProgress",
    "Figures",
    "Report",
    "count_question",
    "EXPORT_COLUMNS",
    "export_rows",
    "import_figures",
    "import_targets",
    "record",
    "reminder_counts",
    "report",
    "total_activated",
]

FIGURE_COLUMNS = ("commune", "date", "files_level1", "files_level2", "activated")
TARGET_COLUMNS = ("commune", "target")
# a commune is lagging when its share of its target is under 80% of the province's share
LAGGARD_RATIO = 0.8
MAX_DAILY = 100_000  # more in one commune in one day is a typo


@dataclass(frozen=True)
class Figures:
    """One day's figures of one commune."""

    files_level1: int
    files_level2: int
    activated: int

    def __post_init__(self) -> None:
        for value in (self.files_level1, self.files_level2, self.activated):
            if not 0 <= value <= MAX_DAILY:
                raise ValueError(f"số {value} không hợp lệ (0 đến {MAX_DAILY:,})")


def record(
    session: Session, *, commune_id: int, day: date, figures: Figures, source: str, by: str
) -> DailyFigure:
    """Store a commune's figures for a day (a second report of that day replaces the first)."""
    row = session.scalar(
        select(DailyFigure).where(DailyFigure.commune_id == commune_id, DailyFigure.day == day)
    )
    if row is None:
        row = DailyFigure(commune_id=commune_id, day=day)
        session.add(row)
    row.files_level1 = figures.files_level1
    row.files_level2 = figures.files_level2
    row.activated = figures.activated
    row.source = source
    row.updated_by = by[:120]
    session.flush()
    return row


def count_question(session: Session, commune_id: int, *, now: datetime) -> None:
    """One more question named ``commune_id`` today (the assistant's demand there)."""
    insert = insert_or_else(session, CommuneQuestion).values(
        commune_id=commune_id, day=when.vietnam_day(now), questions=1
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["commune_id", "day"],
            set_={"questions": CommuneQuestion.questions + 1},
        )
    )


def total_activated(session: Session, commune_id: int) -> int:
    """A commune's accounts activated so far (the sum of its days)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(DailyFigure.activated), 0)).where(
                DailyFigure.commune_id == commune_id
            )
        )
        or 0
    )


def _commune(communes: list[Commune], name: str, province: str) -> Commune:
    found = communes_named(communes, name.strip(), province.strip())
    if len(found) != 1:
        what = "không có xã/phường" if not found else "có nhiều nơi trùng tên, ghi thêm tỉnh:"
        raise ValueError(f"{what} {name!r}")
    return found[0]


def _number(row: dict[str, str], column: str) -> int:
    raw = (row.get(column) or "").strip().replace(".", "").replace(",", "")
    if not raw.isdigit():
        raise ValueError(f"cột {column}: cần một số, không phải {row.get(column)!r}")
    return int(raw)


def _day(raw: str) -> date:
    text = raw.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ValueError(f"cột date: ngày {raw!r} không đúng dạng 2026-12-05 hay 05/12/2026")


def import_figures(session: Session, rows: list[dict[str, str]], *, by: str, today: date) -> int:
    """Daily figures from the police's CSV rows (line 2 on); all or nothing.

    ImportRefusedError names every bad line.
    """
    communes = list(session.scalars(select(Commune)))
    parsed: dict[tuple[int, date], tuple[int, Figures]] = {}
    errors: list[str] = []
    for line, row in enumerate(rows, start=2):
        try:
            commune = _commune(communes, row.get("commune", ""), row.get("province", ""))
            day = _day(row.get("date", ""))
            if day > today:
                raise ValueError(f"ngày {day:%d/%m/%Y} chưa tới")
            figures = Figures(
                _number(row, "files_level1"),
                _number(row, "files_level2"),
                _number(row, "activated"),
            )
            if (commune.id, day) in parsed:
                first = parsed[(commune.id, day)][0]
                raise ValueError(f"trùng xã và ngày với dòng {first}")
            parsed[(commune.id, day)] = (line, figures)
        except ValueError as exc:
            errors.append(f"dòng {line}: {exc}")
    if errors:
        raise ImportRefusedError(errors)
    for (commune_id, day), (_line, figures) in parsed.items():
        record(session, commune_id=commune_id, day=day, figures=figures, source="csv", by=by)
    audit.record(session, username=by, action="figures_import", detail={"rows": len(rows)})
    return len(rows)


def import_targets(session: Session, rows: list[dict[str, str]], *, by: str) -> int:
    """Targets per commune from CSV rows (line 2 on); all or nothing (ImportRefusedError)."""
    communes = list(session.scalars(select(Commune)))
    parsed: dict[int, int] = {}
    errors: list[str] = []
    for line, row in enumerate(rows, start=2):
        try:
            commune = _commune(communes, row.get("commune", ""), row.get("province", ""))
            target = _number(row, "target")
            if target <= 0:
                raise ValueError("chỉ tiêu phải lớn hơn 0")
            parsed[commune.id] = target
        except ValueError as exc:
            errors.append(f"dòng {line}: {exc}")
    if errors:
        raise ImportRefusedError(errors)
    for commune_id, target in parsed.items():
        existing = session.get(CommuneTarget, commune_id)
        if existing is None:
            session.add(CommuneTarget(commune_id=commune_id, target=target))
        else:
            existing.target = target
    audit.record(session, username=by, action="targets_import", detail={"rows": len(rows)})
    return len(rows)


@dataclass(frozen=True)
class CommuneProgress:
    """One commune's line of the progress table."""

    commune_id: int
    name: str
    target: int | None
    files_level1: int
    files_level2: int
    activated: int
    last_day: date | None
    handoffs: int
    subscriptions: int
    questions: int = 0

    @property
    def share(self) -> float | None:
        """Accounts activated over the target (None without a target)."""
        return self.activated / self.target if self.target else None


@dataclass(frozen=True)
class Report:
    """The province's progress: per commune, leaders, laggards and the days."""

    communes: list[CommuneProgress]
    days: list[tuple[date, int, int, int]]  # day, files level 1, files level 2, activated

    @property
    def target(self) -> int:
        """The province's target: the communes' targets."""
        return sum(c.target or 0 for c in self.communes)

    @property
    def activated(self) -> int:
        """Accounts activated in the communes with a target."""
        return sum(c.activated for c in self.communes if c.target)

    @property
    def share(self) -> float | None:
        """The province's share of its target."""
        return self.activated / self.target if self.target else None

    @property
    def laggards(self) -> list[CommuneProgress]:
        """Communes under LAGGARD_RATIO of the province's share, the furthest behind first."""
        if self.share is None:
            return []
        bar = self.share * LAGGARD_RATIO
        late = [c for c in self.communes if c.share is not None and c.share < bar]
        return sorted(late, key=lambda c: (c.share or 0.0, c.name))

    def leaders(self, count: int = 5) -> list[CommuneProgress]:
        """The communes furthest ahead of their target."""
        ranked = [c for c in self.communes if c.share is not None]
        return sorted(ranked, key=lambda c: (-(c.share or 0.0), c.name))[:count]


def report(session: Session) -> Report:
    """The progress table of every commune, and the province's figures per day."""
    sums = {
        commune_id: (int(l1), int(l2), int(act), last)
        for commune_id, l1, l2, act, last in session.execute(
            select(
                DailyFigure.commune_id,
                func.sum(DailyFigure.files_level1),
                func.sum(DailyFigure.files_level2),
                func.sum(DailyFigure.activated),
                func.max(DailyFigure.day),
            ).group_by(DailyFigure.commune_id)
        )
    }
    targets = {t.commune_id: t.target for t in session.scalars(select(CommuneTarget))}
    handoffs = dict(
        session.execute(
            select(HandoffTicket.commune_id, func.count())
            .where(HandoffTicket.commune_id.is_not(None))
            .group_by(HandoffTicket.commune_id)
        ).all()
    )
    subscriptions = dict(
        session.execute(
            select(Reminder.commune_id, func.count())
            .where(
                Reminder.commune_id.is_not(None),
                Reminder.status.in_([ReminderStatus.PENDING, ReminderStatus.SENT]),
            )
            .group_by(Reminder.commune_id)
        ).all()
    )
    questions = dict(
        session.execute(
            select(CommuneQuestion.commune_id, func.sum(CommuneQuestion.questions)).group_by(
                CommuneQuestion.commune_id
            )
        ).all()
    )
    rows = []
    for commune in session.scalars(select(Commune).order_by(Commune.name)):
        l1, l2, act, last = sums.get(commune.id, (0, 0, 0, None))
        rows.append(
            CommuneProgress(
                commune_id=commune.id,
                name=commune.label,
                target=targets.get(commune.id),
                files_level1=l1,
                files_level2=l2,
                activated=act,
                last_day=last,
                handoffs=int(handoffs.get(commune.id, 0)),
                subscriptions=int(subscriptions.get(commune.id, 0)),
                questions=int(questions.get(commune.id, 0)),
            )
        )
    days = [
        (day, int(l1), int(l2), int(act))
        for day, l1, l2, act in session.execute(
            select(
                DailyFigure.day,
                func.sum(DailyFigure.files_level1),
                func.sum(DailyFigure.files_level2),
                func.sum(DailyFigure.activated),
            )
            .group_by(DailyFigure.day)
            .order_by(DailyFigure.day)
        )
    ]
    return Report(communes=rows, days=days)


def reminder_counts(session: Session) -> dict[str, int]:
    """What became of the reminders asked for, by outcome.

    Sent, waiting, stopped, and the ones a platform did not allow (Zalo's 48-hour window,
    a blocked bot) or that came too late.
    """
    counts: dict[str, int] = {}
    for status, outcome, n in session.execute(
        select(Reminder.status, Reminder.outcome, func.count()).group_by(
            Reminder.status, Reminder.outcome
        )
    ):
        key = status if status in (ReminderStatus.SENT, ReminderStatus.PENDING) else outcome
        counts[str(key or status)] = counts.get(str(key or status), 0) + int(n)
    return counts


EXPORT_COLUMNS = [
    "commune",
    "target",
    "files_level1",
    "files_level2",
    "activated",
    "share",
    "last_report",
    "questions",
    "handoffs",
    "subscriptions",
    "lagging",
]


def export_rows(progress: Report) -> list[dict[str, object]]:
    """The progress table, one row per commune (columns EXPORT_COLUMNS), for a CSV."""
    lagging = {c.commune_id for c in progress.laggards}
    return [
        {
            "commune": c.name,
            "target": c.target or "",
            "files_level1": c.files_level1,
            "files_level2": c.files_level2,
            "activated": c.activated,
            "share": f"{c.share:.3f}" if c.share is not None else "",
            "last_report": c.last_day.isoformat() if c.last_day else "",
            "questions": c.questions,
            "handoffs": c.handoffs,
            "subscriptions": c.subscriptions,
            "lagging": "1" if c.commune_id in lagging else "0",
        }
        for c in progress.communes
    ]
