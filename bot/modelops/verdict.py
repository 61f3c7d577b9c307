"""Whether a newly trained model may replace the live one.

Both models classify the same held-out questions. Retraining moves the scores even when
nothing got worse: adding one topic reshuffles the batches, and on these 534 questions the
same scenario trained twice scored 97.0 % and 95.3 % against a live 96.6 %. A bare
"no more than one point lower" rule therefore refused good models at random.

So a candidate is refused only when it is worse than the live model by more than the margin
*and* that is not chance: the questions are resampled with replacement (paired bootstrap,
the same resample for both models, Koehn 2004), and the drop must exceed the margin in at
least ``confidence`` of the resamples. A model that forgets a topic or mixes two up drops
far more than the noise and is refused every time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

__all__ = ["METRICS", "judge", "macro_f1", "share_worse"]

METRICS = (("accuracy", "độ chính xác"), ("macro_f1", "F1 trung bình"))
ROUNDS = 1000


def macro_f1(
    gold: Sequence[int], pred: Sequence[int], labels: int, picks: Sequence[int] | None = None
) -> float:
    """Macro F1 over label ids ``0..labels-1`` (the gold labels), on ``picks`` (all if None).

    Like scikit-learn's ``f1_score(average="macro", zero_division=0)`` with the gold labels:
    predictions outside them (``-1``) count only as misses.
    """
    tp = [0] * labels
    fp = [0] * labels
    fn = [0] * labels
    for i in range(len(gold)) if picks is None else picks:
        g, p = gold[i], pred[i]
        if g == p:
            tp[g] += 1
        else:
            fn[g] += 1
            if p >= 0:
                fp[p] += 1
    total = 0.0
    for t, f_p, f_n in zip(tp, fp, fn, strict=True):
        if t:
            total += 2 * t / (2 * t + f_p + f_n)
    return total / labels


def share_worse(
    gold: Sequence[str],
    candidate: Sequence[str],
    live: Sequence[str],
    margin: float,
    *,
    rounds: int = ROUNDS,
    seed: int = 0,
) -> dict[str, float]:
    """Per metric, the share of paired resamples where the candidate is worse by > margin."""
    if not (len(gold) == len(candidate) == len(live)) or not gold:
        raise ValueError("both models must classify the same, non-empty list of questions")
    names = sorted(set(gold))
    ids = {name: i for i, name in enumerate(names)}
    g = [ids[x] for x in gold]
    c = [ids.get(x, -1) for x in candidate]
    v = [ids.get(x, -1) for x in live]
    n = len(g)
    rng = random.Random(seed)  # noqa: S311 - statistics, not secrets
    worse = {"accuracy": 0, "macro_f1": 0}
    for _ in range(rounds):
        picks = rng.choices(range(n), k=n)
        lost = sum((v[i] == g[i]) - (c[i] == g[i]) for i in picks)
        if lost / n > margin:
            worse["accuracy"] += 1
        drop = macro_f1(g, v, len(names), picks) - macro_f1(g, c, len(names), picks)
        if drop > margin:
            worse["macro_f1"] += 1
    return {key: count / rounds for key, count in worse.items()}


def judge(
    candidate: dict[str, Any], live: dict[str, Any], margin: float, confidence: float
) -> str | None:
    """Why the candidate must not replace the live model, or None when it may.

    ``candidate`` and ``live`` are ``scripts/evaluate.py`` results with ``gold`` and
    ``pred`` (one label per held-out question).
    """
    beyond = [key for key, _ in METRICS if candidate[key] < live[key] - margin]
    if not beyond:
        return None
    if candidate["gold"] != live["gold"]:
        raise ValueError("the two models were scored on different questions")
    shares = share_worse(candidate["gold"], candidate["pred"], live["pred"], margin)
    worse = [
        f"{label} {candidate[key]:.1%} so với {live[key]:.1%}"
        for key, label in METRICS
        if key in beyond and shares[key] >= confidence
    ]
    if not worse:
        return None
    return (
        "Không đưa vào dùng: mô hình mới kém hơn mô hình đang dùng quá mức cho phép "
        f"({margin:.1%}), rõ rệt chứ không phải do dao động của bộ câu hỏi kiểm tra: "
        + "; ".join(worse)
        + "."
    )
