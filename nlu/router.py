"""Rasa component that makes retrieval answers safe and button-addressable."""

from __future__ import annotations

import logging
import re
from typing import Any

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
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

logger = logging.getLogger(__name__)

_PAYLOAD_RE = re.compile(r"^/(?P<intent>[a-z_]+)/(?P<key>[a-z0-9_]+)$")
_KEYS_FILE = "retrieval_keys.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RetrievalRouter(GraphComponent, IntentClassifier):
    """Route button payloads and guard low-confidence retrieval answers.

    Put it last in the pipeline, after ``ResponseSelector`` and
    ``FallbackClassifier``. It does two things Rasa 3.6 does not:

    * A button payload ``/faq/<key>`` (a retrieval intent and one of its
      trained response keys) is classified as that intent and that response
      with confidence 1.0. Rasa's own ``/intent`` handling cannot address a
      retrieval sub-intent.
    * When the message was classified as a retrieval intent but the response
      selector is unsure (top confidence below ``threshold``, or the top two
      topics within ``ambiguity_threshold`` of each other), the intent
      becomes ``nlu_fallback``: the assistant asks which topic was meant
      (nlu/clarify.py) instead of answering the wrong topic with confidence.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config.

        Returns:
            ``threshold``: the lowest response-selector confidence that is
            answered.
        """
        return {"threshold": 0.4}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        keys: dict[str, list[str]] | None = None,
    ) -> None:
        """Store the config and the known response keys.

        Args:
            config: the merged component config.
            model_storage: where the trained keys are persisted.
            resource: this component's resource in the storage.
            keys: response keys per retrieval intent, known after training.
        """
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._keys = keys or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RetrievalRouter:
        """Create an untrained component.

        Args:
            config: the merged component config.
            model_storage: where the trained keys will be persisted.
            resource: this component's resource in the storage.
            execution_context: unused.

        Returns:
            A new component that knows no keys yet.
        """
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RetrievalRouter:
        """Load the keys learned in training.

        Args:
            config: the merged component config.
            model_storage: where the trained keys were persisted.
            resource: this component's resource in the storage.
            execution_context: unused.
            **kwargs: unused.

        Returns:
            The component with its keys.
        """
        try:
            with model_storage.read_from(resource) as directory:
                keys = rasa.shared.utils.io.read_json_file(directory / _KEYS_FILE)
        except ValueError:
            logger.warning("RetrievalRouter found no trained keys; payloads off.")
            keys = {}
        return cls(config, model_storage, resource, keys)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn which response keys each retrieval intent has.

        Args:
            training_data: the NLU training data.

        Returns:
            The resource holding the keys.
        """
        keys: dict[str, set[str]] = {}
        for example in training_data.intent_examples:
            full = example.get(INTENT_RESPONSE_KEY)
            if full and "/" in full:
                intent, key = full.split("/", 1)
                keys.setdefault(intent, set()).add(key)
        self._keys = {intent: sorted(found) for intent, found in keys.items()}
        with self._model_storage.write_to(self._resource) as directory:
            rasa.shared.utils.io.dump_obj_as_json_to_file(directory / _KEYS_FILE, self._keys)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leave training data unchanged.

        Args:
            training_data: the NLU training data.

        Returns:
            The same data.
        """
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Apply payload routing and the retrieval confidence guard.

        Args:
            messages: parsed messages.

        Returns:
            The same messages, some re-labelled.
        """
        for message in messages:
            if not self._route_payload(message):
                self._guard(message)
        return messages

    def _route_payload(self, message: Message) -> bool:
        match = _PAYLOAD_RE.match((message.get(TEXT) or "").strip())
        if not match:
            return False
        intent, key = match.group("intent"), match.group("key")
        if key not in self._keys.get(intent, []):
            return False
        full = f"{intent}/{key}"
        message.set(
            INTENT, {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True
        )
        message.set(
            INTENT_RANKING_KEY,
            [{INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}],
            add_to_output=True,
        )
        selector = message.get(RESPONSE_SELECTOR) or {}
        selector.setdefault("all_retrieval_intents", sorted(self._keys))
        selector[intent] = {
            "response": {
                "responses": [{TEXT: full}],
                PREDICTED_CONFIDENCE_KEY: 1.0,
                INTENT_RESPONSE_KEY: full,
                "utter_action": f"utter_{full}",
            },
            "ranking": [{PREDICTED_CONFIDENCE_KEY: 1.0, INTENT_RESPONSE_KEY: full}],
        }
        message.set(RESPONSE_SELECTOR, selector, add_to_output=True)
        return True

    def _guard(self, message: Message) -> None:
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent not in self._keys:
            return
        selected = (message.get(RESPONSE_SELECTOR) or {}).get(intent, {})
        confidence = selected.get("response", {}).get(PREDICTED_CONFIDENCE_KEY, 0.0)
        ranked = [r.get(PREDICTED_CONFIDENCE_KEY, 0.0) for r in selected.get("ranking") or []]
        second = sorted(ranked, reverse=True)[1] if len(ranked) > 1 else 0.0
        lead = confidence - second
        if confidence >= self._config["threshold"] and lead >= self._config.get(
            "ambiguity_threshold", 0.0
        ):
            return
        logger.debug("Retrieval of %s unsure: %.2f, lead %.2f.", intent, confidence, lead)
        fallback = {
            INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
            PREDICTED_CONFIDENCE_KEY: self._config["threshold"],
        }
        message.set(INTENT, fallback, add_to_output=True)
        ranking = message.get(INTENT_RANKING_KEY) or []
        message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
