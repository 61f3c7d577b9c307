"""Zalo's side of the channel boundary: its events in, its bubbles out.

Stored events are answered in the background by the channels' ``Front``
(``bot.channels.front``), once each, through the gateway.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from bot.channels.front import Front, Incoming, Media
from bot.channels.zalo.sender import TEXT_LIMIT
from bot.channels.zalo.webhook import MEDIA_EVENTS, verify_signature
from bot.chat.identity import Channel, Citizen
from bot.chat.render import split_text
from bot.chat.schemas import OutgoingMessage
from bot.chat.service import Gateway
from bot.config import Settings
from bot.db import Clock, Database

__all__ = ["CHANNEL", "MAX_BUBBLES", "ZaloAdapter", "ZaloBridge", "merge_bubbles"]

CHANNEL = Channel.ZALO.value
MAX_BUBBLES = 8  # free "reply" messages per citizen message


def merge_bubbles(
    replies: Sequence[OutgoingMessage], limit: int = MAX_BUBBLES
) -> list[OutgoingMessage]:
    """At most ``limit`` bubbles: the first ones are merged into one (its text, in order)."""
    parts: list[OutgoingMessage] = []
    for reply in replies:
        chunks = split_text(reply.text, TEXT_LIMIT) or [reply.text]
        parts += [OutgoingMessage(text=c) for c in chunks[:-1]]
        parts.append(OutgoingMessage(text=chunks[-1], buttons=reply.buttons))
    if len(parts) <= limit:
        return parts
    head, tail = parts[: len(parts) - limit + 1], parts[len(parts) - limit + 1 :]
    merged = OutgoingMessage(
        text="\n\n".join(p.text for p in head),
        buttons=next((p.buttons for p in reversed(head) if p.buttons), []),
    )
    return [merged, *tail]


class ZaloAdapter:
    """A stored webhook event (Zalo's own JSON) to a message; replies to Zalo bubbles."""

    channel = Channel.ZALO

    def parse(self, payload: dict[str, Any]) -> Incoming:
        """``follow`` greets, a text is asked, pictures and the rest get the fixed replies."""
        citizen = Citizen.zalo(_user_id(payload))
        name = payload.get("event_name")
        if name == "follow":
            return Incoming(citizen, texts=("/greet",))
        if name == "user_send_image":
            return Incoming(citizen, media=Media.PHOTO)
        if name in MEDIA_EVENTS:
            return Incoming(citizen, media=Media.OTHER)
        text = str((payload.get("message") or {}).get("text") or "")
        return Incoming(citizen, texts=(text,))

    def render(self, replies: Sequence[OutgoingMessage]) -> list[dict[str, Any]]:
        """At most 8 bubbles (Zalo's free replies to one message), long texts split."""
        return [
            {"text": reply.text, "buttons": [b.model_dump() for b in reply.buttons]}
            for reply in merge_bubbles(replies)
        ]


class ZaloBridge(Front):
    """Checks webhook calls, then stores and answers their events (``Front``)."""

    def __init__(
        self,
        db: Database,
        *,
        gateway: Gateway,
        settings: Settings,
        clock: Clock,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._settings = settings
        super().__init__(db, ZaloAdapter(), gateway=gateway, clock=clock, wake_outbox=wake_outbox)

    def verify(self, raw: bytes, header: str) -> bool:
        """Whether a webhook call really comes from Zalo, and recently."""
        secret = self._settings.zalo_oa_secret_key
        if secret is None or self._settings.zalo_app_id is None:
            return False
        return verify_signature(
            raw,
            header,
            app_id=self._settings.zalo_app_id,
            oa_secret_key=secret.get_secret_value(),
            now_ms=int(time.time() * 1000),
            window_s=self._settings.zalo_replay_window_s,
        )


def _user_id(data: dict[str, Any]) -> str:
    """The follower an event comes from."""
    who = data.get("sender") or data.get("follower") or {}
    return str(who.get("id") or data.get("user_id_by_app"))
