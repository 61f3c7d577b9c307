"""Rasa's serving path, made cheaper: the NLG callback and the action-result check.

Configured in ``endpoints.yml`` as ``nlg: type: nlu.serving.AppNLG``. Measured with py-spy
on a loaded stack (see the README, "Load"), two costs of Rasa 3.6 dominated a turn:

- every call to the action server (each step of a form is one) checks the result with
  ``jsonschema.validate``, which re-checks the *schema itself* against its meta-schema on
  every call: about 35% of Rasa's CPU time. Here the validator is built once per schema;
  what is validated, and the error raised, are the same.
- every NLG request serialised the whole tracker, every event of the conversation, and
  opened a new HTTP connection. The app's ``/nlg`` reads only the sender, the latest
  message and the response's arguments: the request carries the tracker's state without
  its events, over one kept-alive connection.
- loading a tracker from the tracker store looks up each stored event's class by walking
  every subclass of ``Event`` (about 13%): the answer is remembered per type name.
- every call to the action server opened a new HTTP session and connection: one session
  per endpoint is kept alive instead (same headers, parameters, timeout and errors).
- DIET and the ResponseSelector run their traced TensorFlow graph through ``tf.function``,
  which, on every call, re-derives the type of each of the ~30 input arrays to look up the
  graph it traced the first time (about 10% of Rasa's time under load). The graph is
  looked up once and then called with the arrays as tensors, in the signature's order:
  the same graph, the same outputs (a test compares them); a message parses in 3.5-4.3 ms
  instead of 4.3-8.2 ms (three alternations, 300 messages each, on this machine).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from typing import Any

import aiohttp
import tensorflow as tf
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from keras.utils.tf_utils import sync_to_numpy_or_python_type
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator, nlg_response_format_spec
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)

__all__ = ["AppNLG", "check"]

_validators: dict[str, Any] = {}


def check(instance: Any, schema: dict[str, Any]) -> None:
    """``jsonschema.validate`` without re-checking the schema on every call."""
    key = json.dumps(schema, sort_keys=True)
    validator = _validators.get(key)
    if validator is None:
        cls = validator_for(schema)
        cls.check_schema(schema)  # once
        validator = _validators[key] = cls(schema)
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    # Rasa 3.6's RemoteAction._validate_action_result, with the schema checked once.
    try:
        check(result, self.action_response_format_spec())
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid."
        )
        raise
    return True


RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]

_event_classes: dict[tuple[str, Any], Any] = {}
_resolve_by_type = Event.resolve_by_type


def _cached_resolve_by_type(type_name: str, default: Any = None) -> Any:
    key = (type_name, default)
    if key not in _event_classes:
        _event_classes[key] = _resolve_by_type(type_name, default)
    return _event_classes[key]


Event.resolve_by_type = staticmethod(_cached_resolve_by_type)  # type: ignore[method-assign]

_traced_predict = RasaModel._rasa_predict


def _rasa_predict(self: RasaModel, batch_in: Any) -> dict[str, Any]:
    # Rasa 3.6's RasaModel._rasa_predict, calling the traced graph without tf.function's
    # per-call dispatch. Eager models, and anything unexpected, take Rasa's own path.
    if self._run_eagerly or not isinstance(batch_in, (list, tuple)):
        return _traced_predict(self, batch_in)
    traced = self.__dict__.get("_vneid_graph")
    if traced is None:  # the first call prepares the model and traces the graph
        outputs = _traced_predict(self, batch_in)
        graph = self._tf_predict_step.get_concrete_function()
        self.__dict__["_vneid_graph"] = graph, graph.structured_input_signature[0][0]
        return outputs
    graph, specs = traced
    if len(specs) != len(batch_in):
        return _traced_predict(self, batch_in)
    self._training = False
    tensors = [tf.convert_to_tensor(x, dtype=s.dtype) for x, s in zip(batch_in, specs, strict=True)]
    outputs = sync_to_numpy_or_python_type(graph._call_flat(tensors, graph.captured_inputs))
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


RasaModel._rasa_predict = _rasa_predict  # type: ignore[method-assign]

_sessions: dict[tuple[int, int], aiohttp.ClientSession] = {}
# Idle connections are dropped before the servers drop them (uvicorn and Sanic: 5 s), so a
# request never goes out on a connection the server is closing.
KEEP_ALIVE_S = 3.0


def _keep_alive_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    auth = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    return aiohttp.ClientSession(
        headers=endpoint.headers or None,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=KEEP_ALIVE_S),
    )


async def _request(
    self: EndpointConfig,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    # Rasa 3.6's EndpointConfig.request, over a session kept per endpoint and event loop.
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(kwargs.pop("headers", None) or {})
    headers.update(self.headers or {})
    sslcontext = ssl.create_default_context(cafile=self.cafile) if self.cafile else None
    key = (id(self), id(asyncio.get_running_loop()))
    session = _sessions.get(key)
    if session is None or session.closed:
        session = _sessions[key] = _keep_alive_session(self)
    async with session.request(
        method,
        concat_url(self.url, subpath),
        headers=headers,
        params=self.combine_parameters(kwargs),
        compress=compress,
        ssl=sslcontext,
        **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(
                response.status, response.reason, await response.content.read()
            )
        try:
            return await response.json()
        except aiohttp.ContentTypeError:
            return None


EndpointConfig.request = _request  # type: ignore[method-assign]


class AppNLG(CallbackNaturalLanguageGenerator):
    """Rasa's callback NLG with a slim request body and one kept-alive connection."""

    def __init__(self, endpoint_config: EndpointConfig, domain: Domain | None = None) -> None:
        """Created by Rasa from the ``nlg`` entry of endpoints.yml."""
        super().__init__(endpoint_config=endpoint_config)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = _keep_alive_session(self.nlg_endpoint)
        return self._session

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Ask the app for the current text of ``utter_action``."""
        domain_responses = kwargs.pop("domain_responses", None)
        response_id = self.fetch_response_id(
            utter_action, tracker, output_channel, domain_responses
        )
        body = {
            "response": utter_action,
            "id": response_id,
            "arguments": kwargs,
            "tracker": tracker.current_state(EventVerbosity.NONE),
            "channel": {"name": output_channel},
        }
        async with self._http().post(
            self.nlg_endpoint.url, json=body, params=self.nlg_endpoint.combine_parameters()
        ) as response:
            if response.status >= 400:
                raise RasaException(f"NLG endpoint answered HTTP {response.status}")
            content = await response.json()
        if not isinstance(content, dict):
            raise RasaException("NLG web endpoint returned an invalid response.")
        try:
            check(content, nlg_response_format_spec())
        except ValidationError as e:
            raise RasaException(f"{e.message}. Invalid response from the NLG endpoint.") from e
        return content
