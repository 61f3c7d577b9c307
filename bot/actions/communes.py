"""Which commune is mine now? Answers from the commune directory."""

from __future__ import annotations

import asyncio
import json
from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import db
from bot.campaign import listing, progress
from bot.clock import system_clock
from bot.communes import service as communes_service
from bot.communes.resolver import Directory, FormerUnit, Status
from bot.config import get_settings
from bot.db import Clock, session_scope

QUERY_ENTITY = "commune_query"


@cache
def directory() -> Directory:
    """The commune directory, loaded once per action-server process."""
    # Loaded once per action-server process, on first use (not at import).
    with session_scope(db.factory()) as session:
        return communes_service.load_directory(session=session)


@cache
def _clock() -> Clock:
    return system_clock(get_settings())


def _sessions(unit: FormerUnit) -> listing.Listing | None:
    """The next registration sessions of the commune ``unit`` became (a worker thread)."""
    with session_scope(db.factory()) as session:
        commune = listing.commune_of(session, unit)
        if commune is None:
            return None
        now = _clock()()
        progress.count_question(session, commune.id, now=now)  # the demand there
        return listing.listing(session, commune, now=now)


def _choice_payload(text: str) -> str:
    return "/commune_lookup" + json.dumps({QUERY_ENTITY: text}, ensure_ascii=False)


class ActionCommuneLookup(Action):
    """Tell the citizen which commune their former commune became, or ask which one."""

    def name(self) -> str:
        """Return the action name used in the domain."""
        return "action_commune_lookup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Resolve the place named in the message and answer."""
        chosen = next(tracker.get_latest_entity_values(QUERY_ENTITY), None)
        text = chosen or str(tracker.latest_message.get("text") or "")
        if text.startswith("/"):  # the button "Xã tôi giờ là xã nào?" names no place
            dispatcher.utter_message(response="utter_commune_ask")
            return []
        result = directory().resolve(text)
        if result.status is Status.FOUND:
            unit = result.matches[0]
            dispatcher.utter_message(
                response="utter_commune_found",
                old=f"{unit.unit_type.capitalize()} {unit.name} ({unit.district}) cũ",
                new=unit.new_label,
                new_short=f"{unit.new_type} {unit.new_name}",
            )
            coming = await asyncio.to_thread(_sessions, unit)
            if coming is not None and not coming.empty:  # its next registration sessions
                dispatcher.utter_message(
                    response="utter_sessions_list",
                    commune=coming.commune,
                    lines=coming.lines,
                    buttons=[b.model_dump() for b in coming.buttons],
                )
        elif result.status is Status.AMBIGUOUS:
            dispatcher.utter_message(
                response="utter_commune_ambiguous",
                buttons=[
                    {"title": unit.label, "payload": _choice_payload(unit.label)}
                    for unit in result.matches[:6]
                ],
            )
        elif result.status is Status.PROVINCE:
            dispatcher.utter_message(response="utter_commune_province")
        else:
            dispatcher.utter_message(response="utter_commune_not_found")
        return []
