"""What officers read on Telegram, by name (``utter_officer_*`` of data/app_texts.yml).

The texts are editable in the console like every other.
``Words`` reads them in the caller's unit of work (or from the seed file when there is
none) and fills their fields; for HTML messages every value is escaped first, so a
citizen's text can never become markup.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sqlalchemy.orm import Session

from bot.faq.fixed import Fixed, fill

__all__ = ["Words"]

ALERT_HEAD = (
    Fixed("utter_officer_alert_new"),
    Fixed("utter_officer_alert_again"),
    Fixed("utter_officer_alert_up"),
)
ALERT_BODY = Fixed("utter_officer_alert_body")
ALERT_RECENT = Fixed("utter_officer_alert_recent")
ALERT_HINT = Fixed("utter_officer_alert_hint")
ALERT_CANCELLED = Fixed("utter_officer_alert_cancelled")
ALERT_RESOLVED = Fixed("utter_officer_alert_resolved")
ALERT_RESOLVED_NOTE = Fixed("utter_officer_alert_resolved_note")
ALERT_CLAIMED = Fixed("utter_officer_alert_claimed")
BUTTON_CLAIM = Fixed("utter_officer_button_claim")
BUTTON_RESOLVE = Fixed("utter_officer_button_resolve")
RELAY = Fixed("utter_officer_relay")
QUEUE_EMPTY = Fixed("utter_officer_queue_empty")
QUEUE_HEAD = Fixed("utter_officer_queue_head")
QUEUE_CLAIMED = Fixed("utter_officer_queue_claimed")
QUEUE_OPEN = Fixed("utter_officer_queue_open")
STATS = Fixed("utter_officer_stats")
HELP = Fixed("utter_officer_help")
NOT_REGISTERED = Fixed("utter_officer_not_registered")
TAKEN = Fixed("utter_officer_taken")
TAKEN_BY = Fixed("utter_officer_taken_by")
CLOSED = Fixed("utter_officer_closed")
FORBIDDEN = Fixed("utter_officer_forbidden")
UNKNOWN = Fixed("utter_officer_unknown")
LATE = Fixed("utter_officer_late")
YOU_CLAIMED = Fixed("utter_officer_you_claimed")
YOU_CLOSED = Fixed("utter_officer_you_closed")
CLOSE_USAGE = Fixed("utter_officer_close_usage")
ID = Fixed("utter_officer_id")


class Words:
    """Officer texts as currently worded, their fields filled (escaped for HTML)."""

    def __init__(self, session: Session | None = None, *, html: bool = True) -> None:
        """``session``: read edits in this unit of work; None: the seed file's texts."""
        self._session = session
        self._html = html

    def __call__(self, words: Fixed, /, **values: Any) -> str:
        """``words`` with ``values`` in its fields."""
        if self._html:
            values = {k: escape(str(v)) for k, v in values.items()}
        if self._session is None:
            return words.seeded(**values).text
        return words.render(self._session, **values).text

    def lines(self, words: Fixed, /, **values: Any) -> list[str]:
        """``words``' lines, filled; a line whose fields are all empty is left out."""
        current = words.default if self._session is None else words.render(self._session)
        kept = []
        for line in current.text.strip().splitlines():
            fields = [name for name in values if "{" + name + "}" in line]
            if fields and not any(str(values[name]) for name in fields):
                continue
            kept.append(line)
        filled = {k: escape(str(v)) if self._html else str(v) for k, v in values.items()}
        return [fill(line, filled) for line in kept]
