"""Citizens on Zalo: the Official Account webhook, the v3 send API and token rotation.

- ``POST /webhooks/zalo`` checks ``X-ZEvent-Signature`` (``mac=`` + SHA-256 of app_id + raw
  body + timestamp + OA secret key, compared in constant time) and a replay window, stores
  the event (unique per ``msg_id``: a redelivery is ignored) and answers 200 at once.
- A background loop handles stored events: text (button payloads come back as text) goes
  to the same gateway as the web chat; ``follow`` gets the welcome; pictures, stickers,
  voice and files a polite "please type". At most 8 bubbles per citizen message (Zalo's
  free replies), so longer answers are merged.
- Replies go through the outbox to the v3 ``message/cs`` API with the ``access_token``
  header. Buttons are template buttons of type ``oa.query.hide``. Error -216 (expired
  token) refreshes the token and retries once; the single-use refresh token is rotated
  under a row lock, so two replicas never spend the same one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import locks
from bot.channels.zalo_models import InboundEvent, ZaloToken
from bot.chat import messages
from bot.chat.identity import Channel, Citizen
from bot.chat.render import split_text
from bot.chat.schemas import OutgoingMessage
from bot.chat.service import Gateway
from bot.config import Settings
from bot.db import Database
from bot.handoff.outbox import (
    Clock,
    Delivered,
    Job,
    PermanentError,
    Poller,
    RetryLater,
    enqueue,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CHANNEL",
    "MAX_BUBBLES",
    "ZaloBridge",
    "ZaloSender",
    "ZaloTokens",
    "merge_bubbles",
    "signature",
    "verify_signature",
    "webhook_router",
]

CHANNEL = Channel.ZALO.value
MAX_BUBBLES = 8  # free "reply" messages per citizen message
TEXT_LIMIT = 2000
MAX_TEMPLATE_BUTTONS = 5
TOKEN_EXPIRED = -216
TEXT_EVENTS = {"user_send_text", "anonymous_send_text"}
MEDIA_EVENTS = {
    "user_send_image",
    "user_send_gif",
    "user_send_sticker",
    "user_send_audio",
    "user_send_video",
    "user_send_file",
    "user_send_location",
    "user_send_link",
}
HANDLED_EVENTS = TEXT_EVENTS | MEDIA_EVENTS | {"follow"}
_MAX_EVENT_ATTEMPTS = 5
# an event is answered within the gateway's limits (Rasa timeout, queue wait): well under this
EVENT_LEASE = timedelta(seconds=60)
REFRESH_LOCK = "zalo_refresh"  # bot.locks: one replica at a time spends the refresh token
REFRESH_WAIT_S = 30.0
_FRESH = timedelta(minutes=30)  # a token with less left is refreshed


# --- webhook ------------------------------------------------------------------------------
def signature(app_id: str, raw: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The ``X-ZEvent-Signature`` Zalo sends: plain SHA-256 of the concatenation, not HMAC."""
    digest = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret_key.encode())
    return "mac=" + digest.hexdigest()


def verify_signature(
    raw: bytes, header: str, *, app_id: str, oa_secret_key: str, now_ms: int, window_s: float
) -> bool:
    """Constant-time check of the signature, the app id and the timestamp's freshness."""
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    timestamp = str(data.get("timestamp", ""))
    if str(data.get("app_id", "")) != app_id or not timestamp.isdigit():
        return False
    if abs(now_ms - int(timestamp)) > window_s * 1000:
        return False  # too old (a replay) or from the future
    given = header.strip().lower()
    given = given if given.startswith("mac=") else "mac=" + given
    expected = signature(app_id, raw, timestamp, oa_secret_key)
    return hmac.compare_digest(given.encode(), expected.encode())


def _event_key(data: dict[str, Any]) -> str | None:
    name = data.get("event_name")
    message = data.get("message") or {}
    if name in TEXT_EVENTS | MEDIA_EVENTS:
        return str(message.get("msg_id") or "") or None
    if name == "follow":
        follower = (data.get("follower") or data.get("sender") or {}).get("id")
        return f"follow:{follower}:{data.get('timestamp')}" if follower else None
    return None


def webhook_router() -> APIRouter:
    """``POST /webhooks/zalo``."""
    router = APIRouter()

    @router.post("/webhooks/zalo", include_in_schema=False)
    async def zalo_webhook(request: Request) -> dict[str, bool]:
        bridge: ZaloBridge | None = getattr(request.app.state, "zalo", None)
        if bridge is None:
            raise HTTPException(status_code=404)
        raw = await request.body()
        if not bridge.verify(raw, request.headers.get("X-ZEvent-Signature", "")):
            raise HTTPException(status_code=403)
        data = json.loads(raw)
        key = _event_key(data)
        if data.get("event_name") in HANDLED_EVENTS and key:
            await bridge.store(key, data)
        return {"ok": True}  # delivery/seen receipts and unknown events: acknowledged, ignored

    return router


# --- handling stored events -------------------------------------------------------------
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


class ZaloBridge(Poller):
    """Stores verified events, then answers them in the background, once each."""

    def __init__(
        self,
        db: Database,
        *,
        gateway: Gateway,
        settings: Settings,
        clock: Clock,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._db = db
        self._gateway = gateway
        self._settings = settings
        self._clock = clock
        self._wake_outbox = wake_outbox
        super().__init__()

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

    async def store(self, key: str, data: dict[str, Any]) -> bool:
        """Keep the event (durably) for the background loop; False if it was seen before."""
        try:
            await self._db.run(
                lambda session: session.add(
                    InboundEvent(source=CHANNEL, event_id=key, payload=data)
                )
            )
        except IntegrityError:
            logger.info("zalo event %s already received", key)
            return False
        self.wake()
        return True

    async def run_forever(self, stop: asyncio.Event, *, poll_s: float = 1.0) -> None:
        """Handle stored events until ``stop`` is set (also those left by a crash)."""
        await self._poll(stop, self.handle_pending, poll_s=poll_s, name="zalo")

    async def handle_pending(self, *, batch: int = 100, parallel: int = 32) -> int:
        """Answer stored events not yet handled; return how many were tried.

        Different citizens are answered side by side (``parallel`` at a time); one
        citizen's events one after the other, in the order they came.
        """
        now = self._clock()
        rows = await self._db.run(
            lambda session: session.execute(
                select(InboundEvent.id, InboundEvent.event_id, InboundEvent.payload)
                .where(
                    InboundEvent.source == CHANNEL,
                    InboundEvent.status == "pending",
                    or_(InboundEvent.locked_until.is_(None), InboundEvent.locked_until <= now),
                )
                .order_by(InboundEvent.id)
                .limit(batch)
            ).all()
        )
        by_citizen: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        for event_id, key, payload in rows:
            by_citizen.setdefault(_user_id(payload), []).append((event_id, key, payload))
        slots = asyncio.Semaphore(parallel)

        async def in_order(events: list[tuple[int, str, dict[str, Any]]]) -> None:
            async with slots:
                for event in events:
                    await self._handle(*event)

        await asyncio.gather(*(in_order(ids) for ids in by_citizen.values()))
        if rows:
            self._wake_outbox()
        return len(rows)

    async def _handle(self, event_id: int, key: str, data: dict[str, Any]) -> None:
        """Claim the event, ask the gateway (no session open), then queue the replies.

        Queuing and marking the event done share a transaction; the replies' keys make a
        retry harmless.
        """
        try:
            claimed = await self._db.run(
                partial(_claim_event, event_id=event_id, now=self._clock(), lease=EVENT_LEASE)
            )
            if not claimed:  # another replica has it, or it was handled meanwhile
                return
            citizen = Citizen.zalo(_user_id(data))
            replies = merge_bubbles(await self._replies(citizen, data))
            now = self._clock()
            await self._db.run(
                partial(
                    _answered, event_id=event_id, key=key, citizen=citizen, replies=replies, now=now
                )
            )
        except Exception as exc:  # rolled back: the event stays pending, up to 5 tries
            await self._db.run(partial(_failed, event_id=event_id, exc=exc))

    async def _replies(self, citizen: Citizen, data: dict[str, Any]) -> list[OutgoingMessage]:
        name = data.get("event_name")
        if name == "follow":
            text = "/greet"
        elif name == "user_send_image":
            return [messages.PHOTO]
        elif name in MEDIA_EVENTS:
            return [messages.NOT_TEXT]
        else:
            text = str((data.get("message") or {}).get("text") or "")
        return await self._gateway.answer(citizen, text)


def _user_id(data: dict[str, Any]) -> str:
    """The follower an event comes from."""
    who = data.get("sender") or data.get("follower") or {}
    return str(who.get("id") or data.get("user_id_by_app"))


def _claim_event(session: Session, *, event_id: int, now: datetime, lease: timedelta) -> bool:
    """Take a pending event for this replica (a conditional update decides the race)."""
    won = session.execute(
        update(InboundEvent)
        .where(
            InboundEvent.id == event_id,
            InboundEvent.status == "pending",
            or_(InboundEvent.locked_until.is_(None), InboundEvent.locked_until <= now),
        )
        .values(locked_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(won.rowcount == 1)  # type: ignore[attr-defined]


def _answered(
    session: Session,
    *,
    event_id: int,
    key: str,
    citizen: Citizen,
    replies: list[OutgoingMessage],
    now: datetime,
) -> None:
    for i, reply in enumerate(replies):
        enqueue(
            session,
            channel=CHANNEL,
            destination=citizen.sender,
            kind="reply",
            payload={"text": reply.text, "buttons": [b.model_dump() for b in reply.buttons]},
            dedupe_key=f"zalo:{key}:{i}",
            now=now,
        )
    event = session.get_one(InboundEvent, event_id)
    event.status = "done"


def _failed(session: Session, *, event_id: int, exc: Exception) -> None:
    logger.warning("zalo event %s failed: %s", event_id, exc)
    event = session.get(InboundEvent, event_id)
    if event is not None:
        event.locked_until = None
        event.attempts += 1
        event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if event.attempts >= _MAX_EVENT_ATTEMPTS:
            event.status = "dead"


# --- tokens and sending ------------------------------------------------------------------
class ZaloTokens:
    """The OA access token, refreshed before it expires and when Zalo says -216."""

    def __init__(
        self,
        db: Database,
        *,
        settings: Settings,
        http: httpx.AsyncClient,
        clock: Clock,
    ) -> None:
        self._db = db
        self._settings = settings
        self._http = http
        self._clock = clock
        self._lock = asyncio.Lock()

    async def access_token(self) -> str:
        """A valid access token (refreshed first when none or about to expire)."""
        now = self._clock()

        def read(session: Session) -> tuple[str | None, bool]:
            row = session.get(ZaloToken, 1)
            if row is None:
                return None, False
            return row.access_token, row.expires_at - now > timedelta(minutes=30)

        current, fresh = await self._db.run(read)
        if current is not None and fresh:
            return current
        return await self.refresh(failed=current)

    async def refresh(self, *, failed: str | None) -> str:
        """Spend the refresh token once; if another worker already did, use its result.

        The refresh token is single-use: one replica at a time holds the ``zalo_refresh``
        job lock (bot.locks) while it calls Zalo, with no database session open during the
        call; the others wait for the new token (or give up after ``REFRESH_WAIT_S``, and
        the outbox retries).
        """
        async with self._lock:
            owner = f"zalo-{os.getpid()}-{id(self):x}"
            deadline = time.monotonic() + REFRESH_WAIT_S
            while True:
                kind, value = await self._db.run(
                    partial(self._take, owner=owner, failed=failed, now=self._clock())
                )
                if kind == "token":  # another replica rotated it meanwhile
                    return value
                if kind == "refresh":
                    break
                if time.monotonic() > deadline:
                    raise RetryLater("another replica is still refreshing the Zalo token")
                await asyncio.sleep(0.2)
            try:
                access, new_refresh, expires_in = await self._call(value)
            except BaseException:
                await self._db.run(lambda session: locks.release(session, REFRESH_LOCK, owner))
                raise
            await self._db.run(
                partial(
                    self._store,
                    owner=owner,
                    access=access,
                    refresh=new_refresh,
                    expires_at=self._clock() + timedelta(seconds=expires_in),
                )
            )
            logger.info("zalo access token refreshed (valid %s s)", expires_in)
            return access

    def _take(
        self, session: Session, *, owner: str, failed: str | None, now: datetime
    ) -> tuple[str, str]:
        row = session.get(ZaloToken, 1)
        if row is not None and row.access_token != failed and row.expires_at - now > _FRESH:
            return "token", row.access_token
        if not locks.acquire(session, REFRESH_LOCK, owner, now):
            return "wait", ""
        if row is not None:
            return "refresh", row.refresh_token
        return "refresh", self._settings.zalo_refresh_token.get_secret_value()  # type: ignore[union-attr]

    def _store(
        self, session: Session, *, owner: str, access: str, refresh: str, expires_at: datetime
    ) -> None:
        row = session.get(ZaloToken, 1)
        if row is None:
            row = ZaloToken(id=1)
            session.add(row)
        row.access_token, row.refresh_token = access, refresh
        row.expires_at, row.updated_at = expires_at, self._clock()
        locks.release(session, REFRESH_LOCK, owner)

    async def _call(self, refresh_token: str) -> tuple[str, str, int]:
        secret = self._settings.zalo_app_secret
        response = await self._http.post(
            f"{self._settings.zalo_oauth_url}/v4/oa/access_token",
            data={
                "refresh_token": refresh_token,
                "app_id": str(self._settings.zalo_app_id),
                "grant_type": "refresh_token",
            },
            headers={"secret_key": secret.get_secret_value() if secret else ""},
        )
        data = response.json() if response.content else {}
        if response.status_code >= 500 or "access_token" not in data:
            # a refresh token that Zalo refuses needs an admin to re-authorize the OA
            raise RetryLater(f"Zalo token refresh failed: {response.status_code} {data}")
        return (
            str(data["access_token"]),
            str(data["refresh_token"]),
            int(data.get("expires_in", 3600)),
        )


class ZaloSender:
    """Delivers outbox rows of the ``zalo`` channel through the OA v3 message API."""

    def __init__(self, tokens: ZaloTokens, *, http: httpx.AsyncClient, api_url: str) -> None:
        self._tokens = tokens
        self._http = http
        self._url = f"{api_url}/v3.0/oa/message/cs"

    def prepare(self, session: Session, job: Job) -> Job:
        """Nothing to look up."""
        return job

    async def deliver(self, job: Job) -> Delivered:
        """Send one bubble; on -216 refresh the token and try once more."""
        body = {
            "recipient": {"user_id": Citizen.parse(job.destination).platform_id},
            "message": zalo_message(job.payload.get("text", ""), job.payload.get("buttons") or []),
        }
        token = await self._tokens.access_token()
        data = await self._post(body, token)
        if data.get("error") == TOKEN_EXPIRED:
            token = await self._tokens.refresh(failed=token)
            data = await self._post(body, token)
        error = data.get("error")
        if error == 0:
            return Delivered()
        if error == TOKEN_EXPIRED:
            raise RetryLater("Zalo token still refused after a refresh")
        raise PermanentError(f"Zalo error {error}: {data.get('message')}")

    async def _post(self, body: dict[str, Any], token: str) -> dict[str, Any]:
        response = await self._http.post(self._url, json=body, headers={"access_token": token})
        if response.status_code == 429:
            after = response.headers.get("Retry-After")
            raise RetryLater("429 Too Many Requests", after=float(after) if after else None)
        if response.status_code >= 500:
            raise RetryLater(f"Zalo HTTP {response.status_code}")
        data = response.json()
        return data if isinstance(data, dict) else {}


def zalo_message(text: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """A text, with template buttons (``oa.query.hide``) when there are choices.

    Zalo shows a handful of buttons at most: the rest are listed in the text with their
    number, and typing the number presses them (the gateway understands "6").
    """
    if not buttons:
        return {"text": text[:TEXT_LIMIT]}
    shown, rest = buttons[:MAX_TEMPLATE_BUTTONS], buttons[MAX_TEMPLATE_BUTTONS:]
    if rest:
        lines = [f"{i}. {b['title']}" for i, b in enumerate(rest, start=MAX_TEMPLATE_BUTTONS + 1)]
        text = text + "\n\nHoặc gõ số:\n" + "\n".join(lines)
    return {
        "text": text[:TEXT_LIMIT],
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "buttons": [
                    {
                        "title": b["title"][:100],
                        "type": "oa.query.hide",
                        "payload": b["payload"][:1000],
                    }
                    for b in shown
                ],
            },
        },
    }
