"""End-to-end tests: the demo page in headless Chromium against a real WSGI server.

Every test clicks the page's buttons and asserts on what the page shows (the log
panel, the state panel) and on the browser's own cookie jar (``context.cookies()``).
Fixtures (servers, browser, the ``demo`` page) are in ``conftest.py``, plain helpers in
``helpers.py``.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import INSECURE_HOST, ROOT, DemoPage, Entry, Servers

pytestmark = pytest.mark.browser

ACCESS_COOKIE = "access_token_cookie"
REFRESH_COOKIE = "refresh_token_cookie"
ACCESS_CSRF = "csrf_access_token"
REFRESH_CSRF = "csrf_refresh_token"
JWT_COOKIES = {ACCESS_COOKIE, REFRESH_COOKIE}
CSRF_COOKIES = {ACCESS_CSRF, REFRESH_CSRF}


def jwt_claims(token: str) -> dict[str, Any]:
    """The (unverified) payload of a JWT, for assertions on ``exp``, ``type``, ``csrf``."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload))
    return claims


def sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


def message(entry: Entry) -> str:
    return str(entry.json()["msg"])


# --- the four locations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("button", "location"),
    [
        ("Call via header", "headers"),
        ("Call via query string", "query_string"),
        ("Call via JSON body", "json"),
    ],
)
def test_token_in_local_storage_works_in_each_token_location(
    demo: DemoPage, servers: Servers, button: str, location: str
) -> None:
    demo.open(servers.url("default"))

    refused = demo.press(button)  # nothing stored yet
    assert (refused.status, refused.ok) == ("401", False)

    login = demo.press("Log in (token)")
    assert (login.status, login.ok) == ("200", True)
    token = demo.local_token()
    assert token is not None
    assert jwt_claims(token)["sub"] == "alice"
    assert jwt_claims(token)["type"] == "access"
    assert demo.state("token") != "none"

    entry = demo.press(button)
    assert (entry.status, entry.ok) == ("200", True)
    assert entry.json()["location"] == location
    assert entry.json()["identity"] == "alice"
    assert demo.cookies() == {}  # the token flow never sets a cookie


def test_cookie_login_sets_httponly_jwt_cookies_and_readable_csrf_cookies(
    demo: DemoPage, servers: Servers
) -> None:
    demo.open(servers.url("default"))
    refused = demo.press("Call via cookie")
    assert refused.status == "401"

    login = demo.press("Log in (cookies)")
    assert (login.status, login.ok) == ("200", True)

    jar = demo.cookies()
    assert set(jar) == JWT_COOKIES | CSRF_COOKIES
    assert all(jar[name]["httpOnly"] for name in JWT_COOKIES)
    assert not any(jar[name]["httpOnly"] for name in CSRF_COOKIES)
    # Double submit: each CSRF cookie carries the csrf claim of its token.
    assert jar[ACCESS_CSRF]["value"] == jwt_claims(jar[ACCESS_COOKIE]["value"])["csrf"]
    assert jar[REFRESH_CSRF]["value"] == jwt_claims(jar[REFRESH_COOKIE]["value"])["csrf"]

    visible = demo.document_cookie()
    assert ACCESS_CSRF in visible and REFRESH_CSRF in visible
    assert ACCESS_COOKIE not in visible and REFRESH_COOKIE not in visible
    assert set(demo.state("cookies").split(", ")) == CSRF_COOKIES

    entry = demo.press("Call via cookie")
    assert (entry.status, entry.ok) == ("200", True)
    assert entry.json()["location"] == "cookies"
    # 15 minutes from expiry is outside the 5 minute window: no implicit refresh.
    assert demo.cookies()[ACCESS_COOKIE]["value"] == jar[ACCESS_COOKIE]["value"]
    assert demo.local_token() is None


def test_secure_cookie_is_not_sent_over_plain_http(demo: DemoPage, servers: Servers) -> None:
    demo.open(servers.url("secure", host=INSECURE_HOST))

    with demo.page.expect_response("**/login_with_cookies") as response_info:
        login = demo.press("Log in (cookies)")
    assert login.status == "200"
    set_cookies = response_info.value.header_values("set-cookie")
    sent = [h for h in set_cookies if h.startswith(f"{ACCESS_COOKIE}=")]
    assert sent and "Secure" in sent[0]  # the server did send it, marked Secure ...
    assert ACCESS_COOKIE not in demo.cookies()  # ... and the browser refused it over http

    for button in ("Call via cookie", "Cookie GET (no CSRF needed)"):
        entry = demo.press(button)
        assert (entry.status, entry.ok) == ("401", False)
        assert f'Missing cookie "{ACCESS_COOKIE}"' in message(entry)


def test_secure_cookie_is_kept_on_loopback_which_chromium_trusts(demo: DemoPage, servers: Servers) -> None:
    # Why the test above browses demo.test: Chromium treats http://127.0.0.1 as a
    # secure context, so there the Secure cookie is stored and sent.
    demo.open(servers.url("secure"))
    assert demo.press("Log in (cookies)").status == "200"
    assert demo.cookies()[ACCESS_COOKIE]["secure"] is True
    assert demo.press("Call via cookie").status == "200"


def test_refresh_cookie_path_and_samesite_are_honoured_by_the_browser(
    demo: DemoPage, servers: Servers
) -> None:
    demo.open(servers.url("scoped"))
    demo.press("Log in (cookies)")
    jar = demo.cookies()
    assert jar[REFRESH_COOKIE]["path"] == "/refresh"
    assert jar[ACCESS_COOKIE]["path"] == "/"
    assert jar[REFRESH_CSRF]["path"] == "/"  # so the page at / can read it ...
    assert REFRESH_CSRF in demo.document_cookie()
    assert {cookie["sameSite"] for cookie in jar.values()} == {"Strict"}

    with demo.page.expect_request("**/protected") as protected_request:
        assert demo.press("Cookie GET (no CSRF needed)").status == "200"
    sent = protected_request.value.header_value("cookie") or ""
    assert f"{ACCESS_COOKIE}=" in sent
    assert f"{REFRESH_COOKIE}=" not in sent  # ... while the refresh token stays on /refresh

    with demo.page.expect_request("**/refresh") as refresh_request:
        refreshed = demo.press("Refresh (rotating)")
    assert (refreshed.status, refreshed.ok) == ("200", True)
    assert f"{REFRESH_COOKIE}=" in (refresh_request.value.header_value("cookie") or "")


def test_samesite_strict_cookie_is_not_sent_on_a_cross_site_navigation(
    demo: DemoPage, servers: Servers
) -> None:
    same_site = servers.url("scoped")
    demo.open(same_site)
    demo.press("Log in (cookies)")
    page = demo.page

    # A link followed from the demo page itself (same site): the cookie goes along.
    with page.expect_navigation() as same:
        page.evaluate("url => { location.href = url }", same_site + "/protected")
    assert same.value.status == 200
    assert json.loads(page.inner_text("body"))["location"] == "cookies"

    # The same link followed from another site (demo.test): SameSite=Strict withholds it.
    page.goto(servers.url("scoped", host=INSECURE_HOST) + "/")
    with page.expect_navigation() as cross:
        page.evaluate("url => { location.href = url }", same_site + "/protected")
    assert cross.value.status == 401
    assert ACCESS_COOKIE in demo.cookies()  # still stored, just not sent cross-site


# --- CSRF double submit -------------------------------------------------------------


def test_cookie_post_needs_the_matching_csrf_header_but_get_does_not(
    demo: DemoPage, servers: Servers
) -> None:
    demo.open(servers.url("default"))
    demo.press("Log in (cookies)")

    missing = demo.press("Cookie POST without CSRF")
    assert (missing.status, missing.ok) == ("401", False)
    assert "csrf" in message(missing).lower()
    assert missing.pill.startswith("401")

    wrong = demo.press("Cookie POST with wrong CSRF")
    assert (wrong.status, wrong.ok) == ("401", False)
    assert "csrf" in message(wrong).lower()

    get = demo.press("Cookie GET (no CSRF needed)")
    assert (get.status, get.ok) == ("200", True)
    assert get.json()["location"] == "cookies"

    right = demo.press("Call via cookie")
    assert (right.status, right.ok) == ("200", True)

    # Readable at a glance: successes are green, failures red.
    colour = "e => getComputedStyle(e).color"
    ok_pill = demo.page.locator("#log > li.ok .status").first
    error_pill = demo.page.locator("#log > li.error .status").first
    assert ok_pill.evaluate(colour) == "rgb(27, 135, 63)"
    assert error_pill.evaluate(colour) == "rgb(198, 40, 40)"


# --- per-route locations, refresh, logout -------------------------------------------


def test_only_headers_rejects_a_cookie_only_request(demo: DemoPage, servers: Servers) -> None:
    demo.open(servers.url("default"))
    demo.press("Log in (cookies)")

    cookie_only = demo.press("Call /only_headers (cookie only)")
    assert (cookie_only.status, cookie_only.ok) == ("401", False)
    assert "Authorization" in message(cookie_only)
    assert demo.press("Call via cookie").status == "200"  # the cookie itself is valid

    demo.press("Log in (token)")
    header = demo.press("Call /only_headers")
    assert (header.status, header.ok) == ("200", True)
    assert header.json()["location"] == "headers"


def test_rotating_refresh_issues_new_access_and_refresh_cookies_in_the_same_session(
    demo: DemoPage, servers: Servers
) -> None:
    demo.open(servers.url("default"))
    assert demo.press("Refresh (rotating)").status == "401"  # no refresh cookie yet

    demo.press("Log in (cookies)")
    jars = [demo.cookies()]
    session = jwt_claims(jars[0][REFRESH_COOKIE]["value"])["sid"]
    for _ in range(2):
        entry = demo.press("Refresh (rotating)")
        assert (entry.status, entry.ok) == ("200", True)
        assert entry.json()["location"] == "cookies"
        assert entry.json()["session"] == session[:8]
        jars.append(demo.cookies())

    for before, after in itertools.pairwise(jars):
        for cookie, csrf, kind in (
            (ACCESS_COOKIE, ACCESS_CSRF, "access"),
            (REFRESH_COOKIE, REFRESH_CSRF, "refresh"),
        ):
            token = after[cookie]["value"]
            assert token != before[cookie]["value"], cookie
            claims = jwt_claims(token)
            assert (claims["type"], claims["sid"]) == (kind, session)
            assert after[csrf]["value"] == claims["csrf"]
    assert demo.press("Call via cookie").status == "200"


def test_a_replayed_refresh_token_is_refused_and_ends_the_session(
    demo: DemoPage, other_demo: DemoPage, servers: Servers
) -> None:
    url = servers.url("default")
    demo.open(url)
    demo.press("Log in (cookies)")
    stolen = demo.cookies()  # what an attacker copies now: the first refresh token
    assert demo.press("Refresh (rotating)").status == "200"
    assert demo.press("Refresh (rotating)").status == "200"
    assert demo.press("Call via cookie").status == "200"

    # Another browser replays the first (spent) refresh token: refused, and the whole
    # session is revoked, so the victim's current tokens stop working too.
    other_demo.put_cookies(stolen[REFRESH_COOKIE], stolen[REFRESH_CSRF])
    other_demo.open(url)
    replay = other_demo.press("Refresh (rotating)")
    assert (replay.status, message(replay)) == ("401", "Token has been revoked")
    assert ACCESS_COOKIE not in other_demo.cookies()

    for button in ("Call via cookie", "Refresh (rotating)"):
        entry = demo.press(button)
        assert (entry.status, message(entry)) == ("401", "Token has been revoked"), button
    assert demo.press("Log in (cookies)").status == "200"  # a new login is a new session
    assert demo.press("Call via cookie").status == "200"


def test_logout_removes_the_cookies_and_protected_calls_fail(demo: DemoPage, servers: Servers) -> None:
    demo.open(servers.url("default"))
    demo.press("Log in (cookies)")
    assert demo.press("Call via cookie").status == "200"

    logout = demo.press("Log out")
    assert (logout.status, logout.ok) == ("200", True)
    assert not set(demo.cookies()) & (JWT_COOKIES | CSRF_COOKIES)
    assert demo.document_cookie() == ""
    assert demo.state("cookies") == "none"

    for button in ("Call via cookie", "Cookie GET (no CSRF needed)", "Refresh (rotating)"):
        entry = demo.press(button)
        assert (entry.status, entry.ok) == ("401", False), button


def test_logout_revokes_the_session_so_its_tokens_are_refused_wherever_sent(
    demo: DemoPage, servers: Servers
) -> None:
    url = servers.url("default")
    demo.open(url)
    demo.press("Log in (cookies)")
    jar = demo.cookies()
    access = jar[ACCESS_COOKIE]["value"]
    assert demo.send_bearer(url + "/protected", access)[0] == 200  # the cookie's token, as a header

    logout = demo.press("Log out")
    session = jwt_claims(access)["sid"]
    assert (logout.status, message(logout)) == (
        "200",
        f"logged out: session {session[:8]} revoked, cookies removed",
    )
    assert not set(demo.cookies()) & JWT_COOKIES

    # Copies of the session's tokens kept elsewhere are refused: the access token as a
    # header, the refresh token put back as a cookie.
    assert demo.send_bearer(url + "/protected", access) == (401, {"msg": "Token has been revoked"})
    demo.put_cookies(jar[ACCESS_COOKIE], jar[ACCESS_CSRF], jar[REFRESH_COOKIE], jar[REFRESH_CSRF])
    for button in ("Call via cookie", "Refresh (rotating)"):
        entry = demo.press(button)
        assert (entry.status, message(entry)) == ("401", "Token has been revoked"), button


def test_logout_with_a_header_token_ends_that_tokens_session(demo: DemoPage, servers: Servers) -> None:
    demo.open(servers.url("default"))
    demo.press("Log in (token)")
    assert demo.press("Call via header").status == "200"

    with demo.page.expect_request("**/logout") as logout_request:
        logout = demo.press("Log out")  # no cookie session: the stored token is sent
    assert (logout.status, logout.ok) == ("200", True)
    assert (logout_request.value.header_value("authorization") or "").startswith("Bearer ey")
    assert demo.local_token() is not None  # kept by the page, to show it refused

    for button in ("Call via header", "Call via query string", "Call via JSON body"):
        entry = demo.press(button)
        assert (entry.status, message(entry)) == ("401", "Token has been revoked"), button


def test_logout_everywhere_ends_the_users_sessions_in_other_browsers(
    demo: DemoPage, other_demo: DemoPage, servers: Servers
) -> None:
    url = servers.url("default")
    laptop, phone = demo.open(url), other_demo.open(url)
    for browser in (laptop, phone):
        assert browser.press("Log in (cookies)").status == "200"
    phone.page.fill("#username", "bob")
    phone.press("Log in (token)")  # bob's token now in the phone's localStorage ...
    bob = phone.local_token()
    assert bob is not None and jwt_claims(bob)["sub"] == "bob"
    phone.page.fill("#username", "alice")
    for browser in (laptop, phone):
        assert browser.press("Call via cookie").status == "200"

    everywhere = laptop.press("Log out everywhere")
    assert (everywhere.status, message(everywhere)) == (
        "200",
        "logged out everywhere: every token of alice so far is revoked",
    )
    assert not set(laptop.cookies()) & JWT_COOKIES

    for button in ("Call via cookie", "Refresh (rotating)"):
        entry = phone.press(button)
        assert (entry.status, message(entry)) == ("401", "Token has been revoked"), button
    assert phone.press("Call via header").status == "200"  # ... and bob is still logged in

    # The phone's log out still clears its dead cookies; a new login works again.
    logout = phone.press("Log out")
    assert (logout.status, message(logout)) == ("200", "no live session: cookies removed")
    assert not set(phone.cookies()) & JWT_COOKIES
    assert phone.press("Log in (cookies)").status == "200"
    assert phone.press("Call via cookie").status == "200"


def test_get_with_a_json_body_is_the_browsers_own_type_error(demo: DemoPage, servers: Servers) -> None:
    demo.open(servers.url("default"))
    demo.press("Log in (token)")
    reached_server: list[str] = []
    demo.page.on(
        "request",
        lambda request: reached_server.append(request.url) if "/protected" in request.url else None,
    )

    entry = demo.press("GET with JSON body")
    assert (entry.status, entry.ok) == ("TypeError", False)
    assert entry.body.startswith("TypeError: ")
    assert "GET/HEAD" in entry.body
    assert reached_server == []  # fetch() refused before sending anything

    assert demo.press("Call via JSON body").status == "200"  # POST with the same body works


# --- implicit refresh ---------------------------------------------------------------


def test_short_lived_access_cookie_is_refreshed_implicitly_near_expiry(
    demo: DemoPage, servers: Servers
) -> None:
    # Server config "short": access tokens live 3 s, refreshed in their last 2 s.
    demo.open(servers.url("short"))
    demo.press("Log in (cookies)")
    jar_before = demo.cookies()
    first = jar_before[ACCESS_COOKIE]["value"]
    first_exp = jwt_claims(first)["exp"]

    # Inside the 2 s window, before expiry; requests can only arrive late, so go early.
    sleep_until(first_exp - 1.8)
    assert time.time() < first_exp
    entry = demo.press("Call via cookie")
    assert (entry.status, entry.ok) == ("200", True)

    jar = demo.cookies()
    second = jar[ACCESS_COOKIE]["value"]
    assert second != first
    assert jwt_claims(second)["exp"] > first_exp
    assert jwt_claims(second)["sid"] == jwt_claims(first)["sid"]  # the same session
    assert jar[ACCESS_CSRF]["value"] == jwt_claims(second)["csrf"]
    assert jar[REFRESH_COOKIE]["value"] == jar_before[REFRESH_COOKIE]["value"]

    sleep_until(first_exp + 0.1)  # the first token is now expired, the second is not
    later = demo.press("Call via cookie")
    assert (later.status, later.ok) == ("200", True)


def test_logout_with_an_expired_access_cookie_still_ends_the_session(
    demo: DemoPage, servers: Servers
) -> None:
    url = servers.url("short")
    demo.open(url)
    demo.press("Log in (cookies)")
    jar = demo.cookies()
    sleep_until(jwt_claims(jar[ACCESS_COOKIE]["value"])["exp"] + 0.1)
    expired = demo.press("Call via cookie")
    assert (expired.status, message(expired)) == ("401", "Token has expired")

    logout = demo.press("Log out")  # verified but expired: its session is revoked all the same
    assert (logout.status, logout.ok) == ("200", True)
    assert message(logout).startswith("logged out: session ")
    assert not set(demo.cookies()) & JWT_COOKIES
    demo.put_cookies(jar[REFRESH_COOKIE], jar[REFRESH_CSRF])
    refresh = demo.press("Refresh (rotating)")
    assert (refresh.status, message(refresh)) == ("401", "Token has been revoked")


# --- the page as a whole ------------------------------------------------------------

ALL_FLOWS = [
    ("Log in (token)", "200"),
    ("Call via header", "200"),
    ("Call via query string", "200"),
    ("Call via JSON body", "200"),
    ("GET with JSON body", "TypeError"),
    ("Log in (cookies)", "200"),
    ("Call via cookie", "200"),
    ("Cookie GET (no CSRF needed)", "200"),
    ("Cookie POST without CSRF", "401"),
    ("Cookie POST with wrong CSRF", "401"),
    ("Call /only_headers (cookie only)", "401"),
    ("Call /only_headers", "200"),
    ("Refresh (rotating)", "200"),
    ("Log out", "200"),
    ("Call via cookie", "401"),
    ("Log out everywhere", "200"),  # no cookie session left: the stored token's user
    ("Call via header", "401"),
]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_all_flows_then_screenshot(demo: DemoPage, servers: Servers, tmp_path: Path) -> None:
    """Every button once, then a full-page screenshot in tmp_path and artifacts/demo.png.

    docs/demo.png (the README image) is this artifact reduced to a small palette PNG:
    ``Image.open("artifacts/demo.png").quantize(96).save("docs/demo.png", optimize=True)``.
    """
    demo.open(servers.url("default"))
    for button, status in ALL_FLOWS:
        entry = demo.press(button)
        assert entry.status == status, button
        assert entry.label == button
        assert entry.ok == (status == "200"), button
    assert demo.page.locator("#log > li").count() == len(ALL_FLOWS)

    shot = tmp_path / "demo.png"
    demo.page.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width == 1000 and height > 400
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copyfile(shot, artifacts / "demo.png")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_make_demo_command_serves_the_page(demo: DemoPage) -> None:
    # What `make demo` runs (on a free port instead of 5000): the module-level app.
    port = free_port()
    command = [sys.executable, "-m", "flask", "--app", "examples.demo.app", "run"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy
        deadline = time.time() + 15
        while True:
            try:
                with direct.open(url + "/", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, "flask run exited"
                assert time.time() < deadline, "flask run did not serve the page"
                time.sleep(0.1)
        demo.open(url)
        assert demo.page.title() == "Flask-JWT-Guard demo"
        assert demo.page.locator("button[data-action]").count() == 16
        demo.press("Log in (cookies)")
        assert demo.press("Call via cookie").status == "200"
    finally:
        process.terminate()
        process.wait(timeout=10)
