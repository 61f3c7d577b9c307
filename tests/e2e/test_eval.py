"""The trained model meets the accuracy bars on the held-out evaluation file."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from bot.config import PROJECT_ROOT
from bot.modelops import artefacts as training

pytestmark = pytest.mark.e2e

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def test_accuracy_on_the_evaluation_file():
    model = training.model_path(PROJECT_ROOT)
    result = subprocess.run(
        [
            str(RASA_PYTHON),
            "scripts/evaluate.py",
            "--model",
            str(model),
            "--file",
            "tests/eval/questions.yml",
        ],
        cwd=PROJECT_ROOT,
        env=training.rasa_env(PROJECT_ROOT),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    print("\n".join(lines[-25:]))
    assert figures["n"] >= 150
    assert figures["accuracy"] >= 0.92, figures
    assert figures["accuracy_no_diacritics"] >= 0.90, figures
    assert set(figures) == {"n", "accuracy", "macro_f1", "accuracy_no_diacritics"}
    # A confident answer on the wrong topic misleads; when unsure the assistant asks back.
    wrong = re.search(r"^Wrong answers: (\d+) ", result.stdout, re.MULTILINE)
    assert wrong and int(wrong.group(1)) <= 0.02 * figures["n"], lines[-6:]
    assert re.search(r"^Clarifying questions: \d+ ", result.stdout, re.MULTILINE)
