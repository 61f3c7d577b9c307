"""Settings of the app, read once from the environment (and ``.env``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["INTERNAL_HEADER", "PROJECT_ROOT", "Settings", "get_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Rasa, the app and the action server call each other with RASA_TOKEN in this header:
# the app's /nlg, Rasa's REST channel (nlu/channel.py) and the action server answer no one else
INTERNAL_HEADER = "X-Internal-Token"
_PLACEHOLDER = "changethis"


class Settings(BaseSettings):
    """All app settings. Secrets have no default: a missing one fails fast."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str
    secret_key: SecretStr
    # one Rasa server, or several replicas separated by commas (bot/chat/rasa_client.py)
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr
    rasa_timeout_s: float = 10.0
    # while a new model is loaded (Rasa answers nothing meanwhile), wait this long instead
    rasa_swap_timeout_s: float = 120.0
    max_message_chars: int = 1500
    # Abuse limits (bot/web/rates.py). One citizen, any channel: messages a minute and a
    # burst (faster gets a friendly "slow down"). One address on the web chat's endpoints:
    # requests a minute and a burst, generous for a commune hall behind one address (past
    # them: 429); loopback callers (the operator's own tools) are not counted.
    chat_rate_per_minute: float = Field(default=30.0, gt=0)
    chat_burst: int = Field(default=15, ge=1)
    address_rate_per_minute: float = Field(default=600.0, gt=0)
    address_burst: int = Field(default=200, ge=1)
    # Handoff floods: tickets one citizen may open a day; commune alerts an hour (past it,
    # new tickets wait in the console and for the re-alert round).
    handoff_tickets_per_day: int = Field(default=3, ge=1)
    handoff_alerts_per_hour: int = Field(default=30, ge=1)
    # a console session ends after this long, or after this long without a request
    console_session_hours: float = Field(default=8.0, gt=0)
    console_idle_minutes: float = Field(default=60.0, gt=0)
    # Request bodies: the chat API and the webhooks take at most max_body_bytes; the console
    # (CSV imports, a new topic's questions) and Rasa's /nlg calls at most max_upload_bytes.
    max_body_bytes: int = Field(default=64 * 1024, ge=4096)
    max_upload_bytes: int = Field(default=2_000_000, ge=64 * 1024)
    # Load limits. Database: connections per process (pool + overflow); that many worker
    # threads run database work for async code; a thread waits at most db_pool_timeout_s
    # for a connection. Rasa: calls in flight per app process; past them a message waits
    # at most rasa_queue_timeout_s for a slot (and at most rasa_max_waiting wait at once),
    # then gets the busy reply.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_s: float = Field(default=10.0, gt=0)
    # `make run` topology (bot/stack.py; docker-compose.yml sets its own): Rasa's tracker
    # store (default: SQLite under var/), Redis for Rasa's lock store (needed with several
    # Rasa replicas), app worker processes and Rasa replicas (ports rasa_port, +1, ...).
    rasa_tracker_url: str = ""
    redis_url: str = ""
    app_workers: int = Field(default=1, ge=1)
    rasa_replicas: int = Field(default=1, ge=1)
    rasa_max_in_flight: int = Field(default=16, ge=1)
    rasa_max_waiting: int = Field(default=400, ge=0)
    rasa_queue_timeout_s: float = Field(default=8.0, gt=0)
    # Turns for the figures and the unanswered inbox are written in one batch this often
    # (off the reply path; a crash of the process loses at most this interval's figures).
    analytics_flush_s: float = Field(default=1.0, gt=0)
    # Each app process keeps the answer texts in memory and checks this often whether
    # another process changed them (the process that takes an edit sees it at once).
    content_refresh_s: float = Field(default=1.0, gt=0)
    # How often Python hands the interpreter lock between threads (bot/main.py says why).
    switch_interval_ms: float = Field(default=1.0, gt=0)
    # Freeze what the process built at start out of the garbage collector's full passes
    # (bot/heap.py); the tests' many short-lived apps in one process turn it off.
    gc_freeze: bool = True
    # Conversation content older than this is purged (bot/privacy/retention.py), checked
    # this often by every app process.
    retention_days: int = Field(default=90, ge=1)
    retention_every_minutes: float = Field(default=60.0, gt=0)
    # Telegram (officer alerts now; the citizen front later). Off when no token.
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None  # public https URL; None = long polling
    telegram_webhook_secret: SecretStr | None = None
    telegram_timeout_s: float = 10.0
    telegram_concurrent_updates: int = Field(default=64, ge=1)
    # Zalo Official Account bridge: off unless app id, OA secret key, app secret and a
    # refresh token are set (the first access token is fetched with the refresh token).
    zalo_app_id: str | None = None
    zalo_oa_secret_key: SecretStr | None = None  # webhook signature (OA settings page)
    zalo_app_secret: SecretStr | None = None  # OAuth token refresh (app settings page)
    zalo_refresh_token: SecretStr | None = None  # first one only; then rotated in the DB
    zalo_api_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_replay_window_s: float = 300.0
    zalo_timeout_s: float = 10.0
    # Handoff: where unclaimed or unassigned tickets go, and when.
    handoff_province_chat_id: int | None = None
    handoff_realert_minutes: float = 30.0
    handoff_escalate_minutes: float = 120.0
    # Outbox worker (alerts and relayed messages).
    outbox_worker: bool = True
    outbox_poll_s: float = 1.0
    outbox_max_attempts: int = 15
    # Reminders (bot/campaign): how often each replica looks for the ones due.
    reminders_every_s: float = 30.0
    # ENVIRONMENT=test only: a file holding seconds added to the time (bot/clock.py).
    test_clock_file: Path | None = None
    # A worker that dies mid-send frees its rows after this; keep it above telegram_timeout_s.
    outbox_lease_s: float = 30.0
    # Train and publish from the console: the Rasa environment's `rasa`, where models go,
    # the held-out evaluation file, and how much worse than the live model a candidate may
    # score (accuracy and macro F1, 0.01 = one point) and still be published; a larger drop
    # refuses it only when at least training_confidence of the paired resamples of the
    # evaluation file show it (bot/modelops/verdict.py), so retraining noise does not.
    # Unset paths are under project_root.
    training_rasa_bin: Path = Path(".venv-rasa/bin/rasa")
    models_dir: Path = Path("models")
    training_dir: Path = Path("var/training")
    training_eval_file: Path = Path("tests/eval/questions.yml")
    training_margin: float = 0.01
    training_confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    training_keep: int = 3  # earlier live models kept on disk for rollback
    project_root: Path = PROJECT_ROOT

    @field_validator(
        "telegram_bot_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "handoff_province_chat_id",
        "zalo_app_id",
        "zalo_oa_secret_key",
        "zalo_app_secret",
        "zalo_refresh_token",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker compose passes ${VAR:-} as "": that means "not configured"
        return None if value == "" else value

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise ValueError(
                "TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET (1-256 of A-Za-z0-9_-)"
            )
        return self

    @model_validator(mode="after")
    def _paths_under_the_project(self) -> Settings:
        for name in ("training_rasa_bin", "models_dir", "training_dir", "training_eval_file"):
            value: Path = getattr(self, name)
            if not value.is_absolute():
                setattr(self, name, self.project_root / value)
        return self

    @model_validator(mode="after")
    def _no_placeholders(self) -> Settings:
        if self.environment == "development":
            return self
        for name in ("secret_key", "rasa_token"):
            value = getattr(self, name).get_secret_value()
            if value == _PLACEHOLDER or len(value) < 16:
                raise ValueError(f"{name.upper()} must be a real secret (16+ chars)")
        return self

    @property
    def rasa_urls(self) -> list[str]:
        """Every Rasa replica this app talks to."""
        return [u.strip() for u in self.rasa_url.split(",") if u.strip()]

    @property
    def db_threads(self) -> int:
        """Worker threads for database work: one per connection the pool can open."""
        return self.db_pool_size + self.db_max_overflow

    @property
    def tracker_url(self) -> str:
        """Rasa's tracker store (the `make run` default: SQLite under var/)."""
        return self.rasa_tracker_url or f"sqlite:///{self.project_root / 'var' / 'rasa_tracker.db'}"

    @property
    def zalo_enabled(self) -> bool:
        """Whether every credential of the Zalo bridge is set."""
        return None not in (
            self.zalo_app_id,
            self.zalo_oa_secret_key,
            self.zalo_app_secret,
            self.zalo_refresh_token,
        )

    @property
    def faq_dir(self) -> Path:
        """Folder of the FAQ seed content."""
        return self.project_root / "data" / "faq"

    @property
    def domain_path(self) -> Path:
        """Rasa domain file (the seed of the non-FAQ responses)."""
        return self.project_root / "domain.yml"


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()  # type: ignore[call-arg]
