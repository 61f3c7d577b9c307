"""The FAQ content and training data: complete, consistent, safe."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.faq import content
from bot.faq.schemas import PART_MAX, part_problems, split_parts
from bot.seed import WALKTHROUGH_FILE
from bot.walkthrough.content import walkthrough_responses
from bot.walkthrough.flow import load_flow
from nlu.text import fold

REQUIRED_KEYS = [
    "what_is_ddt",
    "why_need_with_cccd",
    "benefits",
    "is_mandatory",
    "levels_difference",
    "register_level1",
    "register_level2",
    "requirements",
    "fee",
    "children",
    "foreigners",
    "no_chip_card",
    "approval_time",
    "check_status",
    "otp_not_received",
    "phone_number_issue",
    "forgot_password",
    "forgot_passcode",
    "new_device",
    "lost_phone",
    "account_locked",
    "invalid_info",
    "nfc_scan_error",
    "face_not_recognized",
    "no_smartphone",
    "integrate_documents",
    "use_instead_of_card",
    "online_public_services",
    "scam_warning",
    "download_app",
    "data_privacy",
    "merger_changes",
    "campaign_info",
]
PLAIN_INTENTS = [
    "greet",
    "goodbye",
    "thank",
    "bot_challenge",
    "out_of_scope",
    "activation_guide",
    "request_handoff",
    "handoff_status",
    "commune_lookup",
]
# Topics that explain rather than ask the citizen to do something; every other
# answer must give the in-person route.
NO_ACTION = {
    "what_is_ddt",
    "why_need_with_cccd",
    "benefits",
    "is_mandatory",
    "data_privacy",
    "fee",
    "foreigners",
}


@pytest.fixture(scope="module")
def topics():
    return content.load_topics(PROJECT_ROOT / "data" / "faq")


@pytest.fixture(scope="module")
def plain_examples():
    doc = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / "intents.yml").read_text("utf-8"))
    return {
        item["intent"]: [
            line[2:] for line in item["examples"].splitlines() if line.startswith("- ")
        ]
        for item in doc["nlu"]
    }


@pytest.fixture(scope="module")
def eval_items():
    return yaml.safe_load((PROJECT_ROOT / "tests" / "eval" / "questions.yml").read_text("utf-8"))


def test_every_required_topic_exists(topics):
    assert set(REQUIRED_KEYS) <= {t.key for t in topics}


def test_every_label_has_at_least_15_distinct_questions(topics, plain_examples):
    counts = {f"faq/{t.key}": len({fold(q.lower()) for q in t.questions}) for t in topics}
    counts |= {i: len({fold(q.lower()) for q in plain_examples[i]}) for i in PLAIN_INTENTS}
    assert min(counts.values()) >= 15, {k: v for k, v in counts.items() if v < 15}


def test_button_titles_fit_on_a_phone(topics):
    assert all(len(t.title) <= 28 for t in topics)


def test_answers_are_short_and_plain(topics):
    for t in topics:
        for part in split_parts(t.answer):  # one screen each, the rest behind "Xem thêm"
            assert len(part.text) <= PART_MAX, (t.key, part.title, len(part.text))
        assert "<" not in t.answer and "**" not in t.answer, t.key


def test_every_bot_text_fits_one_screen():
    responses = content.load_domain_responses(PROJECT_ROOT / "domain.yml")
    responses |= walkthrough_responses(load_flow(PROJECT_ROOT / WALKTHROUGH_FILE))
    for name, response in responses.items():
        assert len(response.text) <= PART_MAX, (name, len(response.text))


def test_parts_split_on_their_button_lines():
    parts = split_parts("Ngắn gọn.\n--- Các bước\n1. Một\n2. Hai\n---\nThêm nữa.")
    assert [(p.title, p.text) for p in parts] == [
        ("", "Ngắn gọn."),
        ("Các bước", "1. Một\n2. Hai"),
        ("Xem thêm", "Thêm nữa."),
    ]
    assert part_problems("x" * 451)
    assert part_problems("a\n--- b\n\n--- c\nd")  # an empty part
    assert part_problems("a\n--- b\nc\n--- d\ne\n--- f\ng")  # four parts
    assert part_problems("a\n--- " + "n" * 31 + "\nb")  # a label that does not fit a button
    assert not part_problems("a\n--- b\nc")


def test_answers_never_send_people_to_district_police(topics):
    for t in topics:
        assert "công an huyện" not in t.answer.lower(), t.key


def test_answers_never_ask_for_secrets(topics):
    asking = re.compile(
        r"(gửi|cho|đọc|nhập|cung cấp)( cho)? (tôi|chúng tôi|trợ lý|bot) (mã|mật khẩu|passcode)"
    )
    for t in topics:
        assert not asking.search(t.answer.lower()), t.key


def test_action_answers_give_the_in_person_route(topics):
    for t in topics:
        if t.key in NO_ACTION:
            continue
        text = t.answer.lower()
        assert "công an xã" in text or "công an cấp xã" in text or "xuất nhập cảnh" in text, t.key


def test_answers_are_current_for_2026(topics):
    joined = " ".join(t.answer for t in topics)
    assert "59/2022" not in joined or "69/2024" in joined
    merger = next(t for t in topics if t.key == "merger_changes")
    assert "Quảng Ngãi" in merger.answer or "sáp nhập" in merger.answer.lower()


def test_generated_nlu_file_is_current(topics):
    rendered = content.render_nlu_file(topics)
    assert (PROJECT_ROOT / "data" / "nlu" / "faq.yml").read_text("utf-8") == rendered


def test_evaluation_file_is_valid_and_large_enough(eval_items):
    labels = {f"faq/{k}" for k in REQUIRED_KEYS} | set(PLAIN_INTENTS)
    assert len(eval_items) >= 150
    assert all(set(item) == {"text", "label"} for item in eval_items)
    assert {item["label"] for item in eval_items} <= labels
    assert {item["label"] for item in eval_items} == labels


def test_evaluation_questions_are_not_training_questions(topics, plain_examples, eval_items):
    def key(text):
        return " ".join(fold(text.lower()).split()).strip(" ?.!")

    training = {key(q) for t in topics for q in t.questions}
    training |= {key(q) for qs in plain_examples.values() for q in qs}
    leaked = [i["text"] for i in eval_items if key(i["text"]) in training]
    assert leaked == []
