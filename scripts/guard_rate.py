"""How often the scam guard fires on a labelled question file (printed by `make eval`).

    .venv/bin/python scripts/guard_rate.py --file tests/eval/questions.yml

Ordinary questions (every label but faq/scam_warning) that trip the guard are false
alarms: the citizen gets a scam warning before the answer. Questions about scams that
trip it are caught. Both are printed, with the false alarms listed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from bot.chat.guard import inspect  # noqa: E402

SCAM_LABEL = "faq/scam_warning"


def rates(items: list[dict]) -> tuple[float, float, list[str]]:
    """False-alarm rate on ordinary questions, catch rate on scam questions, the alarms."""
    ordinary = [str(i["text"]) for i in items if i["label"] != SCAM_LABEL]
    scams = [str(i["text"]) for i in items if i["label"] == SCAM_LABEL]
    alarms = [t for t in ordinary if inspect(t) is not None]
    caught = sum(inspect(t) is not None for t in scams)
    return len(alarms) / max(1, len(ordinary)), caught / max(1, len(scams)), alarms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=Path("tests/eval/questions.yml"))
    args = parser.parse_args()
    items = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    false_rate, catch_rate, alarms = rates(items)
    print(  # noqa: T201
        f"Scam guard: false alarms {false_rate:.1%} of ordinary questions ({len(alarms)}),"
        f" caught {catch_rate:.0%} of scam questions"
    )
    for text in alarms:
        print(f"  false alarm | {text[:90]}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
