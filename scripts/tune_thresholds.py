"""Choose the fallback thresholds from the training data alone (k-fold).

Runs in the Rasa environment: `make tune`. Each fold trains the NLU of
a config (default config.yml) on the other folds and parses the held-out questions; the raw
confidences (intent, runner-up intent, FAQ topic) are then replayed under
every threshold pair. A wrong answer costs 1, an honest "I did not understand"
on an answerable question costs 0.5, and falling back on an out-of-scope
question is right. The evaluation file is never read here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
MISS_COST = 0.5


def raw_prediction(parse: dict) -> dict:
    """Top intent and confidences as they were before any fallback rule."""
    ranking = [r for r in parse.get("intent_ranking") or [] if r["name"] != FALLBACK]
    top = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    selector = (parse.get("response_selector") or {}).get(top["name"], {}).get("response", {})
    label = selector.get("intent_response_key") or top["name"]
    return {
        "label": label,
        "intent_conf": top["confidence"],
        "gap": top["confidence"] - second,
        "topic_conf": selector.get("confidence", 1.0) if selector else 1.0,
    }


def decide(p: dict, intent_t: float, gap_t: float, topic_t: float) -> str:
    if p["intent_conf"] < intent_t or p["gap"] < gap_t:
        return FALLBACK
    if p["label"].startswith("faq/") and p["topic_conf"] < topic_t:
        return FALLBACK
    return p["label"]


def cost(gold: str, predicted: str) -> float:
    if predicted == FALLBACK:
        return 0.0 if gold == OUT_OF_SCOPE else MISS_COST
    return 0.0 if predicted == gold else 1.0


def full_label(example) -> str:
    return example.get("intent_response_key") or example.get("intent")


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [raw_prediction(await agent.parse_message(t)) for t in texts]


def run_folds(folds: int, config: str) -> list[tuple[str, dict]]:
    import structlog
    from rasa.nlu.test import generate_folds
    from rasa.shared.nlu.training_data.loading import load_data

    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    data = load_data(str(ROOT / "data" / "nlu"))
    rasa = ROOT / ".venv-rasa" / "bin" / "rasa"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results: list[tuple[str, dict]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (train, test) in enumerate(generate_folds(folds, data)):
            train_file = Path(tmp) / f"train{k}.yml"
            train.persist_nlu(str(train_file))
            subprocess.run(
                [
                    str(rasa),
                    "train",
                    "nlu",
                    "--config",
                    config,
                    "--nlu",
                    str(train_file),
                    "--out",
                    tmp,
                    "--fixed-model-name",
                    f"fold{k}",
                ],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
            examples = test.intent_examples
            parsed = asyncio.run(
                parse_all(Path(tmp) / f"fold{k}.tar.gz", [e.get("text") for e in examples])
            )
            results.extend((full_label(e), p) for e, p in zip(examples, parsed, strict=True))
            print(f"fold {k + 1}/{folds}: {len(examples)} held-out questions", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--config", default="config.yml")
    args = parser.parse_args()
    results = run_folds(args.folds, args.config)
    raw = sum(p["label"] == g for g, p in results) / len(results)
    print(f"{args.config}: k-fold accuracy without any fallback {raw:.3f}")

    grid = [round(0.05 * i, 2) for i in range(0, 17)]  # 0.00 .. 0.80
    gaps = [0.0, 0.02, 0.05, 0.1, 0.15]
    best = None
    for intent_t in grid:
        for gap_t in gaps:
            for topic_t in grid:
                total = sum(cost(g, decide(p, intent_t, gap_t, topic_t)) for g, p in results)
                key = (total, -intent_t, -topic_t)  # ties: the more cautious thresholds
                if best is None or key < best[0]:
                    best = (key, intent_t, gap_t, topic_t)
    (total, _, _), intent_t, gap_t, topic_t = best
    chosen = [decide(p, intent_t, gap_t, topic_t) for _, p in results]
    n = len(results)
    right = sum(
        c == g or (c == FALLBACK and g == OUT_OF_SCOPE)
        for (g, _), c in zip(results, chosen, strict=True)
    )
    wrong = sum(c not in (g, FALLBACK) for (g, _), c in zip(results, chosen, strict=True))
    print(
        f"held-out questions: {n}; right {right / n:.3f}, wrong answers {wrong / n:.3f}, "
        f"fallbacks {chosen.count(FALLBACK) / n:.3f}"
    )
    print(
        json.dumps(
            {
                "config": args.config,
                "folds": args.folds,
                "raw_accuracy": round(raw, 4),
                "FallbackClassifier.threshold": intent_t,
                "FallbackClassifier.ambiguity_threshold": gap_t,
                "RetrievalRouter.threshold": topic_t,
                "mean_cost": round(total / n, 4),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
