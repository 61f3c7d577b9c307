"""Officer alerts: channel-free values from the handoff, rendered as Telegram HTML."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.channels.telegram.render import officer_message
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
