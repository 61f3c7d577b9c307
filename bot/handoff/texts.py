"""What the handoff says to citizens (plain text, shown by every channel).

What officers are told is a channel-free value (``bot.handoff.alerts``), rendered by the
officers' channel (``bot.channels.telegram.render``).
"""

from __future__ import annotations

CANCEL_PAYLOAD = "/handoff_cancel"


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
