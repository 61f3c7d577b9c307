"""Officer alerts: channel-free values from the handoff, rendered as Telegram HTML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.admin import content
from bot.channels.telegram.render import officer_message
from bot.channels.telegram.words import Words
from bot.db import session_scope
from bot.handoff import alerts
from bot.handoff.models import HandoffTicket


def ticket() -> HandoffTicket:
    return HandoffTicket(
        id=7,
        channel="zalo",
        commune_label="xã Đăk <Tô>",
        step="Nhập OTP",
        description="OTP 482913 khong toi, so 0912345678 <b>gap</b>",
        contact_phone="",
        transcript=[{"who": "citizen", "text": "<script>x</script>"}],
        created_at=datetime(2026, 12, 4, tzinfo=UTC),
    )


def test_a_new_alert_escapes_every_citizen_text_and_masks_numbers():
    value = alerts.alert(ticket(), level=0)
    message = officer_message(value)
    text = message["text"]
    assert message["parse_mode"] == "HTML"
    assert "🔔 <b>Yêu cầu hỗ trợ HT-000007</b>" in text
    assert "xã Đăk &lt;Tô&gt;" in text and "&lt;b&gt;gap&lt;/b&gt;" in text
    assert "&lt;script&gt;" in text and "<script>" not in text
    assert "482913" not in text and "0912345678" not in text  # masked in the value already
    assert "Kênh: Zalo" in text and "Đang vướng ở bước: Nhập OTP" in text
    assert [b["callback_data"] for b in message["buttons"][0]] == ["h:claim:7", "h:done:7"]


def test_claimed_resolved_and_cancelled_alerts_say_so_with_the_buttons_left():
    claimed = officer_message(alerts.alert(ticket(), claimed_by="Hùng <Lan>"))
    assert claimed["text"].endswith("👮 <b>Hùng &lt;Lan&gt;</b> đã nhận xử lý.")
    assert [b["text"] for b in claimed["buttons"][0]] == ["✅ Đã giải quyết"]
    resolved = officer_message(alerts.alert(ticket(), resolved_by="Hùng", note="đã gọi"))
    assert resolved["text"].endswith("✔️ Đã giải quyết bởi <b>Hùng</b>: đã gọi")
    assert resolved["buttons"] == []
    cancelled = officer_message(alerts.alert(ticket(), cancelled=True))
    assert cancelled["text"].endswith("↩️ Người dân đã hủy yêu cầu.")
    assert cancelled["buttons"] == []
    reminder = officer_message(alerts.alert(ticket(), level=2))
    assert reminder["text"].startswith("⚠️ <b>Chuyển lên tỉnh: HT-000007")


def test_a_relayed_message_is_escaped_and_masked():
    message = officer_message(alerts.relay(ticket(), "mat khau la Abc123 <i>gấp</i>"))
    assert message["text"].startswith("💬 <b>HT-000007</b> – người dân nhắn:\n")
    assert "&lt;i&gt;gấp&lt;/i&gt;" in message["text"]
    assert message["buttons"] == []


def test_an_admin_edit_of_an_officer_text_is_what_officers_read(session_factory):
    with session_scope(session_factory) as session:
        content.edit_response(
            session,
            "utter_officer_alert_new",
            text="🚨 <b>Có người cần giúp: {code}</b>",
            button_titles=[],
            username="admin",
        )
    with session_scope(session_factory) as session:
        text = officer_message(alerts.alert(ticket(), level=0), Words(session))["text"]
    assert text.startswith("🚨 <b>Có người cần giúp: HT-000007</b>\n")
    assert "Người dân đồng ý được gọi lại" not in text  # no number given: the line is left out


def test_an_officer_text_telegram_would_refuse_is_not_saved(session_factory):
    for broken in ("🔔 <b>Yêu cầu {code}", "🔔 <a href='x'>{code}</a>", "Yêu cầu {code} < 5 phút"):
        with session_scope(session_factory) as session, pytest.raises(content.ContentError):
            content.edit_response(
                session, "utter_officer_alert_new", text=broken, button_titles=[], username="a"
            )
