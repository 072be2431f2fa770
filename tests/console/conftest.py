"""Browser tests: Debian's Chromium, headless, driven by Playwright, against a live server.

The browser is the system's (`/usr/bin/chromium`; never downloaded). Where it is missing
the tests skip, except in CI (CI or FLEETSIM_REQUIRE_POSTGRES set), where `.ci/run`
installs it and its absence is a failure, as for PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path(os.environ.get("FLEETSIM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots of the main pages, kept as CI artifacts (the folder is git-ignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"


def _required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("FLEETSIM_REQUIRE_POSTGRES"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser per module: Playwright's sync API holds an event loop on this thread
    while it runs, which later tests on the same worker must not inherit."""
    if not CHROMIUM.exists():
        if _required():
            pytest.fail(
                f"Chromium is required here but {CHROMIUM} is missing (apt-get install chromium)"
            )
        pytest.skip(f"Chromium is not installed ({CHROMIUM})")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
