"""Rasa's NLG endpoint: Rasa asks for a response by name, we return its text."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Depends, HTTPException, Request

from bot.analytics.recorder import TurnRecorder
from bot.campaign.listing import CAMPAIGN_RESPONSE, SessionFinder
from bot.config import INTERNAL_HEADER, Settings
from bot.faq import service as faq_service
from bot.faq.cache import ContentCache
from bot.faq.exceptions import ResponseMissingError
from bot.faq.schemas import BotResponse, NlgRequest
from bot.web.problems import problems

logger = logging.getLogger(__name__)

router = APIRouter(tags=["nlg"])

_MISSING_TEXT = (
    "Xin lỗi, câu trả lời cho mục này đang được cập nhật. Bạn có thể hỏi cán bộ "
    "Công an xã/phường nơi bạn ở."
)


def from_rasa(request: Request) -> None:
    """Only Rasa may ask: it sends the shared token (endpoints.yml: RASA_TOKEN).

    Checked before the body is read; a forged call could otherwise write turns for a made-up
    citizen into the figures and the unanswered inbox.
    """
    settings: Settings = request.app.state.settings
    given = request.headers.get(INTERNAL_HEADER, "")
    expected = settings.rasa_token.get_secret_value()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status_code=403, detail="Chỉ Rasa được gọi địa chỉ này.")


@router.post(
    "/nlg", response_model=BotResponse, dependencies=[Depends(from_rasa)], responses=problems(403)
)
async def nlg(body: NlgRequest, request: Request) -> BotResponse:
    """Return the current text of the response Rasa asks for (and note the citizen's turn).

    Rasa waits for this on every bubble: the text comes from the process's copy of the
    texts (bot/faq/cache.py, kept current with the database), the turn is queued for the
    figures and written in batches (bot/analytics/recorder.py).
    """
    turns: TurnRecorder = request.app.state.turns
    turns.add(body.tracker, body.response, body.arguments)
    content: ContentCache = request.app.state.content
    try:
        response = await content.response(body.response)
    except ResponseMissingError:
        logger.error("No text stored for response %s", body.response)
        return BotResponse(text=_MISSING_TEXT, buttons=[faq_service.MENU_BUTTON])
    if body.arguments:
        response.text = faq_service.fill_placeholders(response.text, body.arguments)
    if body.response == CAMPAIGN_RESPONSE:  # "when do the police come to my village?"
        finder: SessionFinder = request.app.state.sessions
        asked = (body.tracker.get("latest_message") or {}).get("text")
        response = await finder.answer(str(asked or ""), response)
    topics = body.arguments.get("topics")
    if isinstance(topics, list) and topics:  # action_clarify: the likeliest topics first
        offered = await content.topic_buttons([str(t) for t in topics[:5]])
        shown = {b.payload for b in offered}
        response.buttons = offered + [b for b in response.buttons if b.payload not in shown]
    return response
