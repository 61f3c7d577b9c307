"""make tune's search: thresholds replayed on held-out parses (scripts/tune_thresholds.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("tune", ROOT / "scripts/tune_thresholds.py")
tune = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tune)


def held_out(label, topic_conf, topic_gap, offered=(), intent_conf=0.9):
    return {
        "label": label,
        "intent_conf": intent_conf,
        "gap": intent_conf,
        "topic_conf": topic_conf,
        "topic_gap": topic_gap,
        "offered": list(offered),
    }


def test_close_topics_are_asked_back_when_the_buttons_hold_the_answer():
    # Confident topics are right; every close call (lead 0.04) is wrong, and its
    # clarifying question would have offered the right topic.
    sure = [("faq/fee", held_out("faq/fee", 0.9, 0.8))] * 20
    close = [
        ("faq/fee", held_out("faq/account_locked", 0.5, 0.04, ["faq/account_locked", "faq/fee"]))
    ]
    total, (_, _, _, topic_gap_t) = tune.search(sure + close * 3, clarify_cost=0.25)
    assert topic_gap_t > 0.04  # asking back (3 x 0.25) beats three wrong answers (3)
    assert total == 0.75


def test_answers_are_kept_when_asking_back_costs_more_than_it_saves():
    # The close calls are right 3 times out of 4: asking back costs 4 x 0.5 (no buttons),
    # answering costs 1.
    right = [("faq/fee", held_out("faq/fee", 0.5, 0.04))] * 3
    wrong = [("faq/fee", held_out("faq/account_locked", 0.5, 0.04))]
    total, (intent_t, gap_t, topic_t, topic_gap_t) = tune.search(right + wrong, clarify_cost=0.25)
    assert total == 1.0
    assert topic_gap_t <= 0.04 and topic_t <= 0.5


def test_the_cost_of_not_answering():
    assert tune.cost("out_of_scope", tune.FALLBACK, [], 0.25) == 0.0
    assert tune.cost("faq/fee", tune.FALLBACK, ["faq/fee"], 0.25) == 0.25
    assert tune.cost("faq/fee", tune.FALLBACK, ["faq/children"], 0.25) == tune.MISS_COST
    assert tune.cost("faq/fee", "faq/fee", [], 0.25) == 0.0
    assert tune.cost("faq/fee", "faq/children", [], 0.25) == 1.0
