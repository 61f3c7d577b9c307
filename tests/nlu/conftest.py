"""Fixtures of the custom Rasa components' tests (Rasa environment)."""

from __future__ import annotations

import pytest


@pytest.fixture
def storage(tmp_path):
    """A model storage in the test's own folder."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    return LocalModelStorage(tmp_path)


@pytest.fixture
def context():
    """The execution context components are created with."""
    from rasa.engine.graph import ExecutionContext, GraphSchema

    return ExecutionContext(GraphSchema({}), "test")
