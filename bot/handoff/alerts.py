"""What officers are told about a ticket, as channel-free values.

A value is a plain dict (it is stored in the outbox and rendered when it is sent): the
officers' channel (Telegram, ``bot.channels.telegram.render``) turns it into its message
and buttons. Every citizen-given text in a value is already masked (``mask``).
"""

from __future__ import annotations

from typing import Any

from bot.handoff.models import HandoffTicket
from bot.privacy.mask import mask

__all__ = ["CLAIM", "RESOLVE", "alert", "relay"]

# what an officer can do from an alert
CLAIM = "claim"
RESOLVE = "done"


def alert(
    ticket: HandoffTicket,
    *,
    level: int = 0,
    claimed_by: str | None = None,
    resolved_by: str | None = None,
    note: str | None = None,
    cancelled: bool = False,
) -> dict[str, Any]:
    """A ticket's alert: new (level 0), reminder (1), sent up to the province (2).

    Once claimed, resolved or cancelled by the citizen, the same alert says so (its copies
    are edited to it).
    """
    if resolved_by is not None or cancelled:
        actions: list[str] = []
    elif claimed_by is not None:
        actions = [RESOLVE]
    else:
        actions = [CLAIM, RESOLVE]
    return {
        "type": "alert",
        "ticket_id": ticket.id,
        "code": ticket.code,
        "level": level,
        "commune": ticket.commune_label or "",
        "channel": ticket.channel,
        "step": ticket.step or "",
        "description": mask(ticket.description or ""),
        "phone": ticket.contact_phone or "",
        "transcript": [
            {"who": str(t.get("who", "")), "text": str(t.get("text", ""))}
            for t in ticket.transcript or []
        ],
        "claimed_by": claimed_by,
        "resolved_by": resolved_by,
        "note": note,
        "cancelled": cancelled,
        "actions": actions,
    }


def relay(ticket: HandoffTicket, text: str) -> dict[str, Any]:
    """A citizen's follow-up message for the officer (personal numbers masked)."""
    return {"type": "relay", "ticket_id": ticket.id, "code": ticket.code, "text": mask(text)}
