"""Intent accuracy of the project's NLU pipeline on PhoATIS, an outside Vietnamese benchmark.

    make bench-phoatis DATA=<dir> [RUNS=3] [CONFIG=config.yml]

DATA is PhoATIS's ``syllable-level`` folder (``train/seq.in``, ``train/label``,
``test/seq.in``, ``test/label``; VinAIResearch/JointIDSF on GitHub). The data is for research
only: it is read from where it lies and never copied into the project.

Each run trains CONFIG's NLU pipeline, FAQ parts aside (the ResponseSelector, the fallback
and the retrieval router: PhoATIS has neither FAQ topics nor an out-of-scope class), on the
train split with ``rasa train nlu``, then classifies the test split with
``scripts/evaluate.py``: intent accuracy and macro F1 as written, and accuracy with the
diacritics stripped from every test sentence (the way many citizens type). Multi-intent
labels (``airfare#flight``) are classes of their own, as in the published results; a test
label never seen in training counts as a miss. Prints each run and the median of the runs,
then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
FAQ_PARTS = {"ResponseSelector", "FallbackClassifier", "nlu.router.RetrievalRouter"}
# the published anchors (test intent accuracy, %)
ANCHORS = {"JointIDSF (PhoBERT), Dao et al. 2021": 97.62}


def read_split(data: Path, split: str) -> list[tuple[str, str]]:
    """(sentence, intent) pairs of one split; '#' joins multi-intent labels, kept as one."""
    texts = (data / split / "seq.in").read_text(encoding="utf-8").splitlines()
    labels = (data / split / "label").read_text(encoding="utf-8").splitlines()
    if len(texts) != len(labels) or not texts:
        raise SystemExit(f"{data / split}: seq.in and label must have the same, non-zero lines")
    return [(t.strip(), label_name(lab)) for t, lab in zip(texts, labels, strict=True)]


def label_name(label: str) -> str:
    """A Rasa intent name for a PhoATIS label (``airfare#flight`` -> ``airfare+flight``)."""
    return label.strip().replace("#", "+")


def nlu_yaml(pairs: list[tuple[str, str]]) -> str:
    """Rasa NLU training data: each intent with its sentences (brackets would be entities)."""
    by_intent: dict[str, list[str]] = {}
    for text, label in pairs:
        clean = text.translate(str.maketrans("", "", "[](){}"))
        if clean:
            by_intent.setdefault(label, []).append(clean)
    blocks = [
        {"intent": intent, "examples": "".join(f"- {t}\n" for t in sorted(set(texts)))}
        for intent, texts in sorted(by_intent.items())
    ]
    return yaml.safe_dump(
        {"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False, width=10_000
    )


def nlu_config(config: Path) -> dict[str, Any]:
    """CONFIG's pipeline without its FAQ parts, and no dialogue policies."""
    loaded = yaml.safe_load(config.read_text(encoding="utf-8"))
    pipeline = [p for p in loaded.get("pipeline", []) if p.get("name") not in FAQ_PARTS]
    return {
        "recipe": loaded.get("recipe", "default.v1"),
        "language": loaded.get("language", "vi"),
        "pipeline": pipeline,
        "policies": [],
    }


def run_once(data: Path, config: Path, work: Path) -> dict[str, float]:
    """Train on PhoATIS train, classify PhoATIS test; the figures of this run."""
    (work / "nlu.yml").write_text(nlu_yaml(read_split(data, "train")), encoding="utf-8")
    test = [{"text": t, "label": lab} for t, lab in read_split(data, "test")]
    (work / "test.yml").write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
    (work / "config.yml").write_text(yaml.safe_dump(nlu_config(config)), encoding="utf-8")
    start = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own tools
        [
            str(RASA),
            "train",
            "nlu",
            "--config",
            str(work / "config.yml"),
            "--nlu",
            str(work / "nlu.yml"),
            "--out",
            str(work),
            "--fixed-model-name",
            "phoatis",
        ],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    trained_s = time.perf_counter() - start
    out = subprocess.run(  # noqa: S603
        [
            str(RASA_PY),
            "scripts/evaluate.py",
            "--model",
            str(work / "phoatis.tar.gz"),
            "--file",
            str(work / "test.yml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return {
        "accuracy": result["accuracy"],
        "macro_f1": result["macro_f1"],
        "accuracy_no_diacritics": result["accuracy_no_diacritics"],
        "train_s": round(trained_s, 1),
        "n": result["n"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="PhoATIS syllable-level dir")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (args.data / "train" / "seq.in").exists():
        raise SystemExit(
            f"{args.data}: not PhoATIS's syllable-level folder (train/seq.in missing). Get it "
            "from github.com/VinAIResearch/JointIDSF (PhoATIS/syllable-level), research use only."
        )
    runs = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as work:
            figures = run_once(args.data, args.config, Path(work))
        runs.append(figures)
        print(f"run {run + 1}/{args.runs}: {json.dumps(figures)}", flush=True)
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(
        f"PhoATIS test ({median['n']:.0f} sentences), {args.config.name} without its FAQ parts, "
        f"median of {args.runs}: intent accuracy {100 * median['accuracy']:.1f}% as written, "
        f"{100 * median['accuracy_no_diacritics']:.1f}% with diacritics stripped; macro F1 "
        f"{median['macro_f1']:.3f}; trained in {median['train_s']:.0f} s"
    )
    for name, accuracy in ANCHORS.items():
        print(f"  published: {name}: {accuracy}%")
    print(json.dumps({"median": median, "runs": runs, "config": str(args.config)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
