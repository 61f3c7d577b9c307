"""A second opinion from a linear model, blended into DIET's and the response selector's.

DIET (a neural network trained for 40 epochs on a few thousand questions) and a linear
support-vector machine on TF-IDF n-grams make different mistakes: DIET generalises across
words, the linear model keeps to the exact words and n-grams that were seen. The linear
model reads the text twice, as typed (lower-cased, teencode expanded, diacritics kept) and
folded (diacritics removed), with word 1-3-grams and character 2-5-grams of each, and is
trained on every question plus a copy without diacritics: a question typed with diacritics
matches on both views, one typed without them on the folded view. Training takes seconds.

Its decision values become probabilities by a softmax with a temperature, and every label's
confidence becomes ``(1 - weight) * DIET's + weight * the linear model's``, for the intent
and, inside the ``faq`` intent, for the topic. The fallback thresholds read the blended
confidences, so put this after the ResponseSelector and before FallbackClassifier.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any

import joblib
import numpy as np
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
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from nlu import text as vn

logger = logging.getLogger(__name__)

__all__ = ["LinearOpinion", "SecondOpinion"]

_FILE = "second_opinion.joblib"
_RANKING = 10
_WORD = r"\w+"  # a word: letters and digits, as nlu.text splits them


def views(text: str) -> tuple[str, str]:
    """The two readings of a text: as typed (normalised, teencode expanded) and folded."""
    typed = vn.expand(text)
    return typed, vn.fold(typed)


class LinearOpinion:
    """TF-IDF n-grams of both views, a linear SVM, and a softmax of its decision values."""

    def __init__(self, config: dict[str, Any]) -> None:
        """Build the untrained vectorizers and classifier from the component's config."""
        low, high = config["char_ngrams"]
        self.temperature = float(config["temperature"])
        self.vectorizers = [
            vectorizer
            for _view in (0, 1)
            for vectorizer in (
                TfidfVectorizer(
                    ngram_range=(1, int(config["word_ngrams"])),
                    sublinear_tf=True,
                    token_pattern=_WORD,
                    lowercase=False,
                ),
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(int(low), int(high)),
                    sublinear_tf=True,
                    min_df=2,
                    lowercase=False,
                ),
            )
        ]
        self.svm = LinearSVC(C=float(config["C"]), random_state=42)

    def _matrix(self, texts: list[str], *, fit: bool) -> csr_matrix:
        read = [views(t) for t in texts]
        blocks = []
        for i, vectorizer in enumerate(self.vectorizers):
            column = [r[i // 2] for r in read]
            blocks.append(vectorizer.fit_transform(column) if fit else vectorizer.transform(column))
        return hstack(blocks).tocsr()

    @property
    def classes_(self) -> list[str]:
        """The labels, in the order of predict_proba's columns."""
        return [str(c) for c in self.svm.classes_]

    def fit(self, texts: list[str], labels: list[str]) -> LinearOpinion:
        """Train on the texts and on a copy without diacritics of each that has them."""
        copies = [
            (vn.fold(t), lab) for t, lab in zip(texts, labels, strict=True) if vn.has_diacritics(t)
        ]
        all_texts = texts + [t for t, _ in copies]
        all_labels = labels + [lab for _, lab in copies]
        self.svm.fit(self._matrix(all_texts, fit=True), all_labels)
        self._reader = None
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """One row per text: a softmax of the decision values over the labels."""
        scores = np.vstack([self._scores(t) for t in texts])
        if scores.shape[1] == 1:  # two labels: one column, the second label's score
            scores = np.hstack([-scores, scores])
        scores = scores / self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def _scores(self, text: str) -> np.ndarray:
        """The SVM's decision values for one text, without sklearn's per-call overhead.

        The same arithmetic as ``decision_function(transform([text]))`` (a test checks they
        agree): each block's known n-grams counted, ``1 + log(count)`` times the idf,
        scaled to unit length, then dotted with the SVM's weights. Per message it takes a
        tenth of the time of four ``transform`` calls, on Rasa's hot path.
        """
        if self._reader is None:
            self._reader = self._build_reader()
        columns_t, intercept, blocks = self._reader
        read = views(text)
        index: list[np.ndarray] = []
        value: list[np.ndarray] = []
        for view, analyze, vocabulary, idf, offset in blocks:
            counts = Counter(j for j in map(vocabulary.get, analyze(read[view])) if j is not None)
            if not counts:
                continue
            cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))) + 1
            weights = tf * idf[cols]
            index.append(cols + offset)
            value.append(weights / np.sqrt(weights @ weights))
        if not index:
            return intercept.copy()
        return np.concatenate(value) @ columns_t[np.concatenate(index)] + intercept

    _reader: tuple[np.ndarray, np.ndarray, list[tuple[Any, ...]]] | None = None

    def _build_reader(self) -> tuple[np.ndarray, np.ndarray, list[tuple[Any, ...]]]:
        blocks = []
        offset = 0
        for i, vectorizer in enumerate(self.vectorizers):
            blocks.append(
                (
                    i // 2,
                    vectorizer.build_analyzer(),
                    vectorizer.vocabulary_,
                    vectorizer.idf_,
                    offset,
                )
            )
            offset += len(vectorizer.vocabulary_)
        coef = np.atleast_2d(self.svm.coef_)
        return np.ascontiguousarray(coef.T), np.ravel(self.svm.intercept_), blocks

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the reader (rebuilt on first use after loading)."""
        state = dict(self.__dict__)
        state.pop("_reader", None)
        return state


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
    """Blend a linear model's probabilities into the intent and the topic."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config.

        Returns:
            ``weight``: the linear model's share of each confidence (0: off); ``C``: the
            SVM's inverse regularisation; ``temperature``: of the softmax over its decision
            values (lower: surer); ``word_ngrams``: longest word n-gram;
            ``char_ngrams``: shortest and longest character n-gram inside words.
        """
        return {
            "weight": 0.5,
            "C": 1.0,
            "temperature": 0.15,
            "word_ngrams": 3,
            "char_ngrams": [2, 5],
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LinearOpinion | None = None,
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
        if model is not None and not isinstance(model, LinearOpinion):
            # a model trained by an earlier version of this component (a rollback)
            logger.warning("SecondOpinion's stored model is of an older kind; DIET decides alone.")
            model = None
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the linear model on the training questions."""
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        labels = [_label(e) for e in examples]
        if len(set(labels)) < 2:
            return self._resource
        model = LinearOpinion(self._config).fit([str(e.get(TEXT)) for e in examples], labels)
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
        probabilities = self._model.predict_proba([str(m.get(TEXT) or "") for m in messages])
        labels = self._model.classes_
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
