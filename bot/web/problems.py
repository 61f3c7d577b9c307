"""How the app's JSON API says no: ``{"detail": "<Vietnamese message>"}``, documented.

The app answers invalid input (422, bot/main.py), refused callers (403) and oversized
bodies (413, bot/web/guards.py) with one plain message, not FastAPI's list of validation
errors; the OpenAPI schema says so, and tests/bot/web/test_openapi.py holds the app to it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["Problem", "chat_problems", "problems"]


class Problem(BaseModel):
    """What went wrong, in Vietnamese, for a person to read."""

    detail: str


_MEANING = {
    403: "Không được phép (thiếu mã của Rasa, hoặc cuộc trò chuyện của trình duyệt khác)",
    413: "Nội dung gửi lên quá lớn",
    422: "Dữ liệu gửi lên không đúng",
    429: "Quá nhiều yêu cầu từ một địa chỉ (Retry-After: số giây chờ)",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that can answer these refusals (413 and 422 always)."""
    return {
        status: {"model": Problem, "description": _MEANING[status]}
        for status in sorted({413, 422, *statuses})
    }


def chat_problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The web chat's refusals: those, and 429 (its address limit)."""
    return problems(429, *statuses)
