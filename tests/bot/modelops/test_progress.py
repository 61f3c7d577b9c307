"""What a job is doing, from a real `rasa train` output (tests/fixtures/rasa), and the page log."""

from __future__ import annotations

from bot.config import PROJECT_ROOT
from bot.modelops.progress import log_tail, long_components, parse_progress

OUTPUT = (PROJECT_ROOT / "tests" / "fixtures" / "rasa" / "train_output.txt").read_text(
    encoding="utf-8"
)
LONG = long_components(PROJECT_ROOT / "config.yml")


def test_the_long_components_come_from_the_config():
    assert LONG == ["DIETClassifier", "ResponseSelector"]


def test_progress_is_read_from_rasa_train_output():
    """A real `rasa train` output (tests/fixtures/rasa), cut at several points."""
    assert parse_progress("", LONG) == (0, "Chuẩn bị dữ liệu")
    seen = []
    for end in range(0, len(OUTPUT) + 1, max(1, len(OUTPUT) // 40)):
        seen.append(parse_progress(OUTPUT[:end], LONG))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents)  # never goes back
    assert any("DIETClassifier (" in stage for _, stage in seen)
    assert any("ResponseSelector (" in stage for _, stage in seen)
    assert 90 <= parse_progress(OUTPUT, LONG)[0] <= 99  # 100 is for the end of the job
    dietish = [p for p, s in seen if "DIETClassifier (100%)" in s]
    assert dietish and all(p == 50 for p in dietish)


def test_the_log_shows_each_progress_bar_once_at_its_latest_state(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text(OUTPUT, encoding="utf-8")
    lines = log_tail(log, lines=100)
    bars = [line for line in lines if line.startswith("Epochs:")]
    assert len(bars) == 2  # DIET, then the response selector
    assert all("40/40" in bar for bar in bars)
    assert log_tail(tmp_path / "missing.txt") == []


def test_counters_of_rasa_collapse_too(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text(
        "".join(f"Processed actions: 0it [00:00, ?it/s, # examples={i}]\r" for i in range(40))
        + "Processed actions: 48it [00:00, 18317.40it/s, # examples=44]\n"
        + "2026-11-29 21:23:12 INFO rasa.engine.training.hooks - Finished training component 'RulePolicy'.\n",
        encoding="utf-8",
    )
    assert log_tail(log) == [
        "Processed actions: 48it [00:00, 18317.40it/s, # examples=44]",
        "2026-11-29 21:23:12 INFO rasa.engine.training.hooks - Finished training component 'RulePolicy'.",
    ]


def test_warnings_are_left_out_of_the_page_log(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text(
        "2026-11-29 21:03:34 INFO     rasa.cli.train  - Started validating domain and training data...\n"
        "/x/.venv-rasa/lib/python3.10/site-packages/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_x' is not used in any story or rule.\n"
        "/x/.venv-rasa/lib/python3.10/site-packages/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call\n"
        "  declare_namespace(pkg)\n"
        "2026-11-29 21:03:54 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.\n",
        encoding="utf-8",
    )
    assert log_tail(log) == [
        "2026-11-29 21:03:34 INFO     rasa.cli.train  - Started validating domain and training data...",
        "2026-11-29 21:03:54 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.",
    ]
