"""Fixtures for the end-to-end tests: the demo app behind a real WSGI server, driven by
Debian's Chromium through Playwright (sync API).  Plain helpers are in ``helpers.py``.

* ``servers`` starts the demo configurations a test asks for and stops them when it ends.
* ``browser`` is one headless Chromium for the session; every test gets a fresh context
  (``demo`` fixture), so cookies and localStorage never leak between tests.
  ``other_demo`` is a second fresh context: another browser of the same user, or an attacker.
  ``phone_demo`` is a fresh context the size of a phone (390 px wide, mobile viewport).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, DemoPage, Servers


@pytest.fixture
def servers() -> Iterator[Servers]:
    """Demo servers of this test only: started on demand, stopped when it ends."""
    running = Servers()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@contextmanager
def fresh_context(browser: Any, **options: Any) -> Iterator[DemoPage]:
    context = browser.new_context(**({"viewport": {"width": 1000, "height": 800}} | options))
    try:
        yield DemoPage(context)
    finally:
        context.close()


@pytest.fixture
def demo(browser: Any) -> Iterator[DemoPage]:
    with fresh_context(browser) as page:
        yield page


@pytest.fixture
def other_demo(browser: Any) -> Iterator[DemoPage]:
    with fresh_context(browser) as page:
        yield page


@pytest.fixture
def phone_demo(browser: Any) -> Iterator[DemoPage]:
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    with fresh_context(browser, **phone) as page:
        yield page
