"""Train and publish: the parts that need no Rasa (locks, progress, the verdict, start model).

The whole job (real `rasa train`, evaluation, `PUT /model`, rollback) runs in
tests/e2e/test_train_publish.py against the real stack.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot import locks, training
from bot.admin import retrain
from bot.admin.models import ModelBuild
from bot.admin.publish import log_tail
from bot.analytics.models import TrainingQuestion
from bot.config import PROJECT_ROOT
from bot.db import session_scope, utcnow
from tests.bot.test_admin import csrf_of, make_admin
from tests.bot.test_admin_content import log_in

OUTPUT = (PROJECT_ROOT / "tests" / "fixtures" / "rasa" / "train_output.txt").read_text(
    encoding="utf-8"
)
LONG = retrain.long_components(PROJECT_ROOT / "config.yml")


def test_the_long_components_come_from_the_config():
    assert LONG == ["DIETClassifier", "ResponseSelector"]


def test_progress_is_read_from_rasa_train_output():
    """A real `rasa train` output (tests/fixtures/rasa), cut at several points."""
    assert retrain.parse_progress("", LONG) == (0, "Chuẩn bị dữ liệu")
    seen = []
    for end in range(0, len(OUTPUT) + 1, max(1, len(OUTPUT) // 40)):
        seen.append(retrain.parse_progress(OUTPUT[:end], LONG))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents)  # never goes back
    assert any("DIETClassifier (" in stage for _, stage in seen)
    assert any("ResponseSelector (" in stage for _, stage in seen)
    assert 90 <= retrain.parse_progress(OUTPUT, LONG)[0] <= 99  # 100 is for the end of the job
    dietish = [p for p, s in seen if "DIETClassifier (100%)" in s]
    assert dietish and all(p == 50 for p in dietish)


def test_the_log_shows_each_progress_bar_once_at_its_latest_state(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text(OUTPUT, encoding="utf-8")
    lines = log_tail(log, lines=100)
    bars = [line for line in lines if line.startswith("Epochs:")]
    assert len(bars) == 2  # DIET, then the response selector
    assert all("40/40" in bar for bar in bars)
    assert log_tail(tmp_path / "missing.txt") == []


def test_one_holder_per_lock_and_a_dead_holder_is_taken_over(session_factory):
    now = utcnow()
    with session_scope(session_factory) as session:
        assert locks.acquire(session, "training", "build:1", now)
    with session_scope(session_factory) as session:
        assert not locks.acquire(session, "training", "build:2", now + timedelta(seconds=30))
        assert locks.holder(session, "training", now) == "build:1"
        locks.refresh(session, "training", "build:1", now + timedelta(seconds=60))
    with session_scope(session_factory) as session:  # refreshed: still alive at +120 s
        assert not locks.acquire(session, "training", "build:2", now + timedelta(seconds=120))
    with session_scope(session_factory) as session:  # silent for longer than STALE
        later = now + timedelta(seconds=60) + locks.STALE + timedelta(seconds=1)
        assert locks.acquire(session, "training", "build:2", later)
        assert locks.holder(session, "training", later) == "build:2"
        locks.release(session, "training", "build:1")  # not the holder: nothing happens
        assert locks.holder(session, "training", later) == "build:2"
        locks.release(session, "training", "build:2")
        assert locks.holder(session, "training", later) is None


def test_a_build_whose_process_died_is_marked_failed(session_factory):
    now = utcnow()
    with session_scope(session_factory) as session:
        dead = ModelBuild(status="training", created_by="a")
        alive = ModelBuild(status="evaluating", created_by="a")
        session.add_all([dead, alive])
        session.flush()
        locks.acquire(session, "training", f"build:{alive.id}", now)
        retrain.reap(session, now)
        assert dead.status == "failed" and "gián đoạn" in dead.detail
        assert alive.status == "evaluating"


def test_pending_questions_are_those_added_after_the_live_model(session_factory):
    with session_scope(session_factory) as session:
        session.add_all(
            [
                TrainingQuestion(label="faq/fee", text="a b c", username="a"),
                TrainingQuestion(label="faq/fee", text="d e f", username="a"),
            ]
        )
        session.flush()
        first = session.query(TrainingQuestion).order_by(TrainingQuestion.id).first()
        live = ModelBuild(status="live", last_question_id=first.id)
        assert retrain.pending_questions(session, None) == {"faq/fee": 2}
        assert retrain.pending_questions(session, live) == {"faq/fee": 1}


def test_the_start_model_is_the_published_one_trained_on_todays_seed(
    session_factory, settings, tmp_path
):
    seed = tmp_path / "vneid-seed.tar.gz"
    published = tmp_path / "console-0001.tar.gz"
    seed.write_bytes(b"seed")
    published.write_bytes(b"console")
    fp = training.fingerprint(settings.project_root)
    with session_scope(session_factory) as session:
        assert retrain.startup_model(settings, session, seed) == seed  # nothing published
        row = ModelBuild(status="live", origin="console", path=str(published), seed_fingerprint=fp)
        session.add(row)
        session.flush()
        assert retrain.startup_model(settings, session, seed) == published
        row.seed_fingerprint = "older"  # the seed data changed since (a new release)
        assert retrain.startup_model(settings, session, seed) == seed
        row.seed_fingerprint = fp
        published.unlink()
        assert retrain.startup_model(settings, session, seed) == seed


def test_live_link_points_at_the_start_model(session_factory, settings, tmp_path):
    settings.models_dir = tmp_path / "models"
    seed = tmp_path / "vneid-aaa.tar.gz"
    seed.write_bytes(b"a")
    with session_scope(session_factory) as session:
        assert retrain.point_start_model(settings, session, seed) == seed
    link = settings.models_dir / retrain.LIVE_LINK
    assert link.resolve() == seed.resolve()
    assert not Path(link.readlink()).is_absolute()  # relative: the same in every container
    published = settings.models_dir / "console-0002.tar.gz"
    published.write_bytes(b"c")
    retrain.point_live_link(settings.models_dir, published)
    assert link.readlink() == Path("console-0002.tar.gz")


def test_a_second_training_is_refused_while_one_runs(session_factory, settings):
    trainer = retrain.Trainer(session_factory, settings, rasa=None, clock=utcnow)  # type: ignore[arg-type]
    if not settings.training_rasa_bin.exists():
        pytest.fail(f"the Rasa environment is missing: {settings.training_rasa_bin}")
    with session_scope(session_factory) as session:
        first = trainer.start(session, username="a")
    with pytest.raises(retrain.Busy, match=f"#{first.id}"), session_scope(session_factory) as s:
        trainer.start(s, username="b")


def test_models_page_and_actions_need_an_admin_and_the_csrf_token(client, session_factory):
    # Rasa is unreachable in these tests: the page says so instead of failing
    assert client.get("/admin/models", follow_redirects=False).status_code == 303
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    page = client.get("/admin/models")
    assert page.status_code == 200
    assert "không liên lạc được với máy chủ Rasa" in page.text
    assert client.post("/admin/models/train", data={"csrf": "x"}).status_code == 403
    assert client.post("/admin/models/rollback", data={"csrf": "x"}).status_code == 403
    refused = client.post("/admin/models/rollback", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 409  # Rasa is down: nothing to roll back to


def test_counters_of_rasa_collapse_too(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text(
        "".join(f"Processed actions: 0it [00:00, ?it/s, # examples={i}]\r" for i in range(40))
        + "Processed actions: 48it [00:00, 18317.40it/s, # examples=44]\n"
        + "2026-11-29 21:23:12 INFO rasa.engine.training.hooks - Finished training component 'RulePolicy'.\n",
        encoding="utf-8",
    )
    assert log_tail(log) == [
        "Processed actions: 48it [00:00, 18317.40it/s, # examples=44]",
        "2026-11-29 21:23:12 INFO rasa.engine.training.hooks - Finished training component 'RulePolicy'.",
    ]


def _job(session_factory, settings, tmp_path, status="training"):
    with session_scope(session_factory) as session:
        build = ModelBuild(status=status, created_by="a")
        session.add(build)
        session.flush()
        locks.acquire(session, locks.TRAINING, f"build:{build.id}", utcnow())
        build_id = build.id
    trainer = retrain.Trainer(session_factory, settings, rasa=None, clock=utcnow)  # type: ignore[arg-type]
    job = retrain._Job(build_id, f"build:{build_id}", tmp_path / "log.txt", tmp_path)
    return trainer, job


def test_a_child_process_writes_to_the_job_log_and_keeps_the_lock(
    session_factory, settings, tmp_path, monkeypatch
):
    monkeypatch.setattr(retrain, "TICK_S", 0.2)
    trainer, job = _job(session_factory, settings, tmp_path)
    script = (
        "import time\nfor i in range(3):\n    print('step', i, flush=True)\n    time.sleep(0.3)"
    )
    code = asyncio.run(trainer._child(job, [sys.executable, "-c", script], cwd=tmp_path))
    assert code == 0
    assert "step 2" in job.log.read_text()
    with session_scope(session_factory) as session:
        assert locks.holder(session, locks.TRAINING, utcnow()) == job.owner


def test_stopping_a_job_kills_its_child(session_factory, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(retrain, "TICK_S", 0.2)
    trainer, job = _job(session_factory, settings, tmp_path)
    marker = tmp_path / "pid"
    script = f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"

    async def scenario():
        child = asyncio.create_task(
            trainer._child(job, [sys.executable, "-c", script], cwd=tmp_path)
        )
        for _ in range(200):  # the child has started when it wrote its pid
            if marker.exists():
                break
            await asyncio.sleep(0.05)
        with session_scope(session_factory) as session:
            assert trainer.cancel(session, job.build_id, username="b")
        return await asyncio.wait_for(child, 10)

    assert asyncio.run(scenario()) is None  # stopped, not finished
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_warnings_are_left_out_of_the_page_log(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text(
        "2026-11-29 21:03:34 INFO     rasa.cli.train  - Started validating domain and training data...\n"
        "/x/.venv-rasa/lib/python3.10/site-packages/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_x' is not used in any story or rule.\n"
        "/x/.venv-rasa/lib/python3.10/site-packages/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call\n"
        "  declare_namespace(pkg)\n"
        "2026-11-29 21:03:54 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.\n",
        encoding="utf-8",
    )
    assert log_tail(log) == [
        "2026-11-29 21:03:34 INFO     rasa.cli.train  - Started validating domain and training data...",
        "2026-11-29 21:03:54 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.",
    ]
