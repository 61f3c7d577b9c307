"""The action server, answering only Rasa: ``python -m bot.actions.server --port 5055``.

rasa-sdk's own server (``python -m rasa_sdk``) runs any action for any caller that reaches its
port: it could read a ticket's status for any citizen, or open a ticket whose officer replies
go to a chat of the caller's choosing. This is the same server (rasa-sdk's app, the actions of
``bot.actions``) behind the shared token Rasa sends (``endpoints.yml``: ``X-Internal-Token``,
RASA_TOKEN); its health check stays open. No CORS: no browser has business here.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from functools import partial

from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from bot import heap
from bot.config import INTERNAL_HEADER, Settings, get_settings

__all__ = ["create_app", "main"]

logger = logging.getLogger(__name__)


def create_app(package: str = "bot.actions", settings: Settings | None = None) -> Sanic:
    """rasa-sdk's app for ``package``'s actions, refusing calls without the token."""
    executor = ActionExecutor()
    executor.register_package(package)
    app = create_app_for_serve(executor, cors_origins=None)
    settings = settings or get_settings()
    token = settings.rasa_token.get_secret_value().encode()

    if settings.gc_freeze:

        @app.after_server_start
        async def settle(_app: Sanic) -> None:
            logger.info("heap settled: %d objects frozen", heap.settle())

    @app.on_request
    async def only_rasa(request: Request) -> HTTPResponse | None:
        if request.path == "/health":
            return None
        if hmac.compare_digest((request.headers.get(INTERNAL_HEADER) or "").encode(), token):
            return None
        logger.warning("action call without the token refused (%s)", request.ip)
        return response.json({"error": "forbidden"}, status=403)

    return app


def main(argv: list[str] | None = None) -> None:
    """Serve on ``--port`` (host: SANIC_HOST, default 127.0.0.1)."""
    parser = argparse.ArgumentParser(prog="python -m bot.actions.server")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    loader = AppLoader(factory=partial(create_app, "bot.actions"))
    app = loader.load()
    app.prepare(host=os.environ.get("SANIC_HOST", "127.0.0.1"), port=args.port, workers=1)
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
