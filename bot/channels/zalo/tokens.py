"""The OA access token, refreshed before it expires; one replica spends a refresh token."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import datetime, timedelta
from functools import partial

import httpx
from sqlalchemy.orm import Session

from bot import locks
from bot.channels.zalo.models import ZaloToken
from bot.config import Settings
from bot.db import Database
from bot.outbox import (
    Clock,
    RetryLater,
)

__all__ = ["REFRESH_LOCK", "REFRESH_WAIT_S", "ZaloTokens"]

logger = logging.getLogger(__name__)

REFRESH_LOCK = "zalo_refresh"  # bot.locks: one replica at a time spends the refresh token
REFRESH_WAIT_S = 30.0
_FRESH = timedelta(minutes=30)  # a token with less left is refreshed


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
