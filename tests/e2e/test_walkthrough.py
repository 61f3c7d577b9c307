"""The guided walkthrough, end to end: real trained Rasa, action server and app."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.faq.models import ResponseTemplate
from bot.handoff.models import HandoffTicket
from bot.seed import WALKTHROUGH_FILE
from bot.walkthrough.flow import go_payload, load_flow

pytestmark = pytest.mark.e2e

FLOW = load_flow(PROJECT_ROOT / WALKTHROUGH_FILE)
NEXT = "Xong, bước tiếp"


class Citizen:
    """One web-chat user: types, presses buttons, remembers the last reply."""

    def __init__(self, stack):
        self.stack = stack
        self.sender = f"wt-{uuid.uuid4().hex[:12]}"
        self.reply: list[dict] = []

    def say(self, text: str) -> list[dict]:
        self.reply = self.stack.chat(self.sender, text)
        return self.reply

    def press(self, title: str) -> list[dict]:
        buttons = [b for m in self.reply for b in m["buttons"]]
        match = [b for b in buttons if b["title"] == title]
        assert match, f"no button {title!r} in {[b['title'] for b in buttons]}"
        return self.say(match[0]["payload"])

    def texts(self) -> list[str]:
        return [m["text"] for m in self.reply]


def text_of(stack, response: str) -> str:
    with session_scope(stack.session_factory) as session:
        return session.scalar(
            select(ResponseTemplate.text).where(ResponseTemplate.name == response)
        )


def step_text(stack, step: str) -> str:
    return text_of(stack, f"utter_wt_{step}")


def assert_at(citizen, step):
    assert citizen.texts()[-1] == step_text(citizen.stack, step), f"expected step {step}"


def test_not_registered_then_level_1_to_approval(stack):
    c = Citizen(stack)
    c.say("huong dan toi kich hoat tai khoan")
    assert_at(c, "where")
    c.press("Chưa đăng ký")
    assert_at(c, "checklist")
    c.press("Có đủ rồi")
    assert_at(c, "choose_level")
    c.press("Mức 1 tại nhà")
    for step in ("l1_install", "l1_start", "l1_scan", "l1_check", "l1_face", "l1_confirm"):
        assert_at(c, step)
        c.press(NEXT)
    assert_at(c, "waiting")


def test_not_registered_then_level_2_at_the_commune_police(stack):
    c = Citizen(stack)
    c.say("chi toi lam dinh danh tung buoc")
    c.press("Chưa đăng ký")
    c.press("Có đủ rồi")
    c.press("Mức 2 ở công an")
    assert_at(c, "l2_go")
    c.press("Đã đến nơi")
    assert_at(c, "l2_desk")
    c.press(NEXT)
    assert_at(c, "waiting")
    c.press("Đã nhận tin nhắn duyệt")
    assert_at(c, "act_open")


def test_approved_then_every_activation_step_to_done(stack):
    c = Citizen(stack)
    c.say("hướng dẫn kích hoạt VNeID")
    c.press("Đã có tin nhắn duyệt")
    for step in ("act_open", "act_id", "act_otp", "act_password", "act_passcode", "act_questions"):
        assert_at(c, step)
        c.press(NEXT)
    assert_at(c, "act_login")
    c.press("Đăng nhập được rồi")
    assert_at(c, "done")
    assert [b["payload"] for b in c.reply[-1]["buttons"]] == ["/show_menu"]


@pytest.mark.parametrize("step", [s for s, d in FLOW.steps.items() if d.fix])
def test_an_error_at_each_step_shows_its_fixes_then_retry(stack, step):
    c = Citizen(stack)
    c.say("huong dan kich hoat")
    c.say(go_payload(step))
    assert_at(c, step)
    c.press("Tôi bị lỗi ở bước này")
    assert c.texts()[-1] == text_of(stack, f"utter_wt_fix_{FLOW.step(step).fix}")
    assert [b["title"] for b in c.reply[-1]["buttons"]] == ["Thử lại", "Gặp cán bộ", "Dừng lại"]
    c.press("Thử lại")
    assert_at(c, step)


def test_a_question_in_the_middle_then_back_to_the_same_step(stack):
    c = Citizen(stack)
    c.say("huong dan kich hoat")
    c.say(go_payload("l1_scan"))
    c.say("mat khau vneid dat the nao cho dung")
    assert len(c.reply) == 2
    assert c.texts()[-1] == text_of(stack, "utter_wt_msg_offer_resume")
    c.press("Tiếp tục")
    assert_at(c, "l1_scan")


def test_free_text_numbers_and_no_diacritics_never_trap(stack):
    c = Citizen(stack)
    c.say("huong dan kich hoat")
    c.say("1")  # Chưa đăng ký
    assert_at(c, "checklist")
    c.say("co du roi")  # the label typed without diacritics
    assert_at(c, "choose_level")
    c.say("muc 1 tai nha")
    assert_at(c, "l1_install")
    c.say("xong roi")
    assert_at(c, "l1_start")
    c.say("bi loi")
    assert c.texts()[-1] == text_of(stack, "utter_wt_fix_generic")
    c.say("thu lai")
    assert_at(c, "l1_start")
    c.say("dung lai")
    assert c.texts()[-1] == text_of(stack, "utter_wt_msg_stopped")
    c.say("tiep tuc")
    assert_at(c, "l1_start")
    c.say("bat dau lai")
    assert_at(c, "where")


def test_progress_survives_a_restart_of_rasa_and_the_app(stack):
    c = Citizen(stack)
    c.say("huong dan kich hoat")
    c.say(go_payload("act_passcode"))
    assert_at(c, "act_passcode")
    stack.stack.restart(timeout=300)
    c.say("tiep tuc")
    assert_at(c, "act_passcode")
    c.press(NEXT)
    assert_at(c, "act_questions")


def test_officer_from_a_failed_step_knows_the_step(stack):
    c = Citizen(stack)
    c.say("huong dan kich hoat")
    c.say(go_payload("act_otp"))
    c.press("Tôi bị lỗi ở bước này")
    c.press("Gặp cán bộ")
    assert "Bạn ở xã, phường nào?" in c.texts()[-1]
    c.say("phuong le loi cu")
    c.press("Đúng")
    c.say("cho ma otp mai khong thay ve")
    c.press("Không cần gọi lại")
    assert "Mã yêu cầu của bạn: HT-" in c.texts()[-1]
    first_line = step_text(stack, "act_otp").strip().splitlines()[0]
    with session_scope(stack.session_factory) as session:
        ticket = session.scalar(
            select(HandoffTicket).where(HandoffTicket.sender == f"web:{c.sender}")
        )
        assert ticket.step == (first_line if len(first_line) <= 80 else first_line[:77] + "…")
        assert ticket.commune_label == "phường Đăk Bla, tỉnh Quảng Ngãi"


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("tôi nhận được tin nhắn phê duyệt rồi, hướng dẫn tôi kích hoạt từng bước", "act_open"),
        ("em nop ho so roi, dang doi duyet, chi em cach kich hoat voi", "waiting"),
    ],
)
def test_the_guide_starts_at_the_step_the_first_message_names(stack, text, step):
    c = Citizen(stack)
    c.say(text)
    assert_at(c, step)


def test_a_question_about_the_current_step_gets_its_rule_then_the_guide_resumes(stack):
    c = Citizen(stack)
    c.say("huong dan kich hoat")
    c.say(go_payload("act_password"))
    c.say("mật khẩu phải có bao nhiêu ký tự")
    assert c.texts() == [
        text_of(stack, "utter_wt_help_act_password"),
        step_text(stack, "act_password"),
    ]
    assert "8 đến 20" in c.texts()[0]
    c.press(NEXT)
    assert_at(c, "act_passcode")
