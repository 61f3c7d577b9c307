"""Rasa tokenizer for Vietnamese chat text."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import text as vn


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Split Vietnamese text into syllables with a normalised lemma each.

    The token text stays as typed (so offsets and logs are honest), while the
    lemma carries the view the featurizers learn from: Unicode NFC,
    lower-cased, abbreviations expanded ("ko" -> "không", "mk" -> "mật khẩu")
    and, by default, diacritics folded so that "kich hoat" and "kích hoạt"
    give the same features. CountVectorsFeaturizer reads lemmas by default
    (``use_lemma: true``), for words and for character n-grams alike.

    An expansion of several words yields several tokens that share the span of
    the typed abbreviation.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config.

        Returns:
            The tokenizer options: ``fold_diacritics`` (learn from the folded
            view), ``expand_abbreviations``, ``word_segmentation`` (also emit
            pyvi's multi-syllable words such as "tài_khoản"; off by default,
            see README "Word segmentation"), ``fold_copies`` (train also on a
            copy without diacritics of each example typed with them, so that a
            featurizer of the typed form learns both) and Rasa's
            intent-splitting options.
        """
        return {
            "fold_diacritics": True,
            "expand_abbreviations": True,
            "word_segmentation": False,
            "fold_copies": False,
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Return the languages this tokenizer is meant for.

        Returns:
            Only Vietnamese.
        """
        return ["vi"]

    def __init__(self, config: dict[str, Any]) -> None:
        """Store the config.

        Args:
            config: the merged component config.
        """
        super().__init__(config)
        self._fold = bool(config["fold_diacritics"])
        self._fold_copies = bool(config.get("fold_copies"))
        self._expand = bool(config["expand_abbreviations"])
        self._segment = None
        if config["word_segmentation"]:
            from pyvi import ViTokenizer  # optional dependency, only when enabled

            self._segment = ViTokenizer.tokenize

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        """Create the component.

        Args:
            config: the merged component config.
            model_storage: unused, the tokenizer stores nothing.
            resource: unused.
            execution_context: unused.

        Returns:
            A new tokenizer.
        """
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Tokenize the training data, with copies typed without diacritics if configured.

        Args:
            training_data: the NLU training data.

        Returns:
            The tokenized data (a new object when copies were added).
        """
        if self._fold_copies:
            copies = [
                Message(data={**example.data, TEXT: vn.fold(example.get(TEXT))})
                for example in training_data.intent_examples
                if vn.has_diacritics(example.get(TEXT) or "")
            ]
            training_data = training_data.merge(TrainingData(training_examples=copies))
        return super().process_training_data(training_data)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenize one attribute of a message.

        Args:
            message: the message to tokenize.
            attribute: which attribute (text, response...) to read.

        Returns:
            The tokens, one per normalised syllable. Text with no word at all
            (emoji, punctuation) gives one token holding the whole text.
        """
        text = message.get(attribute) or ""
        tokens: list[Token] = []
        for word in vn.words(text, expand_abbreviations=self._expand):
            for part in word.norm.split():
                lemma = vn.fold(part) if self._fold else part
                tokens.append(Token(word.text, word.start, word.end, lemma=lemma))
        if self._segment is not None and tokens:
            tokens.extend(self._compound_tokens(text))
        if not tokens:
            stripped = text.strip() or "_"
            tokens.append(Token(stripped, 0, len(stripped), lemma=stripped))
        return self._apply_token_pattern(tokens)

    def _compound_tokens(self, text: str) -> list[Token]:
        """Return one extra token per multi-syllable word pyvi finds."""
        expanded = " ".join(w.norm for w in vn.words(text, expand_abbreviations=self._expand))
        compounds = [w for w in self._segment(expanded).split() if "_" in w]
        return [
            Token(word, 0, len(text), lemma=vn.fold(word) if self._fold else word)
            for word in compounds
        ]
