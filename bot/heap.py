"""What a process builds at start kept out of the cyclic garbage collector's way.

Python's collector walks every tracked object of the oldest generation on each full
collection: in the app, the imported modules, SQLAlchemy's mappings and pydantic's models,
all alive for the process's lifetime. Under load a full collection came every few seconds
and stopped the event loop for 50-130 ms (a one-off ``gc.callbacks`` timer during
``make bench-load``), delaying every message in flight. ``gc.freeze()`` once the process
is ready moves what exists to a generation the collector never walks; what is made later is
collected as before, and objects freed by reference counting are freed as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["settle", "settled"]


def settle() -> int:
    """Collect the start-up garbage, then freeze what is left; the objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@contextmanager
def settled() -> Iterator[int]:
    """``settle()`` for the life of the block; unfrozen after it (a test's app, a restart)."""
    frozen = settle()
    try:
        yield frozen
    finally:
        gc.unfreeze()
