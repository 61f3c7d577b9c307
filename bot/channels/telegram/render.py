"""What officers read on Telegram: alerts, relayed messages, /queue and /stats, in HTML.

Alerts and relayed messages come from the handoff as channel-free values
(``bot.handoff.alerts``) and are rendered here when they are sent, in the wording of
``bot.channels.telegram.words`` (editable); every text a citizen gave is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from bot.channels.telegram import words
from bot.channels.telegram.words import Words
from bot.handoff.alerts import CLAIM, RESOLVE
from bot.handoff.models import HandoffTicket

__all__ = [
    "callback_data",
    "officer_message",
    "queue_text",
    "stats_text",
]

_CHANNELS = {"web": "web chat", "telegram": "Telegram", "zalo": "Zalo"}
_BUTTONS = {CLAIM: words.BUTTON_CLAIM, RESOLVE: words.BUTTON_RESOLVE}
_SEED = Words()


def callback_data(action: str, ticket_id: int) -> str:
    """Button data for an alert: short, far under Telegram's 64 bytes."""
    return f"h:{action}:{ticket_id}"


def officer_message(value: dict[str, Any], say: Words = _SEED) -> dict[str, Any]:
    """The Telegram message of a value: ``text``, ``parse_mode`` and ``buttons``."""
    if value.get("type") == "relay":
        text = say(words.RELAY, code=value["code"], text=value["text"])
        return {"text": text, "parse_mode": "HTML", "buttons": []}
    return {
        "text": _alert_text(value, say),
        "parse_mode": "HTML",
        "buttons": _alert_buttons(value, say),
    }


def _alert_text(a: dict[str, Any], say: Words) -> str:
    lines = [say(words.ALERT_HEAD[int(a.get("level", 0))], code=a["code"])]
    lines += say.lines(
        words.ALERT_BODY,
        commune=a.get("commune") or "chưa rõ",
        channel=_CHANNELS.get(a.get("channel", ""), a.get("channel", "")),
        step=a.get("step") or "",
        description=a.get("description") or "(không ghi)",
        phone=a.get("phone") or "",
    )
    if a.get("transcript"):
        lines += ["", say(words.ALERT_RECENT)]
        for turn in a["transcript"]:
            who = "👤" if turn.get("who") == "citizen" else "🤖"
            lines.append(f"{who} {escape(str(turn.get('text', '')))}")
    lines += ["", say(words.ALERT_HINT)]
    text = "\n".join(lines)
    if a.get("cancelled"):
        text += "\n\n" + say(words.ALERT_CANCELLED)
    elif a.get("resolved_by"):
        if a.get("note"):
            done = say(words.ALERT_RESOLVED_NOTE, officer=a["resolved_by"], note=a["note"])
        else:
            done = say(words.ALERT_RESOLVED, officer=a["resolved_by"])
        text += "\n\n" + done
    elif a.get("claimed_by"):
        text += "\n\n" + say(words.ALERT_CLAIMED, officer=a["claimed_by"])
    return text


def _alert_buttons(a: dict[str, Any], say: Words) -> list[list[dict[str, str]]]:
    row = [
        {"text": say(_BUTTONS[action]), "callback_data": callback_data(action, int(a["ticket_id"]))}
        for action in a.get("actions", [])
        if action in _BUTTONS
    ]
    return [row] if row else []


def queue_text(tickets: Sequence[HandoffTicket], now: datetime, say: Words = _SEED) -> str:
    """The /queue answer."""
    if not tickets:
        return say(words.QUEUE_EMPTY)
    lines = [say(words.QUEUE_HEAD, count=len(tickets))]
    for t in tickets:
        where, age = t.commune_label or "chưa rõ xã", _age(t.created_at, now)
        if t.claimed_by:
            line = say(
                words.QUEUE_CLAIMED, code=t.code, commune=where, officer=t.claimed_by.name, age=age
            )
        else:
            line = say(words.QUEUE_OPEN, code=t.code, commune=where, age=age)
        lines.append(line)
    return "\n".join(lines)


def stats_text(stats: dict[str, Any], say: Words = _SEED) -> str:
    """The /stats answer."""
    return say(
        words.STATS,
        scope=stats["scope"],
        open=stats["open"],
        claimed=stats["claimed"],
        resolved=stats["resolved"],
        cancelled=stats["cancelled"],
        claim_time=_minutes(stats["median_claim_s"]),
        resolve_time=_minutes(stats["median_resolve_s"]),
    )


def _minutes(seconds: float | None) -> str:
    return "chưa có" if seconds is None else f"{seconds / 60:.0f} phút"


def _age(then: datetime, now: datetime) -> str:
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} phút"
    if minutes < 48 * 60:
        return f"{minutes // 60} giờ"
    return f"{minutes // 1440} ngày"
