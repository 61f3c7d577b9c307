"""Console additions (new topics, assigned questions) merged into a valid Rasa workspace."""

from __future__ import annotations

import pytest
import yaml

from bot.analytics.models import TrainingQuestion
from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.faq.service import render_response
from bot.modelops import workspace as training


def test_a_new_topic_and_assigned_questions_make_a_valid_workspace(session_factory, tmp_path):
    with session_scope(session_factory) as session:
        training.create_topic(
            session,
            key="doi_ten",
            title="Đổi họ tên trên VNeID",
            answer="Khi đổi họ tên, bạn làm lại thẻ căn cước ở Công an xã; tài khoản tự cập nhật theo thẻ.",
            questions=[
                "doi ten tren vneid the nao",
                "tôi mới đổi tên thì tài khoản định danh có đổi không",
            ],
            username="admin",
        )
        session.add(
            TrainingQuestion(label="faq/fee", text="lam vneid ton bao nhieu tien", username="admin")
        )
        session.add(TrainingQuestion(label="greet", text="chao buoi sang tro ly", username="admin"))
    with session_scope(session_factory) as session:
        # the answer is live at once through the NLG endpoint
        assert render_response(session=session, name="utter_faq/doi_ten").text.startswith(
            "Khi đổi họ tên"
        )
        ws = training.build_workspace(session, root=PROJECT_ROOT, dest=tmp_path / "ws")
    assert ws.added_questions == 4
    faq = yaml.safe_load((ws.path / "data/nlu/faq.yml").read_text(encoding="utf-8"))
    by_intent = {b["intent"]: b["examples"] for b in faq["nlu"]}
    assert "- doi ten tren vneid the nao" in by_intent["faq/doi_ten"]
    assert "- lam vneid ton bao nhieu tien" in by_intent["faq/fee"]
    assert "utter_faq/doi_ten" in faq["responses"]
    intents = yaml.safe_load((ws.path / "data/nlu/intents.yml").read_text(encoding="utf-8"))
    greet = next(b for b in intents["nlu"] if b["intent"] == "greet")
    assert "- chao buoi sang tro ly" in greet["examples"]
    assert not (ws.path / "tests").exists()  # the evaluation file never goes in

    ok, output = training.validate_workspace(
        ws.path, rasa_bin=PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa", root=PROJECT_ROOT
    )
    assert ok, output


@pytest.mark.parametrize(
    ("key", "questions", "message"),
    [
        ("Đổi tên", ["a b", "c d"], "Mã chủ đề"),
        ("fee", ["a b", "c d"], "Đã có chủ đề fee"),
        ("doi_ten", ["chỉ một câu"], "ít nhất 2 câu hỏi"),
    ],
)
def test_bad_topics_are_refused(session_factory, key, questions, message):
    with (
        session_scope(session_factory) as session,
        pytest.raises(training.TopicError, match=message),
    ):
        training.create_topic(
            session,
            key=key,
            title="Tên",
            answer="Một câu trả lời đủ dài để hợp lệ.",
            questions=questions,
            username="admin",
        )


def test_new_topics_with_few_questions_are_pointed_out(session_factory, client):
    from tests.auxil.console import log_in, make_admin

    few = [f"cau hoi so {i} ve doi ten" for i in range(3)]
    enough = [f"cau hoi so {i} ve mat the" for i in range(training.ADVISED_QUESTIONS)]
    with session_scope(session_factory) as session:
        for key, questions in (("doi_ten", few), ("mat_the", enough)):
            training.create_topic(
                session,
                key=key,
                title=key,
                answer="Bạn đến Công an xã nơi mình ở để được hướng dẫn.",
                questions=questions,
                username="a",
            )
        # seed topics are never "thin", whatever the console added to them
        session.add(TrainingQuestion(label="faq/fee", text="ton bao nhieu", username="a"))
    with session_scope(session_factory) as session:
        assert training.thin_topics(session, root=PROJECT_ROOT) == {"doi_ten": 3}
    log_in(client, "admin", make_admin(session_factory))
    page = client.get("/admin/models").text
    warning = page.split('id="thin"', 1)[1].split("</p>", 1)[0]
    assert "doi_ten × 3" in warning and "mat_the" not in warning
