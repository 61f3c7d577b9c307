"""Who a citizen is on which channel: one typed value instead of strings split by hand.

The Rasa sender id (also the key of conversation state, tickets and outbox rows) is
``<prefix>:<platform id>``; the prefix is short (``tg`` for Telegram) while the channel
name used by the outbox and the tickets is the full one (``telegram``). Only this module
maps one to the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Channel", "Citizen"]


class Channel(StrEnum):
    """The channels citizens write on; the value is what tickets and the outbox store."""

    WEB = "web"
    TELEGRAM = "telegram"
    ZALO = "zalo"

    @property
    def prefix(self) -> str:
        """The prefix of this channel's sender ids."""
        return _PREFIX[self]


_PREFIX = {Channel.WEB: "web", Channel.TELEGRAM: "tg", Channel.ZALO: "zalo"}
_BY_PREFIX = {prefix: channel for channel, prefix in _PREFIX.items()}


@dataclass(frozen=True)
class Citizen:
    """A citizen's identity on one channel: the channel and the platform's own id."""

    channel: Channel
    platform_id: str

    def __post_init__(self) -> None:
        if not self.platform_id:
            raise ValueError("a citizen needs a platform id")

    @property
    def sender(self) -> str:
        """The sender id Rasa and the tables know this citizen by."""
        return f"{self.channel.prefix}:{self.platform_id}"

    @classmethod
    def parse(cls, sender: str) -> Citizen:
        """The identity behind a sender id; an id without a known prefix is a web one."""
        prefix, sep, rest = sender.partition(":")
        channel = _BY_PREFIX.get(prefix) if sep else None
        if channel is None:
            return cls(Channel.WEB, sender or "anonymous")
        return cls(channel, rest or "anonymous")

    @classmethod
    def web(cls, sender_id: str) -> Citizen:
        """A web-chat citizen (the id the page made up)."""
        return cls(Channel.WEB, sender_id)

    @classmethod
    def telegram(cls, chat_id: int | str) -> Citizen:
        """A Telegram citizen (the private chat's id)."""
        return cls(Channel.TELEGRAM, str(chat_id))

    @classmethod
    def zalo(cls, user_id: str) -> Citizen:
        """A Zalo citizen (the follower's user id in the Official Account)."""
        return cls(Channel.ZALO, user_id)
