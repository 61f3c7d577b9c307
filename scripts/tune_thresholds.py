"""Choose the fallback thresholds from the training data alone (k-fold).

Runs in the Rasa environment: `make tune`. Each fold trains the NLU of
a config (default config.yml) on the other folds and parses the held-out questions; the raw
confidences (intent, runner-up intent, FAQ topic, runner-up topic) are then replayed
under every combination of thresholds. A wrong answer costs 1; not answering an
answerable question costs 0.5, or --clarify-cost when the clarifying question's buttons
(nlu/clarify.py) hold the right topic (one more tap); not answering an out-of-scope
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

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu.clarify import candidates  # noqa: E402

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
MISS_COST = 0.5
CLARIFY_COST = 0.25


def raw_prediction(parse: dict) -> dict:
    """Top intent and confidences as they were before any fallback rule."""
    ranking = [r for r in parse.get("intent_ranking") or [] if r["name"] != FALLBACK]
    top = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    chosen = (parse.get("response_selector") or {}).get(top["name"], {})
    selector = chosen.get("response", {})
    label = selector.get("intent_response_key") or top["name"]
    topics = sorted((r.get("confidence", 0.0) for r in chosen.get("ranking") or []), reverse=True)
    topic_conf = selector.get("confidence", 1.0) if selector else 1.0
    return {
        "label": label,
        "intent_conf": top["confidence"],
        "gap": top["confidence"] - second,
        "topic_conf": topic_conf,
        "topic_gap": topic_conf - topics[1] if len(topics) > 1 else 1.0,
        "offered": candidates(parse),
    }


def decide(p: dict, intent_t: float, gap_t: float, topic_t: float, topic_gap_t: float) -> str:
    if p["intent_conf"] < intent_t or p["gap"] < gap_t:
        return FALLBACK
    if p["label"].startswith("faq/") and (
        p["topic_conf"] < topic_t or p["topic_gap"] < topic_gap_t
    ):
        return FALLBACK
    return p["label"]


def cost(gold: str, predicted: str, offered: list[str], clarify_cost: float) -> float:
    if predicted == FALLBACK:
        if gold == OUT_OF_SCOPE:
            return 0.0
        return clarify_cost if gold in offered else MISS_COST
    return 0.0 if predicted == gold else 1.0


def search(
    results: list[tuple[str, dict]], clarify_cost: float
) -> tuple[float, tuple[float, float, float, float]]:
    """The thresholds of least total cost (ties: the most cautious), and that cost."""
    preds = [p for _, p in results]
    col = {k: np.array([p[k] for p in preds]) for k in ("intent_conf", "gap", "topic_conf")}
    topic_gap = np.array([p["topic_gap"] for p in preds])
    faq = np.array([p["label"].startswith("faq/") for p in preds])
    answered = np.array([0.0 if p["label"] == g else 1.0 for g, p in results])
    unanswered = np.array([cost(g, FALLBACK, p["offered"], clarify_cost) for g, p in results])
    grid = [round(0.05 * i, 2) for i in range(0, 17)]  # 0.00 .. 0.80
    gaps = [0.0, 0.02, 0.05, 0.1, 0.15]
    best: tuple[tuple[float, float, float, float], tuple[float, float, float, float]] | None = None
    for intent_t in grid:
        for gap_t in gaps:
            plain = (col["intent_conf"] < intent_t) | (col["gap"] < gap_t)
            for topic_t in grid:
                for topic_gap_t in gaps:
                    unsure = faq & ((col["topic_conf"] < topic_t) | (topic_gap < topic_gap_t))
                    total = float(np.where(plain | unsure, unanswered, answered).sum())
                    key = (round(total, 6), -intent_t, -topic_t, -topic_gap_t)
                    if best is None or key < best[0]:
                        best = (key, (intent_t, gap_t, topic_t, topic_gap_t))
    if best is None:
        raise SystemExit("no held-out questions to tune on")
    return best[0][0], best[1]


def full_label(example) -> str:
    return example.get("intent_response_key") or example.get("intent")


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [raw_prediction(await agent.parse_message(t)) for t in texts]


def run_folds(folds: int, config: str, extra: Path | None = None) -> list[tuple[str, dict]]:
    import structlog
    from rasa.nlu.test import generate_folds
    from rasa.shared.nlu.training_data.loading import load_data

    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    data = load_data(str(ROOT / "data" / "nlu"))
    # more questions for every fold's training part, never held out: what they add is
    # measured on the very same held-out questions (the folds do not move)
    more = load_data(str(extra)) if extra else None
    rasa = ROOT / ".venv-rasa" / "bin" / "rasa"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results: list[tuple[str, dict]] = []
    np.random.seed(0)  # the folds' shuffle: the same folds on every run
    with tempfile.TemporaryDirectory() as tmp:
        for k, (train, test) in enumerate(generate_folds(folds, data)):
            train_file = Path(tmp) / f"train{k}.yml"
            (train.merge(more) if more else train).persist_nlu(str(train_file))
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


def outcome(results: list[tuple[str, dict]], thresholds: tuple[float, ...]) -> dict:
    """What these thresholds do to the held-out questions (shares of all of them)."""
    chosen = [decide(p, *thresholds) for _, p in results]
    n = len(results)
    pairs = list(zip(results, chosen, strict=True))
    asked = [(g, p) for (g, p), c in pairs if c == FALLBACK and g != OUT_OF_SCOPE]
    offered = [g in p["offered"] for g, p in asked if p["offered"]]
    return {
        "right": sum(c == g or (c == FALLBACK and g == OUT_OF_SCOPE) for (g, _), c in pairs) / n,
        "wrong_answers": sum(c not in (g, FALLBACK) for (g, _), c in pairs) / n,
        "not_answered": len(asked) / n,
        "asked_back": len(offered) / n,
        "asked_back_right": sum(offered) / n,
    }


def line(thresholds: tuple[float, ...], figures: dict) -> str:
    """One printed line for a set of thresholds."""
    return (
        "/".join(str(t) for t in thresholds) + f": right {figures['right']:.3f}, wrong answers "
        f"{figures['wrong_answers']:.3f}, answerable not answered {figures['not_answered']:.3f} "
        f"(asked back with buttons {figures['asked_back']:.3f}, the right topic among them "
        f"{figures['asked_back_right']:.3f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--config", default="config.yml")
    parser.add_argument(
        "--clarify-cost",
        type=float,
        default=CLARIFY_COST,
        help="cost of a clarifying question whose buttons hold the right topic",
    )
    parser.add_argument(
        "--replay",
        type=Path,
        help="the parses a previous run saved (--save): only the search is run again",
    )
    parser.add_argument("--save", type=Path, help="keep the held-out parses here")
    parser.add_argument(
        "--extra",
        type=Path,
        help="NLU data added to every fold's training part, never held out (new questions"
        " measured on the same held-out questions)",
    )
    parser.add_argument(
        "--current",
        help="thresholds to report beside the best: intent,gap,topic,topic_gap",
    )
    args = parser.parse_args()
    if args.replay:
        results = [tuple(r) for r in json.loads(args.replay.read_text(encoding="utf-8"))]
    else:
        results = run_folds(args.folds, args.config, args.extra)
    if args.save:
        args.save.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
    if args.current:
        current = tuple(float(v) for v in args.current.split(","))
        print("current thresholds: " + line(current, outcome(results, current)))
    raw = sum(p["label"] == g for g, p in results) / len(results)
    print(f"{args.config}: k-fold accuracy without any fallback {raw:.3f}")

    total, best = search(results, args.clarify_cost)
    figures = outcome(results, best)
    print("best thresholds: " + line(best, figures))
    intent_t, gap_t, topic_t, topic_gap_t = best
    print(
        json.dumps(
            {
                "config": args.config,
                "folds": args.folds,
                "clarify_cost": args.clarify_cost,
                "raw_accuracy": round(raw, 4),
                "FallbackClassifier.threshold": intent_t,
                "FallbackClassifier.ambiguity_threshold": gap_t,
                "RetrievalRouter.threshold": topic_t,
                "RetrievalRouter.ambiguity_threshold": topic_gap_t,
                "mean_cost": round(total / len(results), 4),
                "right": round(figures["right"], 4),
                "wrong_answers": round(figures["wrong_answers"], 4),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
