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
    # The demo's own defaults (15 min access tokens, 20 s implicit-refresh window, Secure
    # cookies, revocations in memory, refresh token rotation).
    "default": {"TESTING": True},
    # "Log in (short-lived cookie)" issues a 3 s access token, refreshed implicitly in its
    # last 2 seconds (the demo's own 30 s and 20 s, scaled down).
    "short": {
        "TESTING": True,
        "DEMO_SHORT_ACCESS_EXPIRES": timedelta(seconds=3),
        "JWT_IMPLICIT_REFRESH": timedelta(seconds=2),
    },
    # "Log in (short-lived cookie)" gives a 1 s access token: tests of expiry wait less.
    "expiring": {"TESTING": True, "DEMO_SHORT_ACCESS_EXPIRES": timedelta(seconds=1)},
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

    status: str  # "200", "401", "local" (no request), or an error name such as "TypeError"
    ok: bool  # a success (True) or a failure (False)
    outcome: str  # "success", "expected failure", "unexpected failure" or "unexpected success"
    pill: str  # text of the status pill, e.g. "401 UNAUTHORIZED"
    label: str
    request: str
    sent: str  # what the page says it sent, e.g. "cookie + X-CSRF-TOKEN"
    location: str  # "server's location: cookies", or "" when the response names none
    body: str
    notes: list[str]

    def json(self) -> Any:
        return json.loads(self.body)


#: Reads the newest log entry in one round trip to the browser.
_READ_NEWEST = """entry => {
    const text = selector => {
        const found = entry.querySelector(selector);
        return found ? found.innerText : "";
    };
    return {
        status: entry.dataset.status,
        ok: entry.classList.contains("ok"),
        outcome: entry.dataset.outcome,
        pill: text(".status"),
        label: text(".label"),
        request: text(".request"),
        sent: text(".sent"),
        location: text(".location"),
        body: text(".body"),
        notes: [...entry.querySelectorAll(".note")].map(note => note.innerText),
    };
}"""


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
        return Entry(**entries.first.evaluate(_READ_NEWEST))

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

    def expiry_phase(self) -> str:
        """The access cookie countdown's phase: none, unknown, valid, window or expired."""
        return self.page.locator("#state-expiry").get_attribute("data-phase") or ""
