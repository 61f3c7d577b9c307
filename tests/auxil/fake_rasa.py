"""A fake Rasa for the model-operations tests: the two commands a job runs, and the model API.

A job runs ``<bin>/rasa data validate``, ``<bin>/rasa train`` and ``<bin>/python
scripts/evaluate.py``; here these are small scripts with the same arguments, outputs and
exit codes, steered by ``control.json`` beside them. A fake model file is JSON holding its
``quality``: the share of the evaluation questions it classifies right (the same questions
every time, so two models are compared on paired answers as the verdict expects).
``FakeModelApi`` stands for Rasa's ``/status`` and ``PUT /model``.

The real thing (``rasa train``, the evaluation script on a real model, ``PUT /model`` on a
running server) is covered by tests/e2e/test_train_publish.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.modelops.rasa_admin import PublishError

_RASA = r"""
import json, sys, time
from pathlib import Path

control = json.loads((Path(__file__).parent / "control.json").read_text())
args = sys.argv[1:]
if args[:2] == ["data", "validate"]:
    print("Started validating domain and training data...")
    if not control.get("valid", True):
        print("UserWarning: Issue found in 'data/nlu/faq.yml': broken example")
        sys.exit(1)
    sys.exit(0)
assert args[0] == "train", args
out = Path(args[args.index("--out") + 1])
name = args[args.index("--fixed-model-name") + 1]
steps = 10
for component in ("DIETClassifier", "ResponseSelector"):
    print(f"INFO rasa.engine.training.hooks - Starting to train component '{component}'.",
          flush=True)
    for k in range(1, steps + 1):
        print(f"Epochs: {k * 100 // steps}%|#| {k}/{steps}", flush=True)
        time.sleep(control.get("train_s", 0.2) / (2 * steps))
if control.get("train_exit", 0):
    print("rasa train failed", flush=True)
    sys.exit(control["train_exit"])
out.mkdir(parents=True, exist_ok=True)
(out / f"{name}.tar.gz").write_text(json.dumps({"quality": control.get("quality", 0.9)}))
print(f"Your Rasa model is trained and saved at '{out / name}.tar.gz'.")
"""

_EVALUATE = r"""
import json, sys
from pathlib import Path

import yaml

args = sys.argv[2:]  # argv[1] is the path of scripts/evaluate.py
opt = {args[i]: args[i + 1] for i in range(0, len(args) - 1, 2)}
quality = json.loads(Path(opt["--model"]).read_text())["quality"]
gold = [str(item["label"]) for item in yaml.safe_load(Path(opt["--file"]).read_text())]
# question i is right when its fixed rank is under the quality: a better model gets a
# superset of a worse one's right answers
pred = [g if (i * 7919 % 1000) / 1000 < quality else "nlu_fallback" for i, g in enumerate(gold)]
labels = sorted(set(gold))
f1 = []
for label in labels:
    tp = sum(g == p == label for g, p in zip(gold, pred))
    fp = sum(p == label != g for g, p in zip(gold, pred))
    fn = sum(g == label != p for g, p in zip(gold, pred))
    f1.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
accuracy = sum(g == p for g, p in zip(gold, pred)) / len(gold)
if "--predictions" in opt:
    Path(opt["--predictions"]).write_text(json.dumps({"gold": gold, "pred": pred}))
print(f"Model: {Path(opt['--model']).name}  Questions: {len(gold)}")
print(json.dumps({"n": len(gold), "accuracy": round(accuracy, 4),
                  "macro_f1": round(sum(f1) / len(f1), 4), "accuracy_no_diacritics": 0.0}))
"""


@dataclass
class FakeRasaBin:
    """``<dir>/bin/rasa`` and ``<dir>/bin/python`` for a job; ``control`` steers them."""

    root: Path

    def __post_init__(self) -> None:
        bin_dir = self.root / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name, body in (("rasa", _RASA), ("python", _EVALUATE)):
            script = bin_dir / name
            script.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
            script.chmod(0o755)
        self.control()

    @property
    def rasa(self) -> Path:
        return self.root / "bin" / "rasa"

    def control(self, **values: Any) -> None:
        """Set what the next commands do: valid, train_s, train_exit, quality."""
        (self.root / "bin" / "control.json").write_text(json.dumps(values), encoding="utf-8")


def write_model(path: Path, quality: float) -> Path:
    """A fake model file of this quality (for the model Rasa serves at the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"quality": quality}), encoding="utf-8")
    return path


@dataclass
class FakeModelApi:
    """Rasa's model API: serves one file; ``refuse`` makes the next loads fail."""

    served: Path | None
    refuse: bool = False
    load_s: float = 0.0
    loads: list[str] = field(default_factory=list)

    async def served_file(self) -> str:
        return str(self.served) if self.served else ""

    async def load(self, path: Path) -> None:
        await asyncio.sleep(self.load_s)
        exists = await asyncio.to_thread(path.is_file)
        if self.refuse or not exists:
            raise PublishError("Rasa từ chối mô hình (HTTP 400).")
        self.loads.append(path.name)
        self.served = path
