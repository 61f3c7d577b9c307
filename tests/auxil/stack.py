"""A throwaway stack (Rasa, actions, app) on free loopback ports with a temporary database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot import training
from bot.config import PROJECT_ROOT
from bot.stack import Stack, StackConfig
from tests.auxil.db import make_seeded_db
from tests.auxil.net import free_port


@dataclass
class TestStack:
    """The stack, its config, its database and its Rasa token."""

    stack: Stack
    config: StackConfig
    session_factory: sessionmaker[Session]
    token: str


def make_test_stack(tmp: Path, extra_env: dict[str, str] | None = None) -> TestStack:
    """Seed a database in ``tmp`` and prepare (not start) a stack using the current model."""
    db_url = f"sqlite:///{tmp / 'app.db'}"
    factory = make_seeded_db(db_url)
    token = secrets.token_urlsafe(24)
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": db_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "RASA_TOKEN": token,
        **(extra_env or {}),
    }
    config = StackConfig(
        model=training.model_path(PROJECT_ROOT),
        env=env,
        rasa_port=free_port(),
        actions_port=free_port(),
        app_port=free_port(),
        tracker_url=f"sqlite:///{tmp / 'tracker.db'}",
        log_dir=tmp / "logs",
    )
    return TestStack(Stack(config), config, factory, token)
