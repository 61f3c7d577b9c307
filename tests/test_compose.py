"""docker-compose.yml is checked by reading it (no Docker engine on CI machines)."""

from __future__ import annotations

import re

import yaml

from bot.config import PROJECT_ROOT
from bot.modelops.artefacts import SERVING_ENV

COMPOSE = PROJECT_ROOT / "docker-compose.yml"


def load():
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_services_and_start_order():
    services = load()["services"]
    assert {"postgres", "redis", "rasa", "actions", "app"} <= set(services)
    assert services["rasa"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["rasa"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["rasa"]["depends_on"]["actions"]["condition"] == "service_healthy"
    assert services["actions"]["depends_on"]["app"]["condition"] == "service_healthy"
    for name in ("postgres", "redis", "rasa", "actions", "app"):
        assert "healthcheck" in services[name], name


def test_rasa_gets_every_variable_endpoints_yml_needs():
    needed = set(re.findall(r"\$\{(\w+)\}", (PROJECT_ROOT / "endpoints.yml").read_text()))
    env = load()["services"]["rasa"]["environment"]
    assert needed <= set(env)
    assert env["LOCK_STORE_TYPE"] == "redis"
    assert env["TRACKER_DIALECT"] == "postgresql"
    assert SERVING_ENV.items() <= env.items()  # as make run starts it


def test_secrets_have_no_defaults():
    text = COMPOSE.read_text(encoding="utf-8")
    for name in ("POSTGRES_PASSWORD", "SECRET_KEY", "RASA_TOKEN"):
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses, name
        assert all(u == ":?Variable not set" for u in uses), (name, uses)


def test_rasa_image_matches_the_pinned_version():
    lock = (PROJECT_ROOT / "requirements" / "rasa.lock").read_text()
    version = re.search(r"^rasa==([\d.]+)$", lock, re.M).group(1)
    assert load()["services"]["rasa"]["image"] == f"rasa/rasa:{version}-full"


def test_the_app_and_rasa_see_the_trained_models_at_the_same_path():
    services = load()["services"]
    # the app passes absolute paths to Rasa's PUT /model: they must mean the same file there
    app_models = [v for v in services["app"]["volumes"] if v.endswith(":/app/models")]
    rasa_models = [v for v in services["rasa"]["volumes"] if ":/app/models" in v]
    assert app_models == ["./models:/app/models"]  # writable: trainings land here
    assert rasa_models == ["./models:/app/models:ro"]
    assert services["rasa"]["working_dir"] == "/app"
    command = services["rasa"]["command"]
    assert command[command.index("--model") + 1] == "models/live.tar.gz"
    assert "--enable-api" in command  # PUT /model
    assert "./models:/app/models" in services["migrate"]["volumes"]  # points live.tar.gz


def test_the_image_can_train_with_the_pinned_rasa():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.10-slim-bookworm AS rasa-env" in dockerfile
    assert "-r /tmp/req/rasa.in -c /tmp/req/rasa.lock" in dockerfile
    assert "ENV TRAINING_RASA_BIN=/opt/rasa/bin/rasa" in dockerfile
    for needed in ("config.yml", "scripts/evaluate.py", "tests/eval/questions.yml", "data"):
        assert needed in dockerfile, needed


def test_it_scales_out_behind_one_published_port():
    services = load()["services"]
    # replicas of the app cannot each publish 8000: the proxy does, and reaches them all
    assert "ports" not in services["app"] and "ports" not in services["rasa"]
    assert services["proxy"]["ports"] == ["127.0.0.1:8000:8000"]
    nginx = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "resolver 127.0.0.11" in nginx and "set $app http://app:8000;" in nginx
    # every Rasa replica shares the tracker store and the lock store
    env = services["rasa"]["environment"]
    assert env["LOCK_STORE_PREFIX"].isalnum()
    assert env["TRACKER_URL"].startswith("postgresql://")
    # the app spreads conversations over the Rasa replicas it is given
    assert load()["x-app-env"]["RASA_URL"] == "${RASA_URLS:-http://rasa:5005}"
    assert "--scale app=3 --scale rasa=2" in COMPOSE.read_text(encoding="utf-8")


def test_the_app_believes_only_the_address_the_proxy_saw():
    nginx = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    # the client's claimed X-Forwarded-For is replaced, never passed on
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    assert "$proxy_add_x_forwarded_for" not in nginx
    app = load()["services"]["app"]
    assert app["environment"]["FORWARDED_ALLOW_IPS"] == "*"  # reachable only from the proxy
    assert app["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "ports" not in app


def test_the_app_purges_the_tracker_store_rasa_writes():
    """RETENTION_DAYS reaches Rasa's conversations: the app is given the same database."""
    services = load()["services"]
    rasa = services["rasa"]["environment"]["TRACKER_URL"]
    app = services["app"]["environment"]
    assert app["RASA_TRACKER_URL"].replace("postgresql+psycopg://", "postgresql://") == rasa
    assert app["RETENTION_DAYS"] == "${RETENTION_DAYS:-90}"


def test_rasa_takes_its_token_as_one_argument():
    """A token that starts with "-" (secrets.token_urlsafe makes one in 32) is not an option."""
    command = load()["services"]["rasa"]["command"]
    assert "--auth-token=${RASA_TOKEN:?Variable not set}" in command
    assert "--auth-token" not in command
