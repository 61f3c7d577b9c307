"""Train and publish from the console, in headless Chromium, against the real stack.

One real `rasa train` in the Rasa environment, real evaluation on the held-out file, real
hot swap (`PUT /model`) into the running Rasa server while a citizen chats, then a real
rollback. Slow (a few minutes): the tests run in order and share what was trained. The
other ends of a job (refused, stopped, failed, Rasa refusing the model) run on a fake Rasa
in tests/bot/modelops/test_jobs.py.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import delete, select

from bot.analytics.models import TrainingQuestion
from bot.chat import messages
from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.faq.models import FaqEntry
from bot.modelops.models import ModelBuild
from tests.auxil.browser import logged_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

KEY = "gio_lam_viec"
ANSWER = (
    "Giờ tiếp dân của Công an xã khác nhau theo từng nơi. Bạn gọi số trực ban của "
    "Công an xã để hỏi trước, rồi mang thẻ căn cước và điện thoại có SIM đứng tên mình."
)
QUESTIONS = [
    "công an xã làm việc mấy giờ",
    "cong an xa lam viec may gio",
    "mấy giờ công an xã mở cửa tiếp dân",
    "thu bay cong an xa co lam viec khong",
    "chủ nhật công an xã có làm việc không",
    "giờ hành chính của công an xã là mấy giờ",
    "cong an xa nghi trua luc may gio",
    "buổi chiều công an xã mấy giờ thì đóng cửa",
    "công an xã mở cửa lúc mấy giờ",
    "sang may gio thi cong an xa bat dau lam viec",
    "giờ tiếp dân của công an xã",
    "cuoi tuan co len cong an xa lam giay to duoc khong",
]  # as the topic page advises: ten or more, in several wordings, with and without diacritics
ASK = "may gio thi cong an xa mo cua vay"  # not one of QUESTIONS
# one more question for an existing topic, added on its page
FEE_QUESTION = "lam cai dinh danh nay co ton dong nao khong"
ACTIVE = ("validating", "training", "evaluating", "publishing", "cancelling")
TRAIN_TIMEOUT_MS = 15 * 60 * 1000


def served(stack) -> str:
    """The file name of the model Rasa serves now."""
    response = httpx.get(f"{stack.rasa_url}/status", params={"token": stack.token}, timeout=30)
    response.raise_for_status()
    return Path(response.json()["model_file"]).name


def wait_until_finished(page: Page) -> str:
    """Wait for the build page to show a final status (the page reloads when it ends)."""
    page.wait_for_function(
        f"() => {{ const s = document.querySelector('#status'); "
        f"return s && !{list(ACTIVE)!r}.includes(s.dataset.status); }}",
        timeout=TRAIN_TIMEOUT_MS,
        polling=1000,
    )
    return page.get_attribute("#status", "data-status") or ""


def csrf(page: Page) -> str:
    return page.input_value("form[action='/admin/logout'] input[name=csrf]")


class Chatter(threading.Thread):
    """A citizen who keeps chatting while the model is trained and swapped."""

    def __init__(self, stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.stop = threading.Event()
        self.replies: list[tuple[float, str]] = []
        self.errors: list[str] = []

    def run(self) -> None:
        sender = f"chatter-{uuid.uuid4().hex[:6]}"
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                text = self.stack.chat(sender, "xin chao")[0]["text"]
                self.replies.append((time.monotonic() - start, text))
            except (httpx.HTTPError, AssertionError) as exc:
                self.errors.append(repr(exc))
            self.stop.wait(1.0)


@pytest.fixture(scope="module")
def seed_model(stack):
    """The model the stack started with; served again (and console data removed) at the end."""
    name = served(stack)
    yield name
    if served(stack) != name:
        httpx.put(
            f"{stack.rasa_url}/model",
            params={"token": stack.token},
            json={"model_file": str(PROJECT_ROOT / "models" / name)},
            timeout=600,
        ).raise_for_status()
    with session_scope(stack.session_factory) as session:
        session.execute(delete(TrainingQuestion))
        session.execute(delete(FaqEntry).where(FaqEntry.key == KEY))


def start_training(page: Page, stack) -> int:
    page.goto(f"{stack.app_url}/admin/models")
    with page.expect_navigation():
        page.click("#train")
    found = re.search(r"/admin/models/(\d+)$", page.url)
    assert found, f"{page.url}: {page.inner_text('main')}"
    return int(found.group(1))


def test_new_topic_and_question_are_trained_and_published(browser, stack, admin, seed_model):
    citizen = f"tp-{uuid.uuid4().hex[:6]}"
    assert stack.chat(citizen, ASK)[0]["text"] != ANSWER  # the live model does not know it

    page = logged_in(browser, stack, admin)
    page.goto(f"{stack.app_url}/admin/topics/new")
    page.fill("#key", KEY)
    page.fill("#title", "Giờ làm việc Công an xã")
    page.fill("#answer", ANSWER)
    page.fill("#questions", "\n".join(QUESTIONS))
    page.click("text=Tạo chủ đề")
    page.wait_for_url(f"**/admin/faq/{KEY}?saved=1")
    page.goto(f"{stack.app_url}/admin/faq/fee")
    page.fill("#new-questions", FEE_QUESTION)
    page.click("#add-questions button[type=submit]")
    page.wait_for_selector("text=Đã thêm 1 câu")

    with session_scope(stack.session_factory) as session:
        fee = session.query(TrainingQuestion).filter_by(label="faq/fee").count()
    page.goto(f"{stack.app_url}/admin/models")
    assert page.locator(f"text=faq/gio_lam_viec × {len(QUESTIONS)}").count() == 1
    assert page.locator("#thin").count() == 0  # enough questions: no warning
    assert page.locator(f"text=faq/fee × {fee}").count() == 1
    shoot(page, "models-before-training")

    chatter = Chatter(stack)
    chatter.start()
    build_id = start_training(page, stack)
    # the page follows the job as it runs (server-sent events)
    page.wait_for_selector("#stage:has-text('Đang học')", timeout=TRAIN_TIMEOUT_MS)
    assert int(page.get_attribute("#bar", "value") or 0) >= 5
    shoot(page, "model-training")
    # one job at a time: a second start is refused while this one runs
    again = page.request.post(f"{stack.app_url}/admin/models/train", form={"csrf": csrf(page)})
    assert again.status == 409
    assert "Đang có một lần huấn luyện" in again.text()

    status = wait_until_finished(page)
    chatter.stop.set()
    chatter.join(60)
    assert status == "live", page.inner_text("#detail") + page.inner_text("#log")
    shoot(page, "model-published")
    assert page.locator("#scores").count() == 1
    full = page.request.get(f"{stack.app_url}/admin/models/{build_id}/log.txt")
    assert full.status == 200 and "$ rasa train --config config.yml" in full.text()

    # Rasa now serves the new model, and the chat knows the new topic
    assert served(stack) == f"console-{build_id:04d}.tar.gz"
    assert stack.chat(citizen, ASK)[0]["text"] == ANSWER
    # chatting never stopped: every message answered, none told "busy, try later"
    assert not chatter.errors, chatter.errors
    assert len(chatter.replies) >= 30
    assert all(text != messages.BUSY.text for _, text in chatter.replies)
    slowest = max(seconds for seconds, _ in chatter.replies)
    print(f"chat turns during training and swap: {len(chatter.replies)}, slowest {slowest:.1f} s")
    page.close()


def test_rollback_serves_the_previous_model(browser, stack, admin, seed_model):
    assert served(stack).startswith("console-")
    page = logged_in(browser, stack, admin)
    page.goto(f"{stack.app_url}/admin/models")
    page.click("#rollback")
    page.wait_for_selector("text=Đã quay lại mô hình")
    shoot(page, "models-after-rollback")
    assert served(stack) == seed_model
    assert stack.chat(f"rb-{uuid.uuid4().hex[:6]}", ASK)[0]["text"] != ANSWER
    with session_scope(stack.session_factory) as session:
        live = session.scalars(select(ModelBuild).where(ModelBuild.status == "live")).one()
        assert live.origin == "seed"
        standby = session.scalars(select(ModelBuild).where(ModelBuild.status == "standby")).one()
        assert standby.origin == "console"  # kept: one click brings it back
    page.close()
