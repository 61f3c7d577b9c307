"""Rasa's HTTP API for models: which file a server serves, and loading another one."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import httpx

__all__ = ["ModelApi", "PublishError", "RasaAdmin"]


class PublishError(RuntimeError):
    """Rasa did not take the model."""


class ModelApi(Protocol):
    """What model operations need from the Rasa servers (a fake in the tests)."""

    async def served_file(self) -> str:
        """File name of the model served now ('' when none)."""
        ...

    async def load(self, path: Path) -> None:
        """Serve ``path`` on every replica; raise PublishError when one does not take it."""
        ...


class RasaAdmin:
    """Rasa's HTTP API for models (the server runs with --enable-api and a token)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str | list[str], token: str) -> None:
        """Use ``http`` for a Rasa server at ``base_url`` (or each of several replicas)."""
        self._http = http
        urls = [base_url] if isinstance(base_url, str) else base_url
        self._urls = [u.rstrip("/") for u in urls]
        self._token = token

    async def served_file(self, url: str | None = None) -> str:
        """File name of the model Rasa serves now (the first replica, unless ``url``)."""
        response = await self._http.get(
            f"{url or self._urls[0]}/status", params={"token": self._token}, timeout=10
        )
        response.raise_for_status()
        return str(response.json().get("model_file") or "")

    async def load(self, path: Path) -> None:
        """Load ``path`` into every replica, one after the other.

        Each replica answers nothing until it is loaded, while the others keep serving.
        """
        for url in self._urls:
            await self._load_one(url, path)

    async def _load_one(self, url: str, path: Path) -> None:
        try:
            response = await self._http.put(
                f"{url}/model",
                params={"token": self._token},
                json={"model_file": str(path)},
                timeout=600,
            )
        except httpx.HTTPError as exc:
            raise PublishError(f"Rasa không trả lời ({type(exc).__name__}).") from exc
        if response.status_code >= 400:
            raise PublishError(f"Rasa từ chối mô hình (HTTP {response.status_code}).")
        try:
            served = await self.served_file(url)
        except httpx.HTTPError as exc:
            raise PublishError(f"Rasa không trả lời sau khi nạp ({type(exc).__name__}).") from exc
        if Path(served).name != path.name:
            raise PublishError(f"Rasa vẫn dùng {served}, không phải {path.name}.")
