"""What the handoff says to citizens (plain text) and officers (Telegram HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from bot.handoff.models import HandoffTicket
from bot.handoff.redact import redact

CLAIM = "claim"
RESOLVE = "done"
CANCEL_PAYLOAD = "/handoff_cancel"

_CHANNELS = {"web": "web chat", "telegram": "Telegram", "zalo": "Zalo"}
_LEVEL_HEAD = {
    0: "🔔 <b>Yêu cầu hỗ trợ {code}</b>",
    1: "⏰ <b>Nhắc lại: {code} chưa có ai nhận</b>",
    2: "⚠️ <b>Chuyển lên tỉnh: {code} chưa có cán bộ xã nhận</b>",
}


def callback_data(action: str, ticket_id: int) -> str:
    """Button data for an alert: short, far under Telegram's 64 bytes."""
    return f"h:{action}:{ticket_id}"


def alert_text(ticket: HandoffTicket, *, level: int, step_title: str | None) -> str:
    """The alert an officer chat gets (HTML; every citizen-given value escaped)."""
    lines = [
        _LEVEL_HEAD[level].format(code=ticket.code),
        f"Xã/phường: {escape(ticket.commune_label or 'chưa rõ')}",
        f"Kênh: {_CHANNELS.get(ticket.channel, ticket.channel)}",
    ]
    if step_title:
        lines.append(f"Đang vướng ở bước: {escape(step_title)}")
    lines.append(f"Nội dung: {escape(redact(ticket.description) or '(không ghi)')}")
    if ticket.contact_phone:
        lines.append(f"Người dân đồng ý được gọi lại: {escape(ticket.contact_phone)}")
    turns = ticket.transcript or []
    if turns:
        lines.append("")
        lines.append("<i>Mấy tin gần nhất:</i>")
        for turn in turns:
            who = "👤" if turn.get("who") == "citizen" else "🤖"
            lines.append(f"{who} {escape(str(turn.get('text', '')))}")
    lines.append("")
    lines.append("Trả lời (Reply) tin này để nhắn cho người dân.")
    return "\n".join(lines)


def alert_buttons(ticket_id: int, *, claimed: bool) -> list[list[dict[str, str]]]:
    """Inline keyboard of an alert: claim (while open) and resolve."""
    row = [{"text": "✅ Đã giải quyết", "callback_data": callback_data(RESOLVE, ticket_id)}]
    if not claimed:
        row.insert(0, {"text": "🙋 Nhận xử lý", "callback_data": callback_data(CLAIM, ticket_id)})
    return [row]


def claimed_suffix(officer_name: str) -> str:
    """Line added to every copy of an alert once someone claimed it."""
    return f"\n\n👮 <b>{escape(officer_name)}</b> đã nhận xử lý."


def resolved_suffix(officer_name: str, note: str | None) -> str:
    """Line added to every copy of an alert once it is closed."""
    tail = f": {escape(note)}" if note else ""
    return f"\n\n✔️ Đã giải quyết bởi <b>{escape(officer_name)}</b>{tail}"


def relay_to_officer(ticket: HandoffTicket, text: str) -> str:
    """A citizen's follow-up as the officer sees it (personal numbers masked)."""
    return f"💬 <b>{ticket.code}</b> – người dân nhắn:\n{escape(redact(text))}"


def queue_text(tickets: Sequence[HandoffTicket], now: datetime) -> str:
    """The /queue answer."""
    if not tickets:
        return "Không có yêu cầu nào đang mở. 👍"
    lines = [f"<b>{len(tickets)} yêu cầu đang mở:</b>"]
    for t in tickets:
        who = f"{escape(t.claimed_by.name)} đang xử lý" if t.claimed_by else "chưa ai nhận"
        lines.append(
            f"• {t.code} – {escape(t.commune_label or 'chưa rõ xã')} – {who} – "
            f"{_age(t.created_at, now)} trước"
        )
    return "\n".join(lines)


def stats_text(stats: dict[str, Any]) -> str:
    """The /stats answer."""
    return "\n".join(
        [
            f"<b>Thống kê {escape(stats['scope'])} (30 ngày)</b>",
            f"Đang chờ nhận: {stats['open']}",
            f"Đang xử lý: {stats['claimed']}",
            f"Đã giải quyết: {stats['resolved']}",
            f"Người dân tự hủy: {stats['cancelled']}",
            f"Thời gian nhận (trung vị): {_minutes(stats['median_claim_s'])}",
            f"Thời gian giải quyết (trung vị): {_minutes(stats['median_resolve_s'])}",
        ]
    )


def _minutes(seconds: float | None) -> str:
    return "chưa có" if seconds is None else f"{seconds / 60:.0f} phút"


def _age(then: datetime, now: datetime) -> str:
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} phút"
    if minutes < 48 * 60:
        return f"{minutes // 60} giờ"
    return f"{minutes // 1440} ngày"


# --- to the citizen (plain text, shown by every channel) -----------------------
def citizen_relayed(code: str, claimed_by: str | None) -> str:
    """Receipt for a citizen message that went to the officer."""
    if claimed_by:
        return f"Đã chuyển tin của bạn cho cán bộ {claimed_by} ({code})."
    return f"Đã chuyển tin của bạn ({code}). Đang chờ cán bộ nhận, bạn vui lòng đợi."


def citizen_waiting(code: str, claimed_by: str | None) -> str:
    """A button or command while an officer has the conversation: where things stand."""
    who = f"Cán bộ {claimed_by} đang xử lý" if claimed_by else "Đang chờ cán bộ nhận"
    return (
        f"{who} yêu cầu {code} của bạn. Bạn cứ nhắn nội dung, tin sẽ được chuyển cho cán bộ; "
        'muốn hỏi trợ lý thì bấm "Hủy yêu cầu, hỏi trợ lý".'
    )


def citizen_claimed(code: str, officer_name: str) -> str:
    """Told when an officer takes the ticket."""
    return f"Cán bộ {officer_name} đã nhận yêu cầu {code} và sẽ nhắn cho bạn tại đây."


def citizen_officer_says(officer_name: str, text: str) -> str:
    """An officer's reply as the citizen sees it."""
    return f"👮 Cán bộ {officer_name}: {text}"


def citizen_resolved(code: str, note: str | None) -> str:
    """Told when the officer closes the ticket; the assistant answers again."""
    tail = f" Ghi chú của cán bộ: {note}" if note else ""
    return (
        f"Yêu cầu {code} đã được giải quyết.{tail}\nBạn có thể tiếp tục hỏi trợ lý như bình thường."
    )


def citizen_cancelled(code: str) -> str:
    """Told when the citizen withdraws the ticket."""
    return f"Đã hủy yêu cầu {code}. Bạn có thể tiếp tục hỏi trợ lý như bình thường."


def cancel_button() -> dict[str, str]:
    """The way back to the assistant while a ticket is open."""
    return {"title": "Hủy yêu cầu, hỏi trợ lý", "payload": CANCEL_PAYLOAD}
