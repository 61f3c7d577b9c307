"""What officers read on Telegram: alerts, relayed messages, /queue and /stats, in HTML.

Alerts and relayed messages come from the handoff as channel-free values
(``bot.handoff.alerts``) and are rendered here when they are sent; every text a citizen
gave is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from bot.handoff.alerts import CLAIM, RESOLVE
from bot.handoff.models import HandoffTicket

__all__ = [
    "callback_data",
    "officer_message",
    "queue_text",
    "stats_text",
]

_CHANNELS = {"web": "web chat", "telegram": "Telegram", "zalo": "Zalo"}
_LEVEL_HEAD = {
    0: "🔔 <b>Yêu cầu hỗ trợ {code}</b>",
    1: "⏰ <b>Nhắc lại: {code} chưa có ai nhận</b>",
    2: "⚠️ <b>Chuyển lên tỉnh: {code} chưa có cán bộ xã nhận</b>",
}
_BUTTONS = {CLAIM: "🙋 Nhận xử lý", RESOLVE: "✅ Đã giải quyết"}


def callback_data(action: str, ticket_id: int) -> str:
    """Button data for an alert: short, far under Telegram's 64 bytes."""
    return f"h:{action}:{ticket_id}"


def officer_message(value: dict[str, Any]) -> dict[str, Any]:
    """The Telegram message of a value: ``text``, ``parse_mode`` and ``buttons``."""
    if value.get("type") == "relay":
        text = f"💬 <b>{escape(value['code'])}</b> – người dân nhắn:\n{escape(value['text'])}"
        return {"text": text, "parse_mode": "HTML", "buttons": []}
    return {"text": _alert_text(value), "parse_mode": "HTML", "buttons": _alert_buttons(value)}


def _alert_text(a: dict[str, Any]) -> str:
    lines = [
        _LEVEL_HEAD[int(a.get("level", 0))].format(code=escape(a["code"])),
        f"Xã/phường: {escape(a.get('commune') or 'chưa rõ')}",
        f"Kênh: {_CHANNELS.get(a.get('channel', ''), escape(a.get('channel', '')))}",
    ]
    if a.get("step"):
        lines.append(f"Đang vướng ở bước: {escape(a['step'])}")
    lines.append(f"Nội dung: {escape(a.get('description') or '(không ghi)')}")
    if a.get("phone"):
        lines.append(f"Người dân đồng ý được gọi lại: {escape(a['phone'])}")
    if a.get("transcript"):
        lines.append("")
        lines.append("<i>Mấy tin gần nhất:</i>")
        for turn in a["transcript"]:
            who = "👤" if turn.get("who") == "citizen" else "🤖"
            lines.append(f"{who} {escape(str(turn.get('text', '')))}")
    lines.append("")
    lines.append("Trả lời (Reply) tin này để nhắn cho người dân.")
    text = "\n".join(lines)
    if a.get("cancelled"):
        text += "\n\n↩️ Người dân đã hủy yêu cầu."
    elif a.get("resolved_by"):
        tail = f": {escape(a['note'])}" if a.get("note") else ""
        text += f"\n\n✔️ Đã giải quyết bởi <b>{escape(a['resolved_by'])}</b>{tail}"
    elif a.get("claimed_by"):
        text += f"\n\n👮 <b>{escape(a['claimed_by'])}</b> đã nhận xử lý."
    return text


def _alert_buttons(a: dict[str, Any]) -> list[list[dict[str, str]]]:
    row = [
        {"text": _BUTTONS[action], "callback_data": callback_data(action, int(a["ticket_id"]))}
        for action in a.get("actions", [])
        if action in _BUTTONS
    ]
    return [row] if row else []


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
