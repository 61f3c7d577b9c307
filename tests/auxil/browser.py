"""Headless Chromium for the console tests: Debian's /usr/bin/chromium, no download."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, sync_playwright

from bot.config import PROJECT_ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = PROJECT_ROOT / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "browser-test-password-42"


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless browser for one module or session."""
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


def logged_in(browser: Browser, stack, username: str, viewport=DESKTOP) -> Page:
    """A page logged in to the console (dialogs are dismissed and recorded)."""
    page = browser.new_page(viewport=viewport)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    page.goto(f"{stack.app_url}/admin/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.app_url}/admin/")
    return page


def shoot(page: Page, name: str) -> None:
    """Full-page screenshots at phone and desktop widths (artefacts, not committed)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
