"""nlu/serving.py: Rasa's NLG callback and action checks, cheaper but the same (Rasa env)."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

rasa = pytest.importorskip("rasa", reason="runs in the Rasa environment (make test-nlu)")

from aiohttp import web  # noqa: E402
from jsonschema import ValidationError  # noqa: E402
from rasa.core.actions.action import RemoteAction  # noqa: E402
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402
from rasa.utils.endpoints import ClientResponseError, EndpointConfig  # noqa: E402
from rasa.utils.train_utils import create_data_generators  # noqa: E402

from nlu import serving  # noqa: E402


def test_action_results_are_still_validated():
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [], "responses": []})
    with pytest.raises(ValidationError, match="Action server response"):
        action._validate_action_result({"events": "not a list"})


def test_event_classes_resolve_as_before():
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("no such event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event"):
        Event.resolve_by_type("no such event")


async def serve(handler):
    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def test_nlg_sends_the_state_without_the_events_over_one_connection():
    bodies, peers = [], set()

    async def nlg(request):
        bodies.append(await request.json())
        peers.add(request.transport.get_extra_info("peername"))
        return web.json_response({"text": "Chào bạn", "buttons": []})

    async def go():
        runner, url = await serve(nlg)
        try:
            generator = serving.AppNLG(EndpointConfig(url=f"{url}/nlg"))
            tracker = DialogueStateTracker.from_events(
                "web:a",
                [
                    ActionExecuted("action_listen"),
                    UserUttered("xin chào", {"name": "greet", "confidence": 1.0}),
                ],
            )
            replies = [
                await generator.generate("utter_greet", tracker, "rest", code="HT-1")
                for _ in range(3)
            ]
            await generator._session.close()
            return replies
        finally:
            await runner.cleanup()

    replies = asyncio.run(go())
    assert replies[0]["text"] == "Chào bạn"
    body = bodies[0]
    assert body["response"] == "utter_greet" and body["arguments"] == {"code": "HT-1"}
    assert body["tracker"]["sender_id"] == "web:a"
    assert body["tracker"]["latest_message"]["text"] == "xin chào"
    assert body["tracker"].get("events") is None  # the conversation is not sent each time
    assert len(json.dumps(body)) < 3000
    assert len(peers) == 1  # one kept-alive connection


def test_endpoint_requests_keep_rasas_errors():
    async def refuse(request):
        return web.json_response({"error": "no"}, status=400)

    async def go():
        runner, url = await serve(refuse)
        try:
            with pytest.raises(ClientResponseError) as caught:
                await EndpointConfig(url=f"{url}/webhook").request(json={"x": 1})
            return caught.value.status
        finally:
            await runner.cleanup()

    assert asyncio.run(go()) == 400


def test_diet_predicts_the_same_through_the_graph_called_directly(storage, context):
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlu.tokenizer import VietnameseTokenizer

    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("cv"), context
    )
    config = {**DIETClassifier.get_default_config(), "epochs": 3, "random_seed": 1}
    config.update(entity_recognition=False, number_of_transformer_layers=0)
    diet = DIETClassifier.create(config, storage, Resource("diet"), context)
    texts = {
        "greet": ["xin chào", "chào bạn", "alo ad ơi"],
        "activate": ["kích hoạt tài khoản", "cách kích hoạt vneid", "kich hoat muc 2"],
        "otp": ["không nhận được otp", "otp không về", "chua nhan ma otp"],
    }
    data = TrainingData(
        [Message(data={"text": t, "intent": i}) for i, ts in texts.items() for t in ts]
    )
    tokenizer.process_training_data(data)
    featurizer.train(data)
    featurizer.process_training_data(data)
    diet.train(data)

    def batch(text):
        message = Message(data={"text": text})
        tokenizer.process([message])
        featurizer.process([message])
        model_data = diet._create_model_data([message], training=False)
        generator, _ = create_data_generators(model_data, 1, 1, False)
        return next(iter(generator))[0]

    model = diet.model
    for text in ["kich hoat the nao", "xin chào ad", "otp ko ve", "chưa nhận mã"]:
        expected = serving._traced_predict(model, batch(text))  # Rasa's own path
        got = model._rasa_predict(batch(text))
        assert "_vneid_graph" in model.__dict__  # the graph is called directly
        assert_same(got, expected)


def assert_same(got, expected):
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys()
        for key in expected:
            assert_same(got[key], expected[key])
    elif expected is None or isinstance(expected, (str, bytes)):
        assert got == expected
    else:
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-6)
