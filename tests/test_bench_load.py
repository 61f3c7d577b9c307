"""The pure helpers of scripts/bench_load.py (no network, no processes)."""

from __future__ import annotations

import importlib.util
import random
import re
import sys

from bot.chat.schemas import SENDER_PATTERN
from bot.config import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("bench_load", PROJECT_ROOT / "scripts/bench_load.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_load"] = bench  # dataclasses look their module up while being defined
_spec.loader.exec_module(bench)


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - test data


def step(concurrency, p95, errors=0, rate=1.0):
    return {"concurrency": concurrency, "p95_ms": p95, "errors": errors, "turns_per_s": rate}


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))  # 1..100, shuffled: order must not matter
    seeded(0).shuffle(values)
    assert bench.percentile(values, 0.5) == 50
    assert bench.percentile(values, 0.95) == 95
    assert bench.percentile(values, 0.99) == 99
    assert bench.percentile(values, 1.0) == 100
    assert bench.percentile([7.0], 0.99) == 7.0
    assert bench.percentile([], 0.5) is None


def test_summary_counts_busy_and_errors_apart_from_answered_turns():
    stats = bench.summarize([100.0, 200.0, 300.0, 400.0], busy=3, errors=2, wall_s=2.0)
    assert stats == {
        "p50_ms": 200.0,
        "p95_ms": 400.0,
        "p99_ms": 400.0,
        "mean_ms": 250.0,
        "turns_per_s": 2.0,
        "answered": 4,
        "busy": 3,
        "errors": 2,
    }
    assert bench.summarize([], busy=0, errors=5, wall_s=0)["p95_ms"] is None


def test_busy_reply_is_recognised_in_any_bubble():
    assert bench.is_busy([{"text": "Chào bạn"}, {"text": "Trợ lý ĐANG BẬN, bạn chờ chút"}])
    assert bench.is_busy([{"text": "Bạn vui lòng thử lại sau ít phút."}])
    assert not bench.is_busy([{"text": "Tài khoản định danh điện tử là ..."}, {"buttons": []}])


def test_saturation_stops_after_two_misses_in_a_row_and_keeps_the_best_held_step():
    steps = [step(1, 80, rate=10), step(2, 120, rate=18), step(4, 650, rate=25)]
    assert not bench.should_stop(steps)  # one miss: go on
    steps.append(step(8, 300, rate=22))  # recovered: still not two in a row
    assert not bench.should_stop(steps)
    steps += [step(12, 420, errors=1, rate=30), step(16, 900, rate=31)]
    assert bench.should_stop(steps)
    # the faster steps missed (p95 >= 500 ms or errors), so 8 users at 22 turns/s is the best
    assert bench.best_step(steps)["concurrency"] == 8
    assert bench.best_step([step(1, 500)]) is None  # 500 ms is not under 500 ms
    assert bench.best_step([step(1, None)]) is None  # nothing answered


def test_median_across_runs_goes_through_nested_figures():
    runs = [
        {"app": {"think50": {"p50_ms": 100.0, "errors": 0}}, "runs": 3, "stack": "started"},
        {"app": {"think50": {"p50_ms": 300.0, "errors": 4}}, "runs": 3, "stack": "started"},
        {"app": {"think50": {"p50_ms": 200.0, "errors": 1}}, "runs": 3, "stack": "started"},
    ]
    assert bench.median_of_runs(runs) == {
        "app": {"think50": {"p50_ms": 200.0, "errors": 1}},
        "runs": 3,
        "stack": "started",
    }
    assert bench.median_of_runs([{"best": None}, {"best": 4.0}, {"best": 6.0}]) == {"best": 5.0}
    assert bench.median_of_runs([{"best": None}]) == {"best": None}
    counts = bench.median_of_runs([{"answered": 68}, {"answered": 68}])["answered"]
    assert counts == 68 and isinstance(counts, int)  # a count stays a count
    assert bench.median_of_runs([{"answered": 1}, {"answered": 4}]) == {"answered": 2.5}


def test_ratios_are_app_over_rasa_at_equal_load():
    app = {
        "think50": {"p50_ms": 120.0, "mean_ms": 130.0, "p95_ms": 300.0},
        "saturation": {"best_turns_per_s": 8},
    }
    rasa = {
        "think50": {"p50_ms": 100.0, "mean_ms": 100.0, "p95_ms": 0.0},
        "saturation": {"best_turns_per_s": 10},
    }
    assert bench.ratios({"app": app, "rasa": rasa}) == {
        "think50": {"p50": 1.2, "mean": 1.3, "p95": None},  # no division by a zero figure
        "saturation_turns_per_s": 0.8,
    }
    assert bench.ratios({"app": app}) == {}


def test_conversation_greets_then_asks_or_presses_a_button_the_same_way_for_both_targets():
    texts = ["câu hỏi 1", "câu hỏi 2", "câu hỏi 3"]
    last = [
        {"text": "a", "buttons": [{"title": "x", "payload": "/faq/requirements"}]},
        {"text": "b", "buttons": [{"title": "Gặp cán bộ", "payload": "/request_handoff"}]},
    ]
    first = bench.pick_text(seeded(1), 0, [], texts)
    assert first in bench.GREETINGS
    picks = [bench.pick_text(seeded(i), 1, last, texts) for i in range(400)]
    # the last bubble with buttons offers only the handoff, which is never pressed
    assert set(picks) <= set(texts)
    last[1]["buttons"].append({"title": "Menu", "payload": "/show_menu"})
    picks = [bench.pick_text(seeded(i), 1, last, texts) for i in range(400)]
    assert 0.2 < picks.count("/show_menu") / len(picks) < 0.4
    # same seed, same replies: the same text, whichever target asked
    again = [bench.pick_text(seeded(i), 1, last, texts) for i in range(400)]
    assert again == picks


def test_sender_ids_fit_the_chat_api_pattern():
    longest = "Lffffff-rasa-think200-199-9999"  # run id, target, phase, citizen, conversation
    assert re.fullmatch(SENDER_PATTERN, longest)


def test_memory_helpers_read_proc_text_and_sum_a_process_family():
    status = "Name:\tpython\nVmPeak:\t  900 kB\nVmRSS:\t  204800 kB\nThreads:\t4\n"
    assert bench.vm_rss_kb(status) == 204800
    assert bench.vm_rss_kb("Name:\tkworker\n") == 0
    parents = {10: 1, 11: 10, 12: 11, 20: 1, 21: 20}
    assert bench.family(10, parents) == {10, 11, 12}
    cmdlines = {
        10: "python -m uvicorn bot.main:create_app --workers 2",
        11: "python -m uvicorn bot.main:create_app --workers 2",  # a worker: under 10
        20: ".venv-rasa/bin/python .venv-rasa/bin/rasa run --model m",
        21: "python -m bot.actions.server --port 5055",
        30: "python -m uvicorn bot.main:create_app",  # a second replica
    }
    assert bench.find_services({**parents, 30: 1}, cmdlines) == {
        "app": 10,
        "app2": 30,
        "rasa": 20,
        "actions": 21,
    }
