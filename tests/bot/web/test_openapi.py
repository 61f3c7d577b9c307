"""The chat API holds its OpenAPI schema under generated input (schemathesis, bounded).

Every documented operation gets schema-valid and schema-invalid requests: no 5xx, every
status, header and body as documented. The web chat's updates and Rasa's /nlg callback are
called as their real callers would (the owner's page with its cookie, Rasa with its token).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from bot.chat import web_session

OPERATIONS = ["POST /api/chat", "POST /api/chat/session", "GET /api/chat/updates", "POST /nlg"]


def _as_its_caller(case, app_settings) -> dict[str, str]:
    """The headers the operation's real caller sends."""
    if case.path == "/nlg":  # Rasa, with its token
        return {"X-Internal-Token": app_settings.rasa_token.get_secret_value()}
    if case.path == "/api/chat/updates" and isinstance(case.query, dict):  # the owner's page
        owner = str(case.query.get("sender_id", ""))
        proof = web_session.proof(app_settings.secret_key.get_secret_value(), owner)
        return {"Cookie": f"{web_session.COOKIE}={proof}"}
    return {}


def test_every_operation_is_checked(client):
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    found = sorted(f"{op.ok().method.upper()} {op.ok().path}" for op in schema.get_all_operations())
    assert found == sorted(OPERATIONS)  # a new operation is added here, and so tested


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_are_answered_as_documented(client, operation, mode):
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    method, path = operation.split(" ")
    api = schema[path][method]
    app_settings = client.app.state.settings

    @given(case=api.as_strategy(generation_mode=mode))
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(headers=_as_its_caller(case, app_settings))

    check()
