"""Walkthrough logic: from the current step and what the citizen did, the next turn.

A small state machine driven by two slots, ``wt_step`` (where the citizen is)
and ``wt_active`` (whether the walkthrough is running). It was chosen over a
Rasa form because the path branches on choices and errors rather than filling
slots, and because a citizen must be able to leave, ask something else and
come back to the same step, even days later: the slots live in Rasa's tracker
store, so the step survives restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.faq.content import RETRIEVAL_INTENT
from bot.walkthrough.flow import Flow

__all__ = [
    "Move",
    "Outcome",
    "State",
    "advance",
    "faq_response",
    "fix_response",
    "message_response",
]


class Move(StrEnum):
    """What the citizen asked the walkthrough to do."""

    START = "start"
    GO = "go"
    NEXT = "next"
    ERROR = "error"
    STOP = "stop"
    RESUME = "resume"
    RESTART = "restart"
    ASK = "ask"  # a typed question (an FAQ topic) while the guide runs
    TOPIC = "topic"  # a topic button pressed while the guide runs: that topic's answer
    OFFER = "offer"  # after a question in the middle: offer the way back


@dataclass(frozen=True)
class State:
    """Where the citizen is: the step, whether the walkthrough runs, the last error."""

    step: str | None = None
    active: bool = False
    error_step: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The responses to send, in order, and the new state."""

    responses: list[str] = field(default_factory=list)
    state: State = State()


def message_response(name: str) -> str:
    """Response name of a fixed walkthrough message."""
    return f"utter_wt_msg_{name}"


def fix_response(fix: str) -> str:
    """Response name of the fixes shown for an error kind."""
    return f"utter_wt_fix_{fix}"


def faq_response(topic: str) -> str:
    """Response name of an FAQ topic's answer."""
    return f"utter_{RETRIEVAL_INTENT}/{topic}"


def advance(flow: Flow, state: State, move: Move, target: str | None = None) -> Outcome:
    """Return the next turn of the walkthrough.

    ``target`` is the step of ``GO``, the step the first message named for ``START``
    (``Flow.entry``) and the FAQ topic of ``ASK``.
    """
    step = state.step if state.step in flow.steps else None
    if move is Move.START:
        if target in flow.steps:  # "tôi có tin nhắn duyệt rồi": start where they are
            return _show(flow, target)
        if state.active and step not in (None, flow.start):
            return Outcome([message_response("in_progress")], state)
        return _show(flow, flow.start)
    if move is Move.RESTART:
        return _show(flow, flow.start)
    if move is Move.GO:
        if target in flow.steps:
            return _show(flow, target)
        move = Move.RESUME  # an unknown target (an old button): show where they are
    if move in (Move.ASK, Move.TOPIC):
        return _ask(flow, state, step if move is Move.ASK else None, target)
    if move is Move.OFFER:
        return Outcome([message_response("offer_resume")] if state.active else [], state)
    if step is None:
        return Outcome([message_response("not_started")], State())
    if move is Move.RESUME:
        return _show(flow, step)
    if move is Move.STOP:
        return Outcome([message_response("stopped")], State(step=step, active=False))
    if move is Move.ERROR:
        fix = flow.step(step).fix or "generic"
        return Outcome([fix_response(fix)], State(step=step, active=True, error_step=step))
    # Move.NEXT: the first forward button; the last step has none.
    following = flow.first_next(step)
    return _show(flow, following or step)


def _ask(flow: Flow, state: State, step: str | None, topic: str | None) -> Outcome:
    """A question mid-guide: the step's own rule and the step again, or the topic's answer.

    ``step`` is None for a pressed topic button: the citizen chose that answer.
    """
    if state.active and step is not None and topic in flow.step(step).about:
        current = flow.step(step)
        return Outcome([current.help_response, current.response], state)
    answer = [faq_response(topic)] if topic else []
    return Outcome(answer + ([message_response("offer_resume")] if state.active else []), state)


def _show(flow: Flow, name: str) -> Outcome:
    step = flow.step(name)
    active = bool(step.buttons or step.fix)  # the last step ends the walkthrough
    return Outcome([step.response], State(step=name, active=active, error_step=None))
