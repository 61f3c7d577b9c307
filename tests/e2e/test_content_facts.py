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


def states(item: dict, answer: str) -> bool:
    return all(re.search(p, answer) for p in item["must"])


@pytest.fixture(scope="module")
def answers(stack) -> dict[str, tuple[str, str | None]]:
    """Per question: what the citizen read, and what the topic's button shows if that missed."""
    out = {}
    for item in QUESTIONS:
        sender = f"facts-{uuid.uuid4().hex[:10]}"
        answer = plain(read_all(stack, sender, item["text"]))
        # Not understood the first time: the citizen picks the topic (menu, related button).
        chosen = (
            None
            if states(item, answer)
            else plain(read_all(stack, sender, f"/faq/{item['topic']}"))
        )
        out[item["text"]] = (answer, chosen)
    return out


@pytest.mark.parametrize("item", QUESTIONS, ids=lambda q: f"{q['topic']}:{q['text'][:40]}")
def test_the_answer_states_the_fact_and_no_wrong_claim(answers, item):
    answer, chosen = answers[item["text"]]
    read = answer if chosen is None else chosen
    missing = [p for p in item["must"] if not re.search(p, read)]
    assert not missing, f"{item['fact']}: {missing} not in {read[:400]!r}"
    for text in (answer, chosen or ""):
        wrong = [p for p in item.get("must_not", []) + WRONG_EVERYWHERE if re.search(p, text)]
        assert not wrong, f"wrong claim {wrong} in {text[:400]!r}"


# At most this share of the questions may need the topic button. The same data trained on
# two machines of this kind gave 4 and 5 misses of 45 (float rounding differs between CPUs;
# on one machine two trainings give identical predictions), so the bound leaves one
# question of room above the measured 4: a bound on the measured value failed at random.
FIRST_TIME_MISSES = 0.125


def test_most_get_the_fact_the_first_time(answers):
    """The questions are hard on purpose (long, run-on, teencode): most must land at once.

    The misses are the NLU's (issue 15 raises the bar); each is printed.
    """
    misses = [text for text, (_, chosen) in answers.items() if chosen is not None]
    print("\n".join(f"not understood the first time: {m}" for m in misses))  # noqa: T201
    assert len(misses) <= len(QUESTIONS) * FIRST_TIME_MISSES, misses
