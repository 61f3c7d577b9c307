"""A throwaway stack (Rasa, actions, app) on free loopback ports with a temporary database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.config import PROJECT_ROOT
from bot.modelops import artefacts as training
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


def make_test_stack(
    tmp: Path,
    extra_env: dict[str, str] | None = None,
    *,
    db_url: str | None = None,
    tracker_url: str | None = None,
    redis_url: str = "",
    rasa_replicas: int = 1,
    app_workers: int = 1,
) -> TestStack:
    """Seed a database (SQLite in ``tmp`` unless ``db_url``) and prepare (not start) a stack
    using the current model; optionally the scaled topology (tracker store, Redis lock
    store, several Rasa replicas, several app workers)."""
    db_url = db_url or f"sqlite:///{tmp / 'app.db'}"
    factory = make_seeded_db(db_url)
    token = secrets.token_urlsafe(24)
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": db_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "RASA_TOKEN": token,
        # the tests' and the benchmark's simulated citizens type far faster than people:
        # the per-citizen limit is tested on its own (tests/bot/chat), not in every crowd
        "CHAT_RATE_PER_MINUTE": "60000",
        "CHAT_BURST": "10000",
        **(extra_env or {}),
    }
    config = StackConfig(
        model=training.model_path(PROJECT_ROOT),
        env=env,
        rasa_ports=[free_port() for _ in range(rasa_replicas)],
        actions_port=free_port(),
        app_port=free_port(),
        tracker_url=tracker_url or f"sqlite:///{tmp / 'tracker.db'}",
        redis_url=redis_url,
        lock_store_prefix=f"t{secrets.token_hex(4)}",
        app_workers=app_workers,
        log_dir=tmp / "logs",
    )
    return TestStack(Stack(config), config, factory, token)
