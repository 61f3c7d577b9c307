"""The custom Rasa graph components, run inside the Rasa environment."""

from __future__ import annotations

import numpy as np
import pytest

rasa = pytest.importorskip("rasa", reason="runs in the Rasa environment (make test-nlu)")

from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from nlu.router import RetrievalRouter  # noqa: E402
from nlu.tokenizer import VietnameseTokenizer  # noqa: E402


def make_tokenizer(**overrides):
    config = {**VietnameseTokenizer.get_default_config(), **overrides}
    return VietnameseTokenizer(config)


def lemmas(tokenizer, text):
    return [t.lemma for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


def test_tokenizer_lemmas_meet_with_and_without_diacritics():
    tok = make_tokenizer()
    assert lemmas(tok, "Kích hoạt tài khoản KO ĐC") == lemmas(tok, "kich hoat tk ko dc")
    assert lemmas(tok, "quên mk") == ["quen", "mat", "khau"]


def test_tokenizer_keeps_typed_text_and_spans():
    tok = make_tokenizer()
    tokens = tok.tokenize(Message(data={"text": "quên mk"}), "text")
    assert [(t.text, t.start, t.end) for t in tokens] == [
        ("quên", 0, 4),
        ("mk", 5, 7),
        ("mk", 5, 7),
    ]


def test_tokenizer_without_folding_keeps_diacritics():
    tok = make_tokenizer(fold_diacritics=False)
    assert lemmas(tok, "Kích hoạt") == ["kích", "hoạt"]


def test_tokenizer_gives_a_token_for_text_without_words():
    tok = make_tokenizer()
    tokens = tok.tokenize(Message(data={"text": "😀😀"}), "text")
    assert len(tokens) == 1
    assert tokens[0].text == "😀😀"


def test_tokenizer_processes_training_data_messages():
    tok = make_tokenizer()
    data = TrainingData([Message(data={"text": "otp ko về", "intent": "faq"})])
    tok.process_training_data(data)
    assert [t.lemma for t in data.training_examples[0].get("text_tokens")] == [
        "otp",
        "khong",
        "ve",
    ]


def test_tokenizer_can_train_on_copies_without_diacritics():
    data = TrainingData(
        [
            Message(
                data={"text": "Quên mật khẩu", "intent": "faq", "intent_response_key": "faq/x"}
            ),
            Message(data={"text": "otp ko ve", "intent": "faq", "intent_response_key": "faq/y"}),
        ]
    )
    assert len(make_tokenizer().process_training_data(data).intent_examples) == 2
    trained = make_tokenizer(fold_copies=True).process_training_data(data)
    examples = [(e.get("text"), e.get("intent_response_key")) for e in trained.intent_examples]
    # only the example typed with diacritics gets a copy, with the same labels
    assert sorted(examples) == [
        ("Quen mat khau", "faq/x"),
        ("Quên mật khẩu", "faq/x"),
        ("otp ko ve", "faq/y"),
    ]
    assert all(e.get("text_tokens") for e in trained.intent_examples)  # copies tokenized too


def trained_router(storage, context, threshold=0.4, ambiguity=0.0):
    resource = Resource("router")
    config = {
        **RetrievalRouter.get_default_config(),
        "threshold": threshold,
        "ambiguity_threshold": ambiguity,
    }
    router = RetrievalRouter.create(config, storage, resource, context)
    data = TrainingData(
        [
            Message(
                data={
                    "text": "otp ko ve",
                    "intent": "faq",
                    "intent_response_key": "faq/otp_not_received",
                }
            ),
            Message(
                data={
                    "text": "quen mk",
                    "intent": "faq",
                    "intent_response_key": "faq/forgot_password",
                }
            ),
            Message(data={"text": "chao", "intent": "greet"}),
        ]
    )
    router.train(data)
    return RetrievalRouter.load(config, storage, resource, context), config, resource


def parsed(text, intent, confidence, selected=None, selected_conf=0.0, runner_up=None):
    data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    if selected:
        data["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "confidence": selected_conf,
                    "intent_response_key": selected,
                    "utter_action": f"utter_{selected}",
                },
                "ranking": [
                    {"confidence": selected_conf, "intent_response_key": selected},
                    *([runner_up] if runner_up else []),
                ],
            },
        }
    return Message(data=data)


def test_router_routes_a_trained_payload(storage, context):
    router, _, _ = trained_router(storage, context)
    msg = parsed("/faq/forgot_password", "greet", 0.2)
    router.process([msg])
    assert msg.get("intent") == {"name": "faq", "confidence": 1.0}
    response = msg.get("response_selector")["faq"]["response"]
    assert response["intent_response_key"] == "faq/forgot_password"
    assert response["utter_action"] == "utter_faq/forgot_password"


def test_router_ignores_unknown_payload_keys(storage, context):
    router, _, _ = trained_router(storage, context)
    msg = parsed("/faq/not_a_topic", "greet", 0.9)
    router.process([msg])
    assert msg.get("intent")["name"] == "greet"


def test_router_falls_back_when_the_topic_is_unsure(storage, context):
    router, _, _ = trained_router(storage, context, threshold=0.4)
    unsure = parsed("otp?", "faq", 0.9, "faq/otp_not_received", 0.3)
    sure = parsed("otp ko ve", "faq", 0.9, "faq/otp_not_received", 0.8)
    router.process([unsure, sure])
    assert unsure.get("intent")["name"] == "nlu_fallback"
    assert unsure.get("intent_ranking")[0]["name"] == "nlu_fallback"
    assert sure.get("intent")["name"] == "faq"


def test_router_falls_back_when_two_topics_are_too_close(storage, context):
    router, _, _ = trained_router(storage, context, threshold=0.4, ambiguity=0.1)
    second = {"confidence": 0.45, "intent_response_key": "faq/forgot_password"}
    close = parsed("mk otp", "faq", 0.9, "faq/otp_not_received", 0.5, second)
    clear = parsed(
        "otp ko ve", "faq", 0.9, "faq/otp_not_received", 0.7, {**second, "confidence": 0.2}
    )
    router.process([close, clear])
    assert close.get("intent")["name"] == "nlu_fallback"
    assert clear.get("intent")["name"] == "faq"


def test_router_leaves_plain_intents_alone(storage, context):
    router, _, _ = trained_router(storage, context)
    msg = parsed("chao", "greet", 0.5)
    router.process([msg])
    assert msg.get("intent")["name"] == "greet"


def test_router_persists_its_keys(storage, context):
    _, config, resource = trained_router(storage, context)
    reloaded = RetrievalRouter.load(config, storage, resource, context)
    msg = parsed("/faq/otp_not_received", "greet", 0.2)
    reloaded.process([msg])
    assert msg.get("intent")["name"] == "faq"


def test_word_segmentation_adds_compound_words():
    pytest.importorskip("pyvi")
    tok = make_tokenizer(word_segmentation=True)
    found = lemmas(tok, "tài khoản định danh của tôi bị khóa")
    assert found[:8] == ["tai", "khoan", "dinh", "danh", "cua", "toi", "bi", "khoa"]
    assert "tai_khoan" in found[8:]


FEE = [
    "lệ phí làm định danh bao nhiêu tiền",
    "làm tài khoản có mất phí không",
    "phí kích hoạt là bao nhiêu",
]
LOCKED = ["tài khoản bị khóa rồi", "vneid báo khóa tài khoản", "bị khóa do nhập sai mật khẩu"]
GREET = ["xin chào", "chào bạn", "chào em nhé"]


def trained_opinion(storage, context, weight=0.5):
    from nlu.blend import SecondOpinion

    resource = Resource("opinion")
    config = {**SecondOpinion.get_default_config(), "weight": weight}
    examples = (
        [Message(data={"text": t, "intent": "faq", "intent_response_key": "faq/fee"}) for t in FEE]
        + [
            Message(data={"text": t, "intent": "faq", "intent_response_key": "faq/locked"})
            for t in LOCKED
        ]
        + [Message(data={"text": t, "intent": "greet"}) for t in GREET]
    )
    SecondOpinion.create(config, storage, resource, context).train(TrainingData(examples))
    return SecondOpinion.load(config, storage, resource, context)


def unsure_parse(text):
    message = Message(data={"text": text})
    message.set("intent", {"name": "greet", "confidence": 0.6})
    message.set(
        "intent_ranking",
        [{"name": "greet", "confidence": 0.6}, {"name": "faq", "confidence": 0.4}],
    )
    ranking = [
        {"id": 1, "confidence": 0.7, "intent_response_key": "faq/locked"},
        {"id": 2, "confidence": 0.3, "intent_response_key": "faq/fee"},
    ]
    selected = {**ranking[0], "utter_action": "utter_faq/locked", "responses": [{"text": "x"}]}
    message.set(
        "response_selector",
        {"all_retrieval_intents": ["faq"], "faq": {"response": selected, "ranking": ranking}},
    )
    return message


def opinion_of(opinion, text):
    probabilities = opinion._model.predict_proba([text])[0]
    return dict(zip(opinion._model.classes_, probabilities, strict=True))


def test_second_opinion_is_averaged_into_the_intent_and_the_topic(storage, context):
    opinion = trained_opinion(storage, context)  # loaded back from the model storage
    text = "phí làm định danh là bao nhiêu"
    mine = opinion_of(opinion, text)
    assert max(mine, key=mine.get) == "faq/fee"
    message = unsure_parse(text)
    opinion.process([message])
    intent = message.get("intent")
    assert intent["name"] == "faq"
    ranking = {r["name"]: r["confidence"] for r in message.get("intent_ranking")}
    # each confidence is half DIET's, half the linear model's
    assert ranking["faq"] == pytest.approx(0.5 * 0.4 + 0.5 * (1 - mine["greet"]))
    response = message.get("response_selector")["faq"]["response"]
    assert (response["intent_response_key"], response["utter_action"]) == (
        "faq/fee",
        "utter_faq/fee",
    )
    assert response["responses"] == []  # the texts of another topic are not carried over
    topics = [r["intent_response_key"] for r in message.get("response_selector")["faq"]["ranking"]]
    assert topics == ["faq/fee", "faq/locked"]


@pytest.mark.parametrize(
    "text", ["tai khoan bi khoa roi phai lam sao", "TÀI KHOẢN BỊ KHÓA rồi", "tk bi khoa"]
)
def test_second_opinion_reads_text_typed_with_or_without_diacritics(storage, context, text):
    # trained on text with diacritics only; a copy without them is added in training, and
    # teencode ("tk") is expanded before the n-grams are counted
    mine = opinion_of(trained_opinion(storage, context), text)
    assert max(mine, key=mine.get) == "faq/locked"
    assert sum(mine.values()) == pytest.approx(1.0)


def test_second_opinion_with_no_weight_leaves_the_parse_alone(storage, context):
    opinion = trained_opinion(storage, context, weight=0.0)
    message = unsure_parse("phí làm định danh là bao nhiêu")
    opinion.process([message])
    assert message.get("intent")["name"] == "greet"
    assert message.get("response_selector")["faq"]["response"]["intent_response_key"] == (
        "faq/locked"
    )


def test_second_opinion_fast_scores_equal_sklearns(storage, context):
    # the hand-written path of a message must give what the vectorizers and the SVM give
    opinion = trained_opinion(storage, context)._model
    texts = [
        *FEE,
        *LOCKED,
        "tk bi khoa, phi mo khoa bao nhieu?",
        "Xin chào, tài khoản của tôi bị khóa",
        "zzz qqq",  # nothing known: the intercepts alone
        "",
    ]
    reference = opinion.svm.decision_function(opinion._matrix(texts, fit=False))
    fast = np.vstack([opinion._scores(t) for t in texts])
    np.testing.assert_allclose(fast, reference, rtol=1e-9, atol=1e-12)
