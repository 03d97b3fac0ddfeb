"""The admin in a real browser: Debian's Chromium (``/usr/bin/chromium``, installed by apt, never
downloaded) driven by Playwright against pytest-django's live server.

- ``browser``: one Chromium for the session, headless and off the network but for the live server
  (the flags this machine's closed network needs). Missing, every browser test fails and says how
  to install it: CI installs it (.ci/run), and a test that cannot run must not pass by skipping.
- ``page``: a fresh context (no cookies) per test, French first as staff's browsers are, at a
  laptop's 1400 × 900.
- ``artefacts``: where screenshots are kept for review, not compared: ``$BROWSER_ARTEFACTS_DIR``
  or ``var/artefacts/browser/`` (git-ignored).

Playwright's synchronous API runs an event loop in the test's thread, which Django's ORM takes
for an async context: ``DJANGO_ALLOW_ASYNC_UNSAFE`` lets the test read the database between two
steps, the live server answering from its own thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: the browser tests need Debian's package "
            "(apt-get install -y --no-install-recommends chromium; .ci/run installs it)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)  # a slow shared machine: a wrong page still fails, on its assertion
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    folder = Path(os.environ.get("BROWSER_ARTEFACTS_DIR") or ROOT / "var" / "artefacts" / "browser")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
