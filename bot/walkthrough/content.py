"""The walkthrough's texts as bot responses, for seeding the database."""

from __future__ import annotations

from bot.faq.schemas import BotResponse, Button
from bot.walkthrough.flow import Flow, WtButton
from bot.walkthrough.service import fix_response, message_response

__all__ = ["walkthrough_responses"]


def _buttons(buttons: list[WtButton]) -> list[Button]:
    return [Button(title=b.title, payload=b.rendered_payload) for b in buttons]


def walkthrough_responses(flow: Flow) -> dict[str, BotResponse]:
    """Every text of the walkthrough, with its buttons, by response name."""
    out = {
        step.response: BotResponse(text=step.text, buttons=_buttons(flow.buttons(name)))
        for name, step in flow.steps.items()
    }
    for step in flow.steps.values():
        if step.help:  # the step itself follows with its buttons
            out[step.help_response] = BotResponse(text=step.help)
    for fix, text in flow.fixes.items():
        out[fix_response(fix)] = BotResponse(text=text, buttons=_buttons(flow.fix_buttons()))
    for name, (text, keys) in flow.messages.items():
        out[message_response(name)] = BotResponse(
            text=text, buttons=_buttons([flow.label_button(k) for k in keys])
        )
    return out
