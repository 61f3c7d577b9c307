"""The texts /nlg serves from memory stay current: edits here at once, elsewhere within a check."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, text

from bot.db import Database, session_scope
from bot.faq.cache import ContentCache, current_version
from bot.faq.models import FaqEntry, ResponseTemplate
from bot.handoff.models import Officer
from tests.auxil.console import nlg


def greet_text(factory) -> str:
    with session_scope(factory) as session:
        return session.scalar(
            select(ResponseTemplate.text).where(ResponseTemplate.name == "utter_greet")
        )


def test_an_edit_after_the_text_was_served_is_served_on_the_next_request(client, session_factory):
    first = nlg(client, "utter_greet")["text"]
    assert nlg(client, "utter_greet")["text"] == first  # now from memory
    with session_scope(session_factory) as session:  # this process: forgotten on commit
        greet = session.scalar(
            select(ResponseTemplate).where(ResponseTemplate.name == "utter_greet")
        )
        greet.text = "Chào bác, tôi là trợ lý VNeID (đã sửa)."
    assert nlg(client, "utter_greet")["text"] == "Chào bác, tôi là trợ lý VNeID (đã sửa)."


def test_every_content_change_counts_and_other_writes_do_not(session_factory):
    with session_scope(session_factory) as session:
        before = current_version(session)
    with session_scope(session_factory) as session:
        session.scalar(select(FaqEntry).where(FaqEntry.key == "fee")).title = "Lệ phí"
    with session_scope(session_factory) as session:
        assert current_version(session) == before + 1
        session.add(Officer(name="Hùng", commune_id=None, telegram_user_id=1))
    with session_scope(session_factory) as session:
        assert current_version(session) == before + 1  # an officer is not a text
        session.delete(session.scalar(select(FaqEntry).where(FaqEntry.key == "fee")))
    with session_scope(session_factory) as session:
        assert current_version(session) == before + 2


def test_a_change_made_by_another_process_is_seen_at_the_next_check(session_factory):
    cache = ContentCache(Database(session_factory, threads=1))
    engine = session_factory.kw["bind"]

    async def go():
        await cache.check()
        old = (await cache.response("utter_greet")).text
        # another app process (or `bot init`): its own connection, no hook of this process
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE response_template SET text = 'mới' WHERE name = 'utter_greet'")
            )
            connection.execute(text("UPDATE content_version SET version = version + 1"))
        assert (await cache.response("utter_greet")).text == old  # until the check
        await cache.check()
        assert (await cache.response("utter_greet")).text == "mới"

    asyncio.run(go())


def test_a_text_read_while_the_texts_changed_is_not_kept(session_factory):
    class SlowDatabase(Database):
        async def run(self, work):
            result = await super().run(work)
            cache.forget()  # a change committed while this read was on its way
            return result

    cache = ContentCache(SlowDatabase(session_factory, threads=1))

    async def go():
        await cache.response("utter_greet")
        assert len(cache) == 0  # read again next time

    asyncio.run(go())


def test_served_copies_are_the_callers_own(session_factory):
    cache = ContentCache(Database(session_factory, threads=1))

    async def go():
        first = await cache.response("utter_greet")
        first.text = "{name} sửa riêng"
        first.buttons.clear()
        again = await cache.response("utter_greet")
        assert again.text == greet_text(session_factory) and again.buttons

    asyncio.run(go())


def test_the_check_runs_in_the_background(session_factory):
    cache = ContentCache(Database(session_factory, threads=1), refresh_s=0.05)
    engine = session_factory.kw["bind"]

    async def go():
        async with cache.running():
            await asyncio.sleep(0.1)
            await cache.response("utter_greet")
            with engine.begin() as connection:
                connection.execute(text("UPDATE content_version SET version = version + 1"))
            for _ in range(50):
                await asyncio.sleep(0.02)
                if len(cache) == 0:
                    break
            assert len(cache) == 0

    asyncio.run(go())
