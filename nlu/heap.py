"""A loaded model kept out of the cyclic garbage collector's way.

A loaded model is millions of Python objects (TensorFlow's and Keras's), alive as long as
it serves. Python's collector walked all of them on each full collection: under load one
came every few seconds and stopped Rasa's event loop for about 300 ms (a one-off
``gc.callbacks`` timer during ``make bench-load``), delaying every message in flight. Once a
model serves, ``gc.freeze()`` moves what exists to a generation the collector never walks.

A model loaded later (``PUT /model``) is settled the same way at its first message: the
old one is unfrozen and collected first, so its memory is given back.
"""

from __future__ import annotations

import gc
import logging
import weakref
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["Settler"]


class Settler:
    """Freezes the heap once per loaded model (called before each message)."""

    def __init__(self) -> None:
        """Nothing settled yet."""
        self._settled: weakref.ReferenceType[Any] | None = None

    def __call__(self, agent: Any) -> bool:
        """Settle the heap if ``agent`` serves a model not settled yet; say if it did."""
        processor = getattr(agent, "processor", None)  # a new one for each model loaded
        if processor is None or (self._settled is not None and self._settled() is processor):
            return False
        gc.unfreeze()  # the model before, if any: its cycles collectable again
        gc.collect()
        gc.freeze()
        self._settled = weakref.ref(processor)
        logger.info("heap settled for the loaded model: %d objects frozen", gc.get_freeze_count())
        return True
