"""A second opinion from a linear model, blended into DIET's and the response selector's.

DIET (a neural network trained for 40 epochs on a few thousand questions) and a logistic
regression on the same sparse features (TF-IDF weighted) make different mistakes: DIET
generalises across words, the linear model keeps to the exact words and n-grams that were
seen. Averaging their probabilities is a cheap ensemble: every label's confidence becomes
``(1 - weight) * DIET's + weight * the linear model's``, for the intent and, inside the
``faq`` intent, for the topic. The fallback thresholds read the blended confidences, so put
this after the ResponseSelector and before FallbackClassifier.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    RESPONSE_SELECTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

__all__ = ["SecondOpinion"]

_FILE = "second_opinion.joblib"
_RANKING = 10


def _features(messages: list[Message]) -> csr_matrix:
    rows = []
    for message in messages:
        sparse = message.get_sparse_features(TEXT)[1]  # (sequence, sentence)
        dense = message.get_dense_features(TEXT)[1]
        parts = [csr_matrix(f.features) for f in (sparse, dense) if f is not None]
        rows.append(hstack(parts) if parts else csr_matrix((1, 0)))
    return vstack(rows).tocsr()


def _blend(
    theirs: dict[str, float], mine: dict[str, float], weight: float
) -> list[tuple[str, float]]:
    """``(1 - weight) * theirs + weight * mine`` for every label, the likeliest first."""
    blended = {
        label: (1 - weight) * theirs.get(label, 0.0) + weight * mine.get(label, 0.0)
        for label in set(theirs) | set(mine)
    }
    return sorted(blended.items(), key=lambda item: item[1], reverse=True)[:_RANKING]


def _label(example: Message) -> str:
    return str(example.get(INTENT_RESPONSE_KEY) or example.get(INTENT))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SecondOpinion(GraphComponent, IntentClassifier):
    """Blend a TF-IDF logistic regression's probabilities into the intent and the topic."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config.

        Returns:
            ``weight``: the linear model's share of each confidence (0: off);
            ``C``: its inverse regularisation; ``max_iter``: solver iterations.
        """
        return {"weight": 0.5, "C": 10.0, "max_iter": 500}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Pipeline | None = None,
    ) -> None:
        """Store the config and, once trained, the linear model."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SecondOpinion:
        """Create an untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SecondOpinion:
        """Load the trained linear model (none: the component passes messages through)."""
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / _FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("SecondOpinion found no trained model; DIET decides alone.")
            model = None
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the linear model on the featurized training questions."""
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        labels = [_label(e) for e in examples]
        if len(set(labels)) < 2:
            return self._resource
        model = Pipeline(
            [
                ("tfidf", TfidfTransformer(sublinear_tf=True)),
                (
                    "lr",
                    LogisticRegression(
                        C=self._config["C"], max_iter=self._config["max_iter"], random_state=42
                    ),
                ),
            ]
        )
        model.fit(_features(examples), labels)
        self._model = model
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / _FILE)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leave the training data unchanged."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Blend the linear model's probabilities into each message's intent and topic."""
        weight = float(self._config["weight"])
        if self._model is None or weight <= 0 or not messages:
            return messages
        probabilities = self._model.predict_proba(_features(messages))
        labels = [str(c) for c in self._model.classes_]
        for message, row in zip(messages, probabilities, strict=True):
            opinion = dict(zip(labels, (float(p) for p in row), strict=True))
            self._blend_intent(message, opinion, weight)
            self._blend_topics(message, opinion, weight)
        return messages

    @staticmethod
    def _blend_intent(message: Message, opinion: dict[str, float], weight: float) -> None:
        by_intent: dict[str, float] = defaultdict(float)
        for label, p in opinion.items():
            by_intent[label.split("/", 1)[0]] += p
        diet = {
            r[INTENT_NAME_KEY]: float(r[PREDICTED_CONFIDENCE_KEY])
            for r in message.get(INTENT_RANKING_KEY) or []
        }
        ranking = _blend(diet, by_intent, weight)
        rows = [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: c} for n, c in ranking]
        message.set(INTENT, rows[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, rows, add_to_output=True)

    @staticmethod
    def _blend_topics(message: Message, opinion: dict[str, float], weight: float) -> None:
        selector = message.get(RESPONSE_SELECTOR) or {}
        for intent in selector.get("all_retrieval_intents") or []:
            chosen = selector.get(intent)
            if not chosen:
                continue
            prefix = f"{intent}/"
            mine = {k: p for k, p in opinion.items() if k.startswith(prefix)}
            total = sum(mine.values())
            if total <= 0:
                continue
            theirs = {
                str(r[INTENT_RESPONSE_KEY]): float(r[PREDICTED_CONFIDENCE_KEY])
                for r in chosen.get("ranking") or []
            }
            shares = {k: p / total for k, p in mine.items()}  # P(topic | this intent)
            ranking = _blend(theirs, shares, weight)
            top, confidence = ranking[0]
            previous = chosen.get("response") or {}
            same = previous.get(INTENT_RESPONSE_KEY) == top
            chosen["response"] = {
                **previous,
                "responses": previous.get("responses") if same else [],
                PREDICTED_CONFIDENCE_KEY: confidence,
                INTENT_RESPONSE_KEY: top,
                "utter_action": f"utter_{top}",
            }
            chosen["ranking"] = [
                {"id": None, PREDICTED_CONFIDENCE_KEY: c, INTENT_RESPONSE_KEY: k}
                for k, c in ranking
            ]
        if selector:
            message.set(RESPONSE_SELECTOR, selector, add_to_output=True)
