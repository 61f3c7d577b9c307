"""Model operations on a fake Rasa (tests/auxil/fake_rasa.py): real jobs, locks, files, rows."""

from __future__ import annotations

import pytest

from bot.db import Database, utcnow
from bot.modelops.jobs import Trainer
from bot.modelops.serving import ModelServer
from tests.auxil.fake_rasa import FakeModelApi, FakeRasaBin, write_model
from tests.auxil.settings import make_settings


@pytest.fixture
def fake_bin(tmp_path):
    return FakeRasaBin(tmp_path / "fake-rasa")


@pytest.fixture
def ops_settings(db_url, session_factory, fake_bin, tmp_path):
    return make_settings(
        db_url,
        rasa_url="http://127.0.0.1:9",
        rasa_timeout_s=0.1,  # a swap waits this (+1 s) for messages sent before it
        training_rasa_bin=fake_bin.rasa,
        models_dir=tmp_path / "models",
        training_dir=tmp_path / "training",
    )


@pytest.fixture
def seed_model(ops_settings):
    """The model Rasa serves when the tests start: 90% right on the evaluation file."""
    return write_model(ops_settings.models_dir / "vneid-0123456789ab.tar.gz", 0.9)


@pytest.fixture
def api(seed_model):
    return FakeModelApi(served=seed_model)


@pytest.fixture
def db(session_factory):
    return Database(session_factory, threads=1)


@pytest.fixture
def server(db, ops_settings, api):
    return ModelServer(db, ops_settings, api, clock=utcnow)


@pytest.fixture
async def trainer(db, ops_settings, server):
    trainer = Trainer(db, ops_settings, server, clock=utcnow)  # on the test's event loop
    yield trainer
    await trainer.stop()
