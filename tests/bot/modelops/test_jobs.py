"""Training jobs end to end on a fake Rasa (tests/auxil/fake_rasa.py): validate, train,
evaluate, judge, publish or refuse, stop; the rows, files, locks and audit they leave.

One real training (real `rasa train`, evaluation and `PUT /model` on a running Rasa) runs in
tests/e2e/test_train_publish.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest
from sqlalchemy import select

from bot import locks
from bot.analytics.models import TrainingQuestion
from bot.audit import AuditEntry
from bot.db import session_scope, utcnow
from bot.locks import SERVING, TRAINING
from bot.modelops import jobs
from bot.modelops.artefacts import LIVE_LINK
from bot.modelops.history import pending_questions, reap
from bot.modelops.jobs import _Job
from bot.modelops.models import BuildStatus, ModelBuild
from bot.modelops.serving import Busy
from tests.auxil.console import csrf_of, log_in, make_admin
from tests.auxil.fake_rasa import write_model


@pytest.fixture(autouse=True)
def quick_ticks(monkeypatch):
    monkeypatch.setattr(jobs, "TICK_S", 0.2)


async def run_job(db, trainer, username="editor") -> ModelBuild:
    """Start a training as the console does and run it to its end; the build row after."""
    build_id = await db.run(lambda session: trainer.start(session, username=username).id)
    await trainer.run(build_id)
    return await db.run(lambda session: session.get(ModelBuild, build_id))


def log_of(settings, build: ModelBuild) -> str:
    return (settings.training_dir / f"build-{build.id:04d}" / "log.txt").read_text()


def actions(session_factory) -> list[str]:
    with session_scope(session_factory) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def holder(session_factory, name: str) -> str | None:
    with session_scope(session_factory) as session:
        return locks.holder(session, name, utcnow())


async def test_a_candidate_as_good_as_the_live_model_is_published_and_can_be_rolled_back(
    db, trainer, server, api, ops_settings, seed_model, session_factory, fake_bin
):
    fake_bin.control(quality=0.9)
    build = await run_job(db, trainer)

    assert build.status == BuildStatus.LIVE, build.detail
    assert build.detail.startswith("Đã đưa vào dùng. Độ chính xác")
    assert build.progress == 100 and build.finished_at is not None
    candidate = ops_settings.models_dir / f"console-{build.id:04d}.tar.gz"
    assert api.served == candidate and api.loads == [candidate.name]
    assert (ops_settings.models_dir / LIVE_LINK).resolve() == candidate.resolve()
    assert build.metrics["accuracy"] == build.baseline["accuracy"] > 0.8
    log = log_of(ops_settings, build)
    assert "$ rasa data validate" in log and "$ rasa train --config config.yml" in log
    assert log.count("evaluate.py --model") == 2  # the candidate, then the live model once
    with session_scope(session_factory) as session:
        seed = session.get(ModelBuild, build.baseline_id)
        assert (seed.origin, seed.status) == ("seed", BuildStatus.STANDBY)
        assert seed.metrics["accuracy"] == build.baseline["accuracy"]  # kept for next time
    assert actions(session_factory)[-2:] == ["model_train", "model_live"]
    assert holder(session_factory, TRAINING) is None
    assert holder(session_factory, SERVING) is None

    back = await server.rollback(None, username="editor")
    assert back.origin == "seed" and api.served == seed_model
    assert (ops_settings.models_dir / LIVE_LINK).resolve() == seed_model.resolve()
    with session_scope(session_factory) as session:
        assert session.get(ModelBuild, build.id).status == BuildStatus.STANDBY
        assert session.get(ModelBuild, back.id).status == BuildStatus.LIVE
    assert actions(session_factory)[-1] == "model_rollback"
    assert candidate.is_file()  # kept: one click brings it back
    again = await server.rollback(build.id, username="editor")
    assert again.id == build.id and api.served == candidate


async def test_a_clearly_worse_candidate_is_refused_and_the_live_model_stays(
    db, trainer, api, ops_settings, seed_model, fake_bin
):
    fake_bin.control(quality=0.5)
    first = await run_job(db, trainer)
    assert first.status == BuildStatus.REFUSED
    assert "kém hơn" in first.detail and "độ chính xác" in first.detail
    assert api.served == seed_model and api.loads == []
    assert not (ops_settings.models_dir / f"console-{first.id:04d}.tar.gz").exists()

    second = await run_job(db, trainer)  # the live model's scores are not measured again
    assert second.status == BuildStatus.REFUSED
    assert log_of(ops_settings, second).count("evaluate.py --model") == 1


async def test_invalid_training_data_fails_before_any_training(
    db, trainer, api, ops_settings, seed_model, fake_bin, session_factory
):
    fake_bin.control(valid=False)
    build = await run_job(db, trainer)
    assert build.status == BuildStatus.FAILED
    assert build.detail == "Dữ liệu huấn luyện không hợp lệ (xem nhật ký bên dưới)."
    log = log_of(ops_settings, build)
    assert "broken example" in log and "rasa train" not in log
    assert api.served == seed_model
    assert holder(session_factory, TRAINING) is None


async def test_a_failed_training_leaves_no_model_and_says_why(
    db, trainer, api, ops_settings, seed_model, fake_bin
):
    fake_bin.control(train_exit=2)
    build = await run_job(db, trainer)
    assert build.status == BuildStatus.FAILED
    assert build.detail.startswith("rasa train dừng với mã 2")
    assert not list(ops_settings.models_dir.glob("console-*"))
    assert api.served == seed_model


async def test_when_rasa_refuses_the_candidate_the_old_model_keeps_serving(
    db, trainer, api, ops_settings, seed_model, fake_bin, session_factory
):
    fake_bin.control(quality=0.95)
    api.refuse = True
    build = await run_job(db, trainer)
    assert build.status == BuildStatus.FAILED
    assert "Không nạp được vào Rasa" in build.detail and "Mô hình cũ vẫn đang chạy" in build.detail
    assert api.served == seed_model
    with session_scope(session_factory) as session:
        live = session.scalars(select(ModelBuild).where(ModelBuild.status == "live")).one()
        assert live.origin == "seed"
    assert holder(session_factory, SERVING) is None


async def wait_for(predicate, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_a_training_can_be_stopped_and_its_child_ends(
    db, trainer, api, ops_settings, seed_model, fake_bin, session_factory
):
    fake_bin.control(train_s=60)
    build_id = await db.run(lambda session: trainer.start(session, username="editor").id)
    job = asyncio.create_task(trainer.run(build_id))

    async def training() -> bool:
        build = await db.run(lambda session: session.get(ModelBuild, build_id))
        return build.status == BuildStatus.TRAINING and build.stage.startswith("Đang học:")

    await wait_for(training)  # the page shows the component and its progress
    assert await db.run(lambda session: trainer.cancel(session, build_id, username="b"))
    await asyncio.wait_for(job, 15)
    build = await db.run(lambda session: session.get(ModelBuild, build_id))
    assert build.status == BuildStatus.CANCELLED and build.detail == "Đã dừng theo yêu cầu."
    assert not (ops_settings.models_dir / f"console-{build_id:04d}.tar.gz").exists()
    assert api.served == seed_model
    assert holder(session_factory, TRAINING) is None


async def test_a_job_cut_by_the_app_stopping_ends_as_failed(db, trainer, fake_bin, session_factory):
    fake_bin.control(train_s=60)
    build_id = await db.run(lambda session: trainer.start(session, username="editor").id)
    trainer.launch(build_id)

    async def training() -> bool:
        build = await db.run(lambda session: session.get(ModelBuild, build_id))
        return build.status == BuildStatus.TRAINING

    await wait_for(training)
    await trainer.stop()
    build = await db.run(lambda session: session.get(ModelBuild, build_id))
    assert build.status == BuildStatus.FAILED and "Ứng dụng dừng" in build.detail
    assert holder(session_factory, TRAINING) is None


async def test_a_rollback_needs_an_earlier_model_and_no_other_swap(
    server, api, seed_model, session_factory, ops_settings
):
    with pytest.raises(Busy, match="Không còn mô hình trước"):
        await server.rollback(None, username="editor")
    earlier = write_model(ops_settings.models_dir / "console-0007.tar.gz", 0.9)
    with session_scope(session_factory) as session:
        session.add(ModelBuild(status="standby", origin="console", path=str(earlier)))
        locks.acquire(session, SERVING, "build:99", utcnow())  # a publish is swapping
    with pytest.raises(Busy, match="Đang đổi mô hình"):
        await server.rollback(None, username="editor")
    assert api.served == seed_model


def test_a_build_whose_process_died_is_marked_failed(session_factory):
    now = utcnow()
    with session_scope(session_factory) as session:
        dead = ModelBuild(status="training", created_by="a")
        alive = ModelBuild(status="evaluating", created_by="a")
        session.add_all([dead, alive])
        session.flush()
        locks.acquire(session, "training", f"build:{alive.id}", now)
        reap(session, now)
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
        assert pending_questions(session, None) == {"faq/fee": 2}
        assert pending_questions(session, live) == {"faq/fee": 1}


async def test_a_second_training_is_refused_while_one_runs(session_factory, trainer):
    with session_scope(session_factory) as session:
        first = trainer.start(session, username="a")
    with pytest.raises(Busy, match=f"#{first.id}"), session_scope(session_factory) as s:
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


def test_the_page_of_a_running_training_has_the_stop_button_and_it_stops(client, session_factory):
    with session_scope(session_factory) as session:
        build = ModelBuild(status="training", created_by="admin", stage="Đang học: DIETClassifier")
        session.add(build)
        session.flush()
        locks.acquire(session, locks.TRAINING, f"build:{build.id}", utcnow())
        build_id = build.id
    log_in(client, "admin", make_admin(session_factory))
    page = client.get(f"/admin/models/{build_id}")
    assert "Dừng huấn luyện" in page.text and 'data-status="training"' in page.text
    stop = client.post(
        f"/admin/models/{build_id}/cancel",
        data={"csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert stop.status_code == 303
    page = client.get(f"/admin/models/{build_id}")
    assert 'data-status="cancelling"' in page.text and "Dừng huấn luyện" not in page.text
    again = client.post(f"/admin/models/{build_id}/cancel", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 409  # already stopping


def _job(session_factory, trainer, tmp_path, status="training"):
    with session_scope(session_factory) as session:
        build = ModelBuild(status=status, created_by="a")
        session.add(build)
        session.flush()
        locks.acquire(session, locks.TRAINING, f"build:{build.id}", utcnow())
        build_id = build.id
    return _Job(build_id, f"build:{build_id}", tmp_path / "log.txt", tmp_path)


async def test_a_child_process_writes_to_the_job_log_and_keeps_the_lock(
    session_factory, trainer, tmp_path
):
    job = _job(session_factory, trainer, tmp_path)
    script = (
        "import time\nfor i in range(3):\n    print('step', i, flush=True)\n    time.sleep(0.3)"
    )
    code = await trainer._child(job, [sys.executable, "-c", script], cwd=tmp_path)
    assert code == 0
    assert "step 2" in job.log.read_text()
    with session_scope(session_factory) as session:
        assert locks.holder(session, locks.TRAINING, utcnow()) == job.owner


async def test_stopping_a_job_kills_its_child(session_factory, trainer, tmp_path):
    job = _job(session_factory, trainer, tmp_path)
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

    assert await scenario() is None  # stopped, not finished
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_progress_stream_sends_the_state_and_the_log_then_ends(
    client, session_factory, settings
):
    with session_scope(session_factory) as session:
        build = ModelBuild(status="refused", created_by="admin", detail="kém hơn")
        session.add(build)
        session.flush()
        build_id = build.id
    log = settings.training_dir / f"build-{build_id:04d}" / "log.txt"
    log.parent.mkdir(parents=True)
    log.write_text("$ rasa train --config config.yml\nEpochs: 100%|#| 40/40\n", encoding="utf-8")
    log_in(client, "admin", make_admin(session_factory))
    body = client.get(f"/admin/models/{build_id}/events").text
    first = json.loads(body.split("data: ", 1)[1].split("\n", 1)[0])
    assert first["status"] == "refused" and first["done"] is True
    assert first["log"] == ["$ rasa train --config config.yml", "Epochs: 100%|#| 40/40"]
    assert body.endswith("event: done\ndata: {}\n\n")
