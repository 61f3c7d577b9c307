"""A real stack for end-to-end tests: trained Rasa, action server and app."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts import service as accounts_service
from bot.channels.zalo import signature
from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.modelops import artefacts as training
from bot.stack import Stack, StackConfig
from tests.auxil import fake_zalo as zalo_fake
from tests.auxil import services
from tests.auxil.browser import PASSWORD, chromium
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.fake_zalo import FakeZalo
from tests.auxil.stack import make_test_stack
from tests.auxil.web_chat import WebInboxReader

pytestmark = pytest.mark.e2e


@dataclass
class RunningStack:
    """What the tests need to reach the running services."""

    app_url: str
    rasa_url: str
    actions_url: str
    token: str
    session_factory: sessionmaker[Session]
    stack: Stack
    telegram: FakeTelegram
    zalo: FakeZalo
    models_dir: Path
    root: Path  # the stack's files: app.db, tracker.db, logs/
    # the web tests' browsers: one per conversation id, each with its cookie
    browsers: dict[str, WebInboxReader] = field(default_factory=dict)

    def zalo_event(self, data: dict) -> int:
        """Deliver a signed Zalo OA event to the app's webhook, as Zalo would."""
        data = {**data, "timestamp": str(int(time.time() * 1000))}
        raw = json.dumps(data, ensure_ascii=False).encode()
        response = httpx.post(
            f"{self.app_url}/webhooks/zalo",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-ZEvent-Signature": signature(
                    zalo_fake.APP_ID, raw, data["timestamp"], zalo_fake.OA_SECRET_KEY
                ),
            },
            timeout=30,
        )
        return response.status_code

    def telegram_update(self, update: dict) -> int:
        """Deliver an update to the app's webhook, as Telegram would."""
        response = httpx.post(
            f"{self.app_url}/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            timeout=30,
        )
        return response.status_code

    def web_id(self) -> str:
        """A conversation id issued to a new browser, which keeps its cookie."""
        browser = httpx.Client(base_url=self.app_url, timeout=30)
        response = browser.post("/api/chat/session", json={})
        assert response.status_code == 200, response.text
        sender_id = response.json()["sender_id"]
        self.browsers[sender_id] = WebInboxReader(browser)
        return sender_id

    def close_browsers(self) -> None:
        """Close the web tests' HTTP clients (their sockets)."""
        for reader in self.browsers.values():
            reader.client.close()
        self.browsers.clear()

    def inbox(self, sender: str) -> list[dict]:
        """What the browser of ``sender`` fetches (officer replies), acknowledged as it goes."""
        return self.browsers[sender].read(sender)

    def chat(self, sender: str, text: str) -> list[dict]:
        response = httpx.post(
            f"{self.app_url}/api/chat", json={"sender_id": sender, "text": text}, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()["messages"]


WEBHOOK_SECRET = "e2e-webhook-secret_0123456789"
PROVINCE_CHAT = -100900


@pytest.fixture(scope="session")
def telegram_fake():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def zalo_server():
    fake = FakeZalo().start()
    yield fake
    fake.stop()


def channels_env(telegram: FakeTelegram, zalo: FakeZalo) -> dict[str, str]:
    """A stack's Telegram (webhook mode) and Zalo, pointed at the fakes."""
    return {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://vneid.example/webhooks/telegram",
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HANDOFF_PROVINCE_CHAT_ID": str(PROVINCE_CHAT),
        "OUTBOX_POLL_S": "0.2",
        "ZALO_APP_ID": zalo_fake.APP_ID,
        "ZALO_OA_SECRET_KEY": zalo_fake.OA_SECRET_KEY,
        "ZALO_APP_SECRET": zalo_fake.APP_SECRET,
        "ZALO_REFRESH_TOKEN": zalo_fake.FIRST_REFRESH,
        "ZALO_API_URL": zalo.url,
        "ZALO_OAUTH_URL": zalo.url,
    }


@pytest.fixture(scope="session")
def stack(tmp_path_factory, telegram_fake, zalo_server) -> RunningStack:
    model = training.model_path(PROJECT_ROOT)
    if not model.exists():
        pytest.fail(f"No trained model for the current data ({model.name}): run `make model`.")
    tmp = tmp_path_factory.mktemp("stack")
    prepared = make_test_stack(
        tmp,
        channels_env(telegram_fake, zalo_server)
        | {
            # console trainings write here, not into the project's models/
            "MODELS_DIR": str(tmp / "models"),
            "TRAINING_DIR": str(tmp / "training"),
        },
    )
    running, config = prepared.stack, prepared.config
    try:
        running.start(timeout=300)
    except (RuntimeError, TimeoutError) as exc:
        logs = "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in (tmp / "logs").glob("*.log")
        )
        pytest.fail(f"stack did not start: {exc}\n{logs}")
    view = RunningStack(
        app_url=config.url(config.app_port),
        rasa_url=config.url(config.rasa_port),
        actions_url=config.url(config.actions_port),
        token=prepared.token,
        session_factory=prepared.session_factory,
        stack=running,
        telegram=telegram_fake,
        zalo=zalo_server,
        models_dir=tmp / "models",
        root=tmp,
    )
    yield view
    view.close_browsers()
    running.stop()


@dataclass
class ScaledStack:
    """The scaled topology: its processes, its channels, where its data and logs are."""

    stack: Stack
    config: StackConfig
    session_factory: sessionmaker[Session]
    app_db: str  # SQLAlchemy URLs of the two PostgreSQL databases
    tracker_db: str
    root: Path
    running: RunningStack  # the same, as the channel helpers of the tests know a stack


@pytest.fixture(scope="session")
def scaled(tmp_path_factory, redis_url):
    """PostgreSQL (app data, tracker store), Redis locks and two Rasa replicas; Telegram and
    Zalo through fakes of their own."""
    root = tmp_path_factory.mktemp("scaled")
    telegram, zalo = FakeTelegram().start(), FakeZalo().start()
    try:
        with services.postgres_database() as app_db, services.postgres_database() as rasa_db:
            prepared = make_test_stack(
                root,
                channels_env(telegram, zalo),
                db_url=app_db,
                tracker_url=rasa_db.replace("+psycopg", ""),
                redis_url=redis_url,
                rasa_replicas=2,
            )
            config = prepared.config
            prepared.stack.start(timeout=300)
            view = None
            try:
                view = ScaledStack(
                    prepared.stack,
                    config,
                    prepared.session_factory,
                    app_db,
                    rasa_db,
                    root,
                    RunningStack(
                        app_url=config.url(config.app_port),
                        rasa_url=config.url(config.rasa_port),
                        actions_url=config.url(config.actions_port),
                        token=prepared.token,
                        session_factory=prepared.session_factory,
                        stack=prepared.stack,
                        telegram=telegram,
                        zalo=zalo,
                        models_dir=root / "models",
                        root=root,
                    ),
                )
                yield view
            finally:
                if view is not None:
                    view.running.close_browsers()
                prepared.stack.stop()
                prepared.session_factory.kw["bind"].dispose()  # before its database is dropped
    finally:
        telegram.stop()
        zalo.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, shared by the console tests."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def admin(stack) -> str:
    """An admin account of the console (password tests.auxil.browser.PASSWORD)."""
    name = f"qt{uuid.uuid4().hex[:6]}"
    with session_scope(stack.session_factory) as session:
        accounts_service.create_account(
            session=session, username=name, password=PASSWORD, role="admin"
        )
    return name
