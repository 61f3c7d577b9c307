"""What every console page shares: the templates and how a page is rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from bot.admin.csrf import csrf_token
from bot.db import local_time

__all__ = ["client_ip", "page", "templates"]

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")
# Times in the console are Vietnam's (stored in UTC): {{ r.created_at | local }}
templates.env.filters["local"] = lambda value, fmt="%d/%m/%Y %H:%M": (
    local_time(value).strftime(fmt) if value else ""
)


def client_ip(request: Request) -> str:
    """The address the request came from (for throttling and the audit log)."""
    return request.client.host if request.client else ""


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """Render a console template with the CSRF token and the user."""
    context = {"csrf": csrf_token(request), "user": request.session.get("user"), **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)
