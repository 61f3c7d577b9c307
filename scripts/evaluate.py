"""Classify a labelled question file with a trained model (DESIGN.md contract 4).

Runs in the Rasa environment:
    .venv-rasa/bin/python scripts/evaluate.py --model models/x.tar.gz --file q.yml

The file is a YAML list of {text, label}; labels are "faq/<key>" or a plain
intent. The predicted label of a message is its intent, or "faq/<key>" when
the intent is the retrieval intent. "nlu_fallback" (the assistant says it did
not understand) is scored as "out_of_scope": that is the right behaviour for
an out-of-scope question and a miss for any other.

accuracy_no_diacritics re-classifies every question with its diacritics
removed (the way many citizens type), so it covers the whole file.
When the model is unsure it asks instead of answering: the likeliest two or three topics
as buttons (nlu/clarify.py, the same choice as the assistant's). Such a question is still a
miss here; the report counts how often it happens and how often the right topic was among
the buttons, beside the wrong answers (a wrong topic answered, the costly kind of miss).
Ends with one JSON line: {"n", "accuracy", "macro_f1", "accuracy_no_diacritics"} (contract 4);
the lines before it give the wrong answers and the clarifying questions.
--predictions FILE also writes {"gold": [...], "pred": [...]} (one label per question, in
file order), for paired comparisons of two models (bot/modelops/verdict.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from nlu.clarify import candidates  # noqa: E402
from nlu.text import fold, has_diacritics  # noqa: E402

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"


def predicted_label(parse: dict) -> str:
    intent = (parse.get("intent") or {}).get("name") or FALLBACK
    selector = parse.get("response_selector") or {}
    if intent in selector.get("all_retrieval_intents", []):
        # A ResponseSelector without `retrieval_intent` (Rasa's default) files
        # its prediction under "default".
        chosen = selector.get(intent) or selector.get("default") or {}
        return chosen.get("response", {}).get("intent_response_key") or intent
    return OUT_OF_SCOPE if intent == FALLBACK else intent


def load_items(path: Path) -> list[dict]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(items, list) or not items:
        raise SystemExit(f"{path}: expected a non-empty YAML list of {{text, label}}")
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("text") or not item.get("label"):
            raise SystemExit(f"{path}: item {i} needs text and label")
    return items


def quiet_rasa() -> None:
    import structlog

    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def offered(parse: dict) -> list[str]:
    """The topics the assistant offers as buttons for this parse (none if it answered)."""
    intent = (parse.get("intent") or {}).get("name") or FALLBACK
    return candidates(parse) if intent == FALLBACK else []


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(t) for t in texts]


def clarifying(gold: list[str], parses: list[dict]) -> tuple[int, int]:
    """How many questions got a clarifying question, and in how many the right topic."""
    asked = [(g, offered(p)) for g, p in zip(gold, parses, strict=True)]
    asked = [(g, o) for g, o in asked if o]
    return len(asked), sum(g in o for g, o in asked)


def report(gold: list[str], pred: list[str]) -> tuple[float, float, str]:
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    labels = sorted(set(gold))
    text = classification_report(gold, pred, labels=labels, digits=3, zero_division=0)
    macro = f1_score(gold, pred, labels=labels, average="macro", zero_division=0)
    return float(accuracy_score(gold, pred)), float(macro), text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--file", required=True, type=Path)
    parser.add_argument("--errors", action="store_true", help="list every miss")
    parser.add_argument("--predictions", type=Path, help="write the labels per question here")
    args = parser.parse_args()
    quiet_rasa()

    items = load_items(args.file)
    texts = [str(i["text"]) for i in items]
    gold = [str(i["label"]) for i in items]
    parses = asyncio.run(parse_all(args.model, texts))
    pred = [predicted_label(p) for p in parses]
    pred_folded = [
        predicted_label(p) for p in asyncio.run(parse_all(args.model, [fold(t) for t in texts]))
    ]

    accuracy, macro_f1, table = report(gold, pred)
    accuracy_folded = sum(g == p for g, p in zip(gold, pred_folded, strict=True)) / len(gold)
    typed_plain = [i for i, t in enumerate(texts) if not has_diacritics(t)]
    plain_acc = sum(gold[i] == pred[i] for i in typed_plain) / max(1, len(typed_plain))

    print(f"Model: {args.model.name}  File: {args.file}  Questions: {len(items)}")
    print(table)
    print(f"Questions typed without diacritics: {len(typed_plain)}, accuracy {plain_acc:.3f}")
    misses = [(t, g, p) for t, g, p in zip(texts, gold, pred, strict=True) if g != p]
    wrong = sum(p != OUT_OF_SCOPE for _, _, p in misses)
    # A wrong topic misleads; "I did not understand" / "I only answer VNeID questions"
    # is honest and offers a way forward.
    print(f"Misses: {len(misses)} (wrong answers {wrong}, non-answers {len(misses) - wrong})")
    asked, asked_right = clarifying(gold, parses)
    print(f"Wrong answers: {wrong} ({wrong / len(items):.1%} of questions)")
    print(
        f"Clarifying questions: {asked} ({asked / len(items):.1%} of questions); "
        f"the right topic among the buttons in {asked_right}"
    )
    for t, g, p in misses if args.errors else misses[:15]:
        print(f"  {g:28} -> {p:28} | {t[:90]}")
    if args.predictions:
        args.predictions.write_text(json.dumps({"gold": gold, "pred": pred}), encoding="utf-8")
    print(
        json.dumps(
            {
                "n": len(items),
                "accuracy": round(accuracy, 4),
                "macro_f1": round(macro_f1, 4),
                "accuracy_no_diacritics": round(accuracy_folded, 4),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
