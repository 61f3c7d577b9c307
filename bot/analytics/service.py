"""Recording turns, the unanswered-questions inbox, and the dashboard figures."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import audit
from bot.analytics.models import ChatTurn, TrainingQuestion
from bot.chat.identity import Citizen
from bot.db import as_utc, insert_or_else, local_time
from bot.faq import service as faq_service
from bot.faq.models import FaqEntry
from bot.handoff.models import HandoffTicket, TicketStatus
from bot.privacy.mask import mask
from nlu.text import fold

__all__ = [
    "Group",
    "add_questions",
    "assign",
    "clarifications",
    "dashboard",
    "dismiss",
    "inbox",
    "store_turns",
    "turn_row",
]

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_RESPONSES = {"utter_default", "utter_default_handoff"}
LOW_CONFIDENCE = 0.55
SIMILAR = 85


def turn_row(
    tracker: dict[str, Any],
    response: str,
    *,
    now: datetime,
    arguments: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The row of the citizen message behind an NLG request (text masked), or None.

    ``arguments``: the response's; a clarifying question's ``topics`` are kept as offered.
    """
    latest = tracker.get("latest_message") or {}
    message_id = latest.get("message_id")
    text = str(latest.get("text") or "")
    if not message_id or not text:
        return None
    intent = (latest.get("intent") or {}).get("name") or ""
    confidence = float((latest.get("intent") or {}).get("confidence") or 0.0)
    if intent == "faq":
        chosen = ((latest.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        intent = str(chosen.get("intent_response_key") or "faq")
        confidence = min(confidence, float(chosen.get("confidence") or 0.0))
    sender = str(tracker.get("sender_id") or "")
    typed = not text.startswith("/")
    unanswered = typed and (
        intent == FALLBACK_INTENT or response in FALLBACK_RESPONSES or confidence < LOW_CONFIDENCE
    )
    return {
        "message_id": str(message_id)[:64],
        "sender": sender[:128],
        "channel": Citizen.parse(sender).channel.value,
        "text": mask(text)[:500],
        "intent": intent[:96],
        "confidence": confidence,
        "response": response[:128],
        "offered": _offered(arguments),
        "unanswered": unanswered,
        "reviewed": False,
        "created_at": now,
    }


def _offered(arguments: dict[str, Any] | None) -> str:
    topics = (arguments or {}).get("topics")
    if not isinstance(topics, list):
        return ""
    return ",".join(str(t) for t in topics)[:200]


_ROWS_PER_STATEMENT = 400  # SQLite allows 32,766 bound values per statement


def store_turns(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert turns; a message already recorded (its second response) is left as it is."""
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        insert = insert_or_else(session, ChatTurn).values(chunk)
        session.execute(insert.on_conflict_do_nothing(index_elements=["message_id"]))


# --- the inbox --------------------------------------------------------------------------------
@dataclass
class Group:
    """Similar unanswered questions, shown once with a count."""

    text: str
    ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    guesses: Counter[str] = field(default_factory=Counter)
    last_seen: datetime | None = None

    @property
    def count(self) -> int:
        """How many times it was asked."""
        return len(self.ids)

    @property
    def guess(self) -> str:
        """What the model thought it was (the most frequent label)."""
        return self.guesses.most_common(1)[0][0] if self.guesses else ""


def _key(text: str) -> str:
    return " ".join(fold(text.lower()).split())


def inbox(session: Session, *, limit: int = 1000) -> list[Group]:
    """Unanswered or doubtful questions not yet reviewed, similar ones together, most first."""
    turns = session.scalars(
        select(ChatTurn)
        .where(ChatTurn.unanswered.is_(True), ChatTurn.reviewed.is_(False))
        .order_by(ChatTurn.id.desc())
        .limit(limit)
    ).all()
    groups: list[Group] = []
    keys: list[str] = []
    for turn in turns:
        key = _key(turn.text)
        match = next(
            (
                g
                for g, k in zip(groups, keys, strict=True)
                if fuzz.token_set_ratio(key, k) >= SIMILAR
            ),
            None,
        )
        if match is None:
            match = Group(text=turn.text, last_seen=turn.created_at)
            groups.append(match)
            keys.append(key)
        match.ids.append(turn.id)
        if turn.text not in match.texts:
            match.texts.append(turn.text)
        # a clarifying question's likeliest topic says more than "nlu_fallback"
        match.guesses[(turn.offered_labels or [turn.intent])[0]] += 1
    return sorted(groups, key=lambda g: (-g.count, g.text))


def add_questions(session: Session, label: str, texts: list[str], *, username: str) -> int:
    """New training questions of ``label`` (used by the next training); return how many."""
    known = set(
        session.scalars(select(TrainingQuestion.text).where(TrainingQuestion.label == label))
    )
    added = 0
    for text in texts:
        text = " ".join(text.split())[:500]
        if text and text not in known:
            session.add(TrainingQuestion(label=label, text=text, username=username))
            known.add(text)
            added += 1
    return added


PLAIN_LABELS = (  # what an inbox question can be, besides a topic
    "greet",
    "goodbye",
    "thank",
    "bot_challenge",
    "out_of_scope",
    "activation_guide",
    "request_handoff",
    "handoff_status",
    "commune_lookup",
)


def labels(session: Session) -> list[tuple[str, str]]:
    """What an inbox question can be taught as: (label, what the admin reads), topics first."""
    topics = session.execute(select(FaqEntry.key, FaqEntry.title).order_by(FaqEntry.title))
    return [(f"faq/{k}", t) for k, t in topics] + [(x, x) for x in PLAIN_LABELS]


def assign(session: Session, turn_ids: list[int], *, label: str, username: str) -> int:
    """The questions become training questions of ``label``; how many were added (audited).

    ValueError when there is no such label.
    """
    if label not in {value for value, _ in labels(session)}:
        raise ValueError("Chủ đề không có.")
    texts = sorted(
        {t.text for t in session.scalars(select(ChatTurn).where(ChatTurn.id.in_(turn_ids)))}
    )
    added = add_questions(session, label, texts, username=username)
    dismiss(session, turn_ids)
    audit.record(
        session,
        username=username,
        action="inbox_assign",
        target=label,
        detail={"turns": turn_ids, "added": added},
    )
    return added


def discard(session: Session, turn_ids: list[int], *, username: str) -> None:
    """Nothing to learn from these questions: they leave the inbox. Audited."""
    dismiss(session, turn_ids)
    audit.record(session, username=username, action="inbox_dismiss", detail={"turns": turn_ids})


def dismiss(session: Session, turn_ids: list[int]) -> None:
    """Mark questions as reviewed (they leave the inbox)."""
    session.execute(
        update(ChatTurn)
        .where(ChatTurn.id.in_(turn_ids))
        .values(reviewed=True)
        .execution_options(synchronize_session=False)
    )


# --- the dashboard ------------------------------------------------------------------------------
def clarifications(turns: list[ChatTurn]) -> dict[str, int]:
    """Clarifying questions asked, and how many the citizen answered by pressing an offer."""
    by_sender: dict[str, list[ChatTurn]] = defaultdict(list)
    for turn in sorted(turns, key=lambda t: t.id):
        by_sender[turn.sender].append(turn)
    asked = picked = 0
    for own in by_sender.values():
        for turn, following in zip(own, [*own[1:], None], strict=True):
            if not turn.offered_labels:
                continue
            asked += 1
            offered = {f"/{label}" for label in turn.offered_labels}
            picked += following is not None and following.text in offered
    return {"asked": asked, "picked": picked}


def dashboard(session: Session, *, now: datetime, days: int = 30) -> dict[str, Any]:
    """Every figure of the dashboard, over the last ``days`` days."""
    since = now - timedelta(days=days)
    turns = session.scalars(select(ChatTurn).where(ChatTurn.created_at >= since)).all()
    tickets = session.scalars(select(HandoffTicket).where(HandoffTicket.created_at >= since)).all()

    per_day: dict[date, dict[str, Any]] = {}  # days as people in Vietnam count them
    for offset in range(days, -1, -1):
        per_day[local_time(now - timedelta(days=offset)).date()] = {"senders": set(), "messages": 0}
    for t in turns:
        day = per_day.setdefault(local_time(t.created_at).date(), {"senders": set(), "messages": 0})
        day["senders"].add(t.sender)
        day["messages"] += 1
    typed = [t for t in turns if not t.text.startswith("/")]
    topics = Counter(t.intent for t in turns if t.intent.startswith("faq/"))

    by_status: dict[str, Counter[str]] = defaultdict(Counter)
    by_channel: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {"claim": [], "resolve": []}
    )
    for k in tickets:
        by_status[k.commune_label or "(chưa rõ xã)"][k.status] += 1
        if k.claimed_at:
            by_channel[k.channel]["claim"].append(
                (as_utc(k.claimed_at) - as_utc(k.created_at)).total_seconds()
            )
        if k.closed_at and k.status == TicketStatus.RESOLVED:
            by_channel[k.channel]["resolve"].append(
                (as_utc(k.closed_at) - as_utc(k.created_at)).total_seconds()
            )

    def median_min(values: list[float]) -> float | None:
        return round(statistics.median(values) / 60, 1) if values else None

    return {
        "days": days,
        "per_day": [
            {"day": d.isoformat(), "conversations": len(v["senders"]), "messages": v["messages"]}
            for d, v in sorted(per_day.items())
        ],
        "messages": len(turns),
        "conversations": len({t.sender for t in turns}),
        "fallback_rate": round(sum(t.unanswered for t in typed) / len(typed), 3) if typed else None,
        "clarify": clarifications(list(turns)),
        "channels": dict(Counter(t.channel for t in turns)),
        "topics": topics.most_common(10),
        # the topics' Vietnamese titles, as admins wrote them (not the keys)
        "titles": {f"faq/{key}": title for key, title in faq_service.topic_titles(session).items()},
        "handoffs": sorted(
            (
                {
                    "commune": c,
                    **{s.value: n[s.value] for s in TicketStatus},
                    "total": sum(n.values()),
                }
                for c, n in by_status.items()
            ),
            key=lambda r: -r["total"],
        ),
        "times": {
            ch: {"claim_min": median_min(v["claim"]), "resolve_min": median_min(v["resolve"])}
            for ch, v in sorted(by_channel.items())
        },
        "tickets": len(tickets),
    }
