"""The facts citizens must get right, asked through the real stack (trained Rasa and the app).

``content_questions.yml`` holds questions written apart from the training questions, each
with the facts (DOMAIN.md and the law) its answer must state and the known wrong claims it
must not make. The citizen reads the whole answer as they would: the first screen, then
each "Xem thêm" button under it. The facts are matched without diacritics.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.faq.content import load_topics
from bot.faq.service import parse_more
from nlu.text import fold

pytestmark = pytest.mark.e2e

QUESTIONS = yaml.safe_load((Path(__file__).parent / "content_questions.yml").read_text("utf-8"))
WRONG_EVERYWHERE = [  # never right, whatever the question
    r"(den|toi|ra|len|hoi) cong an (cap )?(huyen|quan)\b",  # sending anyone to a unit that is gone
    r"(doc|gui|cung cap|nhap)( cho)? (toi|tro ly|bot) (ma|mat khau|passcode)",
]


def plain(text: str) -> str:
    return " ".join(fold(text.lower()).split())


def read_all(stack, sender: str, text: str) -> str:
    """The replies to ``text``, with every "Xem thêm" screen pressed in turn."""
    replies = stack.chat(sender, text)
    seen = [m["text"] for m in replies]
    for _ in range(3):
        more = [b for m in replies for b in m["buttons"] if parse_more(b["payload"])]
        if not more:
            break
        replies = stack.chat(sender, more[0]["payload"])
        seen += [m["text"] for m in replies]
    return "\n".join(seen)


def test_the_questions_are_many_and_not_training_questions():
    assert len(QUESTIONS) >= 40
    training = {plain(q) for t in load_topics(PROJECT_ROOT / "data" / "faq") for q in t.questions}
    assert not [q["text"] for q in QUESTIONS if plain(q["text"]) in training]


@pytest.mark.parametrize("item", QUESTIONS, ids=lambda q: f"{q['topic']}:{q['text'][:40]}")
def test_the_answer_states_the_fact(stack, item):
    answer = plain(read_all(stack, f"facts-{uuid.uuid4().hex[:10]}", item["text"]))
    missing = [p for p in item["must"] if not re.search(p, answer)]
    assert not missing, f"{item['fact']}: {missing} not in {answer[:400]!r}"
    wrong = [p for p in item.get("must_not", []) + WRONG_EVERYWHERE if re.search(p, answer)]
    assert not wrong, f"wrong claim {wrong} in {answer[:400]!r}"
