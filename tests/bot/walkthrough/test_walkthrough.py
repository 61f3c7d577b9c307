"""The walkthrough flow: definition, transitions, texts and the Rasa action."""

from __future__ import annotations

import re

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import ActionWalkthrough
from bot.config import PROJECT_ROOT
from bot.seed import WALKTHROUGH_FILE
from bot.walkthrough.content import walkthrough_responses
from bot.walkthrough.flow import go_payload, load_flow, to_mermaid
from bot.walkthrough.service import Move, State, advance, fix_response, message_response


@pytest.fixture(scope="module")
def flow():
    return load_flow(PROJECT_ROOT / WALKTHROUGH_FILE)


def walk(flow, moves, state=None):
    state = state or State()
    seen = []
    for move, target in moves:
        outcome = advance(flow, state, move, target)
        seen.append(outcome.responses)
        state = outcome.state
    return seen, state


def test_mermaid_diagram_is_current(flow):
    committed = (PROJECT_ROOT / "data" / "walkthrough.mmd").read_text(encoding="utf-8")
    assert committed == to_mermaid(flow), "run `python -m bot walkthrough-diagram`"


def test_every_step_is_reachable_from_the_start(flow):
    reached, todo = set(), [flow.start]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        todo.extend(b.next for b in flow.step(name).buttons if b.next)
    assert reached == set(flow.steps)


def test_every_step_has_a_way_out(flow):
    for name in flow.steps:
        payloads = [b.rendered_payload for b in flow.buttons(name)]
        assert "/wt_stop" in payloads or "/show_menu" in payloads, name


def test_level_1_path_from_the_start_to_done(flow):
    moves = [
        (Move.START, None),
        (Move.GO, "checklist"),
        (Move.GO, "choose_level"),
        (Move.GO, "l1_install"),
    ]
    moves += [(Move.NEXT, None)] * 6  # l1_start .. l1_confirm -> waiting
    moves += [(Move.GO, "act_open")] + [(Move.NEXT, None)] * 6 + [(Move.GO, "done")]
    seen, state = walk(flow, moves)
    assert [r[0] for r in seen][:4] == [
        "utter_wt_where",
        "utter_wt_checklist",
        "utter_wt_choose_level",
        "utter_wt_l1_install",
    ]
    assert seen[9] == ["utter_wt_waiting"]
    assert seen[-1] == ["utter_wt_done"]
    assert state == State(step="done", active=False)


def test_an_error_shows_the_fix_of_the_step_and_retry_returns_to_it(flow):
    start = State(step="act_otp", active=True)
    outcome = advance(flow, start, Move.ERROR)
    assert outcome.responses == [fix_response("otp")]
    assert outcome.state.error_step == "act_otp"
    again = advance(flow, outcome.state, Move.RESUME)
    assert again.responses == ["utter_wt_act_otp"]
    assert again.state.error_step is None


@pytest.mark.parametrize(
    ("step", "fix"),
    [("l1_scan", "nfc"), ("l1_face", "face"), ("act_password", "password"), ("act_id", "invalid")],
)
def test_errors_map_to_the_right_fixes(flow, step, fix):
    assert advance(flow, State(step=step, active=True), Move.ERROR).responses == [fix_response(fix)]


def test_stop_keeps_the_step_and_resume_returns_to_it(flow):
    stopped = advance(flow, State(step="l1_face", active=True), Move.STOP)
    assert stopped.responses == [message_response("stopped")]
    assert stopped.state == State(step="l1_face", active=False)
    assert advance(flow, stopped.state, Move.RESUME).responses == ["utter_wt_l1_face"]


def test_starting_again_in_the_middle_asks_before_losing_the_place(flow):
    middle = State(step="act_passcode", active=True)
    assert advance(flow, middle, Move.START).responses == [message_response("in_progress")]
    assert advance(flow, middle, Move.RESTART).state.step == flow.start


def test_moves_before_starting_explain_how_to_start(flow):
    for move in (Move.NEXT, Move.ERROR, Move.RESUME, Move.STOP):
        assert advance(flow, State(), move).responses == [message_response("not_started")]


def test_a_question_in_the_middle_offers_the_way_back_only_when_active(flow):
    assert advance(flow, State(step="l1_scan", active=True), Move.OFFER).responses == [
        message_response("offer_resume")
    ]
    assert advance(flow, State(step="l1_scan", active=False), Move.OFFER).responses == []


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("tôi nhận được tin nhắn phê duyệt rồi, hướng dẫn tôi kích hoạt từng bước", "act_open"),
        ("da co tin nhan duyet roi, chi toi kich hoat", "act_open"),
        ("đăng ký mức 2 hôm thứ hai mà chưa được duyệt, giờ làm gì", "waiting"),
        ("toi dang cho duyet ho so", "waiting"),
        ("tôi chưa đăng ký gì, chỉ từ đầu giúp", "checklist"),
        ("ba toi dung dien thoai cuc gach thi kich hoat the nao", "no_smartphone"),
        ("không có điện thoại thông minh có kích hoạt được không", "no_smartphone"),
    ],
)
def test_the_first_message_names_the_step_to_start_at(flow, text, step):
    assert flow.entry(text) == step
    assert advance(flow, State(), Move.START, flow.entry(text)).responses == [f"utter_wt_{step}"]


@pytest.mark.parametrize(
    "text", ["hướng dẫn kích hoạt", "chi toi lam dinh danh", "/activation_guide"]
)
def test_a_first_message_naming_no_step_asks_where_they_are(flow, text):
    assert flow.entry(text) is None
    assert advance(flow, State(), Move.START, None).responses == ["utter_wt_where"]


def test_a_named_step_wins_over_the_place_in_progress(flow):
    middle = State(step="waiting", active=True)
    assert advance(flow, middle, Move.START, "act_open").responses == ["utter_wt_act_open"]


@pytest.mark.parametrize(
    ("step", "topic"),
    [
        ("act_password", "forgot_password"),
        ("act_passcode", "forgot_passcode"),
        ("act_otp", "otp_not_received"),
        ("l1_scan", "nfc_scan_error"),
        ("waiting", "approval_time"),
    ],
)
def test_a_question_about_the_step_gets_its_rule_then_the_step(flow, step, topic):
    state = State(step=step, active=True)
    outcome = advance(flow, state, Move.ASK, topic)
    assert outcome.responses == [f"utter_wt_help_{step}", f"utter_wt_{step}"]
    assert outcome.state == state


def test_another_question_gets_its_answer_and_the_way_back(flow):
    state = State(step="act_password", active=True)
    outcome = advance(flow, state, Move.ASK, "fee")
    assert outcome.responses == ["utter_faq/fee", message_response("offer_resume")]
    # a topic button pressed at the step is answered as chosen, not with the step's rule
    pressed = advance(flow, state, Move.TOPIC, "forgot_password")
    assert pressed.responses == ["utter_faq/forgot_password", message_response("offer_resume")]


def test_every_about_topic_exists_and_every_help_is_seeded(flow):
    from bot.faq.content import load_topics

    topics = {t.key for t in load_topics(PROJECT_ROOT / "data" / "faq")}
    responses = walkthrough_responses(flow)
    for step in flow.steps.values():
        assert set(step.about) <= topics, step.name
        if step.help:
            assert responses[step.help_response].text == step.help


def test_unknown_target_shows_the_current_step(flow):
    assert advance(flow, State(step="l1_scan", active=True), Move.GO, "gone").responses == [
        "utter_wt_l1_scan"
    ]


SECRET_REQUEST = re.compile(
    r"(gửi|cho|đọc|nhắn|nhập)( cho)? (tôi|chúng tôi|trợ lý|bot|cán bộ)[^.]*(otp|mật khẩu|passcode|số căn cước)",
    re.IGNORECASE,
)


def test_no_text_asks_for_secrets_and_buttons_fit(flow):
    responses = walkthrough_responses(flow)
    for name, response in responses.items():
        assert not SECRET_REQUEST.search(response.text), name
        assert len(response.text) <= 600, name
        for button in response.buttons:
            assert len(button.title) <= 32, (name, button.title)
            assert len(button.payload.encode()) <= 64, (
                name,
                button.payload,
            )  # Telegram callback_data


def test_go_payload_is_a_rasa_intent_with_entity():
    assert go_payload("act_otp") == '/wt_go{"wt_target":"act_otp"}'


def tracker(intent, slots, entities=(), text="...", topic=None):
    latest = {"intent": {"name": intent}, "entities": list(entities), "text": text}
    if topic:
        latest["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{topic}"}}}
    return Tracker("web:t", slots, latest, [], False, None, {}, "action_listen")


async def test_action_moves_the_flow_and_stores_the_step():
    dispatcher = CollectingDispatcher()
    events = await ActionWalkthrough().run(
        dispatcher,
        tracker(
            "wt_go",
            {"wt_step": "where", "wt_active": True},
            [{"entity": "wt_target", "value": "checklist"}],
        ),
        {},
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_wt_checklist"]
    assert {e["name"]: e["value"] for e in events} == {
        "wt_step": "checklist",
        "wt_active": True,
        "wt_error_step": None,
    }


async def run_action(intent, slots, **latest):
    dispatcher = CollectingDispatcher()
    events = await ActionWalkthrough().run(dispatcher, tracker(intent, slots, **latest), {})
    return [m["response"] for m in dispatcher.messages], {e["name"]: e["value"] for e in events}


async def test_action_answers_a_question_mid_guide_and_offers_the_way_back():
    slots = {"wt_step": "l1_scan", "wt_active": True}
    said, events = await run_action("faq", slots, text="le phi bao nhieu", topic="fee")
    assert said == ["utter_faq/fee", "utter_wt_msg_offer_resume"]
    assert events["wt_step"] == "l1_scan"


async def test_action_answers_a_question_about_the_step_with_its_rule():
    slots = {"wt_step": "act_password", "wt_active": True}
    text = "mật khẩu phải có bao nhiêu ký tự"
    said, events = await run_action("faq", slots, text=text, topic="forgot_password")
    assert said == ["utter_wt_help_act_password", "utter_wt_act_password"]
    assert events == {"wt_step": "act_password", "wt_active": True, "wt_error_step": None}
    pressed = await run_action("faq", slots, text="/faq/forgot_password", topic="forgot_password")
    assert pressed[0] == ["utter_faq/forgot_password", "utter_wt_msg_offer_resume"]


async def test_action_starts_where_the_first_message_says():
    text = "tôi nhận được tin nhắn phê duyệt rồi, hướng dẫn tôi kích hoạt từng bước"
    said, events = await run_action("activation_guide", {}, text=text)
    assert said == ["utter_wt_act_open"]
    assert events["wt_step"] == "act_open"
