"""The model Rasa starts with, and the link a deployment's Rasa loads."""

from __future__ import annotations

from pathlib import Path

from bot.db import session_scope
from bot.modelops.artefacts import LIVE_LINK, fingerprint, point_live_link
from bot.modelops.models import ModelBuild
from bot.modelops.serving import point_start_model, startup_model


def test_the_start_model_is_the_published_one_trained_on_todays_seed(
    session_factory, settings, tmp_path
):
    seed = tmp_path / "vneid-seed.tar.gz"
    published = tmp_path / "console-0001.tar.gz"
    seed.write_bytes(b"seed")
    published.write_bytes(b"console")
    fp = fingerprint(settings.project_root)
    with session_scope(session_factory) as session:
        assert startup_model(settings, session, seed) == seed  # nothing published
        row = ModelBuild(status="live", origin="console", path=str(published), seed_fingerprint=fp)
        session.add(row)
        session.flush()
        assert startup_model(settings, session, seed) == published
        row.seed_fingerprint = "older"  # the seed data changed since (a new release)
        assert startup_model(settings, session, seed) == seed
        row.seed_fingerprint = fp
        published.unlink()
        assert startup_model(settings, session, seed) == seed


def test_live_link_points_at_the_start_model(session_factory, settings, tmp_path):
    settings.models_dir = tmp_path / "models"
    seed = tmp_path / "vneid-aaa.tar.gz"
    seed.write_bytes(b"a")
    with session_scope(session_factory) as session:
        assert point_start_model(settings, session, seed) == seed
    link = settings.models_dir / LIVE_LINK
    assert link.resolve() == seed.resolve()
    assert not Path(link.readlink()).is_absolute()  # relative: the same in every container
    published = settings.models_dir / "console-0002.tar.gz"
    published.write_bytes(b"c")
    point_live_link(settings.models_dir, published)
    assert link.readlink() == Path("console-0002.tar.gz")
