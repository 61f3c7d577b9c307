"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from bot.config import Settings

__all__ = ["SessionDep", "SettingsDep", "get_db", "get_app_settings"]


def get_db(request: Request) -> Iterator[Session]:
    """Yield one session per request; commit when the handler succeeds.

    Kept on ``request.state.db`` too, so the console's account check shares it.
    """
    session: Session = request.app.state.session_factory()
    request.state.db = session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_app_settings(request: Request) -> Settings:
    """Return the settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


# scope="function": commit before the response is sent, so whatever the client does next
# (follow a redirect, send the next message) sees this request's writes.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
