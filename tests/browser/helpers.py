"""Plain helpers for the end-to-end tests (the fixtures are in ``conftest.py``).

* ``Servers`` starts the demo app (``examples/demo/app.py``) behind a werkzeug threaded
  server, one per demo configuration of ``CONFIGS``, lazily, on a free 127.0.0.1 port.
* ``DemoPage`` is the demo page in a fresh browser context, with helpers to press its
  buttons and read what it shows (``Entry``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from examples.demo.app import create_app

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = "/usr/bin/chromium"

#: A name that is *not* loopback for Chromium. Chromium treats http://127.0.0.1 and
#: http://localhost as potentially trustworthy and keeps Secure cookies there, so the
#: "Secure cookie over plain http" test browses http://INSECURE_HOST:<port>, which the
#: host resolver maps to 127.0.0.1 (the server still listens on 127.0.0.1 only).
INSECURE_HOST = "demo.test"

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",
    f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
)

_CONFIGS: dict[str, dict[str, Any]] = {
    # The demo's own defaults (15 min access tokens, 5 min implicit-refresh window,
    # revocations in memory, refresh token rotation).
    "default": {"TESTING": True},
    # Short-lived access cookie, refreshed implicitly in its last 2 seconds.
    "short": {
        "TESTING": True,
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(seconds=3),
        "JWT_IMPLICIT_REFRESH": timedelta(seconds=2),
    },
    # Cookies marked Secure (what production over https uses).
    "secure": {"TESTING": True, "JWT_COOKIE_SECURE": True},
    # Refresh cookie scoped to /refresh (its CSRF cookie stays on "/"), SameSite=Strict.
    "scoped": {
        "TESTING": True,
        "JWT_REFRESH_COOKIE_PATH": "/refresh",
        "JWT_COOKIE_SAMESITE": "Strict",
    },
}
#: Demo configurations a test may ask ``Servers`` for, by name (read-only).
CONFIGS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {name: MappingProxyType(config) for name, config in _CONFIGS.items()}
)


class Servers:
    """Starts each demo configuration once, on demand; ``port(name)`` gives its port.

    One ``Servers`` per test (the ``servers`` fixture), so no app outlives its test.
    """

    def __init__(self) -> None:
        self._running: dict[str, tuple[BaseWSGIServer, threading.Thread]] = {}

    def port(self, name: str) -> int:
        if name not in self._running:
            server = make_server("127.0.0.1", 0, create_app(dict(CONFIGS[name])), threaded=True)
            # A short poll interval: stop() (shutdown) returns within it.
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"demo-{name}"
            )
            thread.daemon = True
            thread.start()
            self._running[name] = (server, thread)
        return self._running[name][0].server_port

    def url(self, name: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port(name)}"

    def stop(self) -> None:
        for server, thread in self._running.values():
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._running.clear()


@dataclass
class Entry:
    """One response in the page's log panel, as the page shows it."""

    status: str  # "200", "401", or an error name such as "TypeError"
    ok: bool  # shown green (True) or red (False)
    pill: str  # text of the status pill, e.g. "401 UNAUTHORIZED"
    label: str
    request: str
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class DemoPage:
    """The demo page in a fresh browser context, with helpers to press its buttons."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.page = context.new_page()
        self.page.set_default_timeout(10_000)

    def open(self, base_url: str) -> DemoPage:
        self.page.goto(base_url + "/")
        self.page.wait_for_selector("body[data-ready='true']")
        return self

    def press(self, label: str) -> Entry:
        """Click the button named ``label`` and return the log entry it produced."""
        entries = self.page.locator("#log > li")
        before = entries.count()
        self.page.get_by_role("button", name=label, exact=True).click()
        entries.nth(before).wait_for()  # newest is prepended: wait for the count to grow
        newest = entries.first
        classes = newest.get_attribute("class") or ""
        return Entry(
            status=newest.get_attribute("data-status") or "",
            ok="ok" in classes.split(),
            pill=newest.locator(".status").inner_text(),
            label=newest.locator(".label").inner_text(),
            request=newest.locator(".request").inner_text(),
            body=newest.locator(".body").inner_text(),
        )

    def cookies(self) -> dict[str, dict[str, Any]]:
        """The browser's cookie jar for this context, by cookie name."""
        return {cookie["name"]: cookie for cookie in self.context.cookies()}

    def put_cookies(self, *cookies: dict[str, Any]) -> None:
        """Put cookies (as :meth:`cookies` returned them, maybe from another context) in the jar."""
        self.context.add_cookies(list(cookies))

    def send_bearer(self, url: str, token: str, method: str = "GET") -> tuple[int, Any]:
        """Send ``token`` as a Bearer header from outside the page (Playwright's request API).

        The request also carries this context's cookies: the header, looked at first, wins.
        """
        response = self.context.request.fetch(
            url, method=method, headers={"Authorization": f"Bearer {token}"}
        )
        return response.status, response.json()

    def document_cookie(self) -> str:
        return str(self.page.evaluate("document.cookie"))

    def local_token(self) -> str | None:
        token = self.page.evaluate("localStorage.getItem('access_token')")
        return None if token is None else str(token)

    def state(self, which: str) -> str:
        return self.page.locator(f"#state-{which}").inner_text()
