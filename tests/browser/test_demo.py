"""End-to-end tests: the demo page in headless Chromium against a real WSGI server.

Every test clicks the page's buttons and asserts on what the page shows (the log
panel, the state panel) and on the browser's own cookie jar (``context.cookies()``).
Fixtures (servers, browser, the ``demo`` page) are in ``conftest.py``, plain helpers in
``helpers.py``.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.parse
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
    ("button", "location", "sent", "sent_without_token"),
    [
        (
            "Call via header",
            "headers",
            "Bearer header (localStorage token)",
            "no token (none in localStorage)",
        ),
        (
            "Call via query string",
            "query_string",
            "?jwt= query string (localStorage token)",
            "?jwt= query string, empty (no token stored)",
        ),
        (
            "Call via JSON body",
            "json",
            "JSON body (localStorage token)",
            "JSON body without a token (none stored)",
        ),
    ],
)
def test_token_in_local_storage_works_in_each_token_location(
    demo: DemoPage, servers: Servers, button: str, location: str, sent: str, sent_without_token: str
) -> None:
    demo.open(servers.url("default"))

    refused = demo.press(button)  # nothing stored yet
    assert (refused.status, refused.ok, refused.outcome) == ("401", False, "unexpected failure")
    assert (refused.sent, refused.location) == (f"sent: {sent_without_token}", "")

    login = demo.press("Log in (token)")
    assert (login.status, login.ok) == ("200", True)
    token = demo.local_token()
    assert token is not None
    assert jwt_claims(token)["sub"] == "alice"
    assert jwt_claims(token)["type"] == "access"
    assert demo.state("token") != "none"

    entry = demo.press(button)
    assert (entry.status, entry.ok, entry.outcome) == ("200", True, "success")
    # The entry names the credential the page sent and the location the server read.
    assert entry.sent == f"sent: {sent}"
    assert entry.location == f"server's location: {location}"
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
    # Secure, as in production: Chromium keeps Secure cookies on http://127.0.0.1, which it
    # treats as a secure context (what lets the demo set JWT_COOKIE_SECURE = True).
    assert all(cookie["secure"] for cookie in jar.values())
    assert demo.page.locator("#cookie-warning").is_hidden()
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
    assert (entry.sent, entry.location) == ("sent: cookie + X-CSRF-TOKEN", "server's location: cookies")
    assert entry.notes == []
    # 15 minutes from expiry is outside the 20 second window: no implicit refresh.
    assert demo.cookies()[ACCESS_COOKIE]["value"] == jar[ACCESS_COOKIE]["value"]
    assert demo.local_token() is None


def test_secure_cookie_is_not_sent_over_plain_http_and_the_page_says_so(
    demo: DemoPage, servers: Servers
) -> None:
    # The demo's cookies are Secure (JWT_COOKIE_SECURE = True, its default); demo.test is
    # plain http on a host Chromium does not treat as secure.
    demo.open(servers.url("default", host=INSECURE_HOST))
    warning = demo.page.locator("#cookie-warning")
    assert warning.is_hidden()

    with demo.page.expect_response("**/login_with_cookies") as response_info:
        login = demo.press("Log in (cookies)")
    assert login.status == "200"
    set_cookies = response_info.value.header_values("set-cookie")
    sent = [h for h in set_cookies if h.startswith(f"{ACCESS_COOKIE}=")]
    assert sent and "Secure" in sent[0]  # the server did send it, marked Secure ...
    assert ACCESS_COOKIE not in demo.cookies()  # ... and the browser refused it over http

    # The page explains, and points at the loopback address where the cookies work.
    assert any("did not keep the cookies" in note for note in login.notes)
    assert warning.is_visible()
    port = servers.port("default")
    assert demo.page.locator("#loopback-link").get_attribute("href") == f"http://127.0.0.1:{port}/"

    for button in ("Call via cookie", "Cookie GET (no CSRF needed)"):
        entry = demo.press(button)
        assert (entry.status, entry.ok) == ("401", False)
        assert entry.sent == "sent: no token (no cookie)"
        assert f'Missing cookie "{ACCESS_COOKIE}"' in message(entry)


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
    early = demo.press("Call via cookie")  # a call that normally works, before any login
    assert (early.status, early.outcome) == ("401", "unexpected failure")
    demo.press("Log in (cookies)")

    # The orange buttons are meant to fail: their failures are marked as expected.
    missing = demo.press("Cookie POST without CSRF")
    assert (missing.status, missing.ok, missing.outcome) == ("401", False, "expected failure")
    assert missing.sent == "sent: cookie without X-CSRF-TOKEN"
    assert "csrf" in message(missing).lower()
    assert missing.pill.startswith("401")

    wrong = demo.press("Cookie POST with wrong CSRF")
    assert (wrong.status, wrong.ok, wrong.outcome) == ("401", False, "expected failure")
    assert wrong.sent == "sent: cookie + wrong X-CSRF-TOKEN"
    assert "csrf" in message(wrong).lower()

    get = demo.press("Cookie GET (no CSRF needed)")
    assert (get.status, get.ok, get.outcome) == ("200", True, "success")
    assert get.sent == "sent: cookie (a GET: no X-CSRF-TOKEN needed)"
    assert get.json()["location"] == "cookies"

    right = demo.press("Call via cookie")
    assert (right.status, right.ok) == ("200", True)
    assert right.sent == "sent: cookie + X-CSRF-TOKEN"

    # Readable at a glance: successes green, expected failures orange, unexpected ones red,
    # each failure tagged in words too.
    colour = "e => getComputedStyle(e).color"
    log = demo.page.locator("#log")
    assert log.locator("li.ok .status").first.evaluate(colour) == "rgb(27, 135, 63)"
    assert log.locator("li.error.expected .status").first.evaluate(colour) == "rgb(161, 92, 7)"
    assert log.locator("li.error.unexpected .status").first.evaluate(colour) == "rgb(198, 40, 40)"
    tags = log.locator(".tag").all_inner_texts()
    assert sorted(tags) == ["expected failure", "expected failure", "unexpected failure"]
    legend = demo.page.locator(".legend").inner_text()
    assert "expected to fail: shows the 401/422 the library returns" in legend


# --- per-route locations, refresh, logout -------------------------------------------


def test_only_headers_rejects_a_cookie_only_request(demo: DemoPage, servers: Servers) -> None:
    demo.open(servers.url("default"))
    demo.press("Log in (cookies)")

    cookie_only = demo.press("Call /only_headers (cookie only)")
    assert (cookie_only.status, cookie_only.ok, cookie_only.outcome) == ("401", False, "expected failure")
    assert cookie_only.sent == "sent: cookie (a GET: no X-CSRF-TOKEN needed)"
    assert "Authorization" in message(cookie_only)
    assert demo.press("Call via cookie").status == "200"  # the cookie itself is valid

    demo.press("Log in (token)")
    header = demo.press("Call /only_headers")
    assert (header.status, header.ok) == ("200", True)
    # The cookies went along too; the route read the header only.
    assert header.sent == "sent: Bearer header (localStorage token) + cookie (a GET: no X-CSRF-TOKEN needed)"
    assert header.location == "server's location: headers"


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
    assert (logout.sent, logout.location) == (
        "sent: Bearer header (localStorage token)",
        "server's location: headers",
    )
    assert (logout_request.value.header_value("authorization") or "").startswith("Bearer ey")
    assert demo.local_token() is not None  # kept by the page, to show it refused
    assert logout.notes == ["localStorage token kept, to show it refused now (Forget token drops it)"]

    for button in ("Call via header", "Call via query string", "Call via JSON body"):
        entry = demo.press(button)
        assert (entry.status, message(entry)) == ("401", "Token has been revoked"), button


def test_cookie_logout_leaves_the_local_storage_token_alone(demo: DemoPage, servers: Servers) -> None:
    demo.open(servers.url("default"))
    demo.press("Log in (token)")
    demo.press("Log in (cookies)")
    token = demo.local_token()

    logout = demo.press("Log out")  # the cookie session: revoked on the server
    assert (logout.sent, logout.location) == ("sent: cookie + X-CSRF-TOKEN", "server's location: cookies")
    assert message(logout).startswith("logged out: session ")
    assert logout.notes == [
        "localStorage untouched: its token is another session, still live "
        "(Log out again to revoke it, Forget token to drop it)"
    ]
    assert demo.local_token() == token
    assert demo.press("Call via cookie").status == "401"
    assert demo.press("Call via header").status == "200"  # another session: still live

    again = demo.press("Log out")  # no cookie session left: now the stored token's session
    assert again.sent == "sent: Bearer header (localStorage token)"
    refused = demo.press("Call via header")
    assert (refused.status, message(refused)) == ("401", "Token has been revoked")


def test_forget_token_empties_local_storage_but_does_not_revoke_the_token(
    demo: DemoPage, servers: Servers
) -> None:
    url = servers.url("default")
    demo.open(url)
    demo.press("Log in (token)")
    token = demo.local_token()
    assert token is not None and demo.press("Call via header").status == "200"

    requests: list[str] = []
    demo.page.on("request", lambda request: requests.append(request.url))
    forget = demo.press("Forget token")
    assert requests == []
    assert (forget.status, forget.ok, forget.label) == ("local", True, "Forget token")
    assert forget.sent == "sent: nothing: no request, the server is not told"
    assert forget.request == 'localStorage.removeItem("access_token")'
    assert forget.notes == [
        "a copy of the token would still be accepted until it expires or its session is revoked"
    ]
    assert demo.local_token() is None and demo.state("token") == "none"

    for button, sent in (
        ("Call via header", "no token (none in localStorage)"),
        ("Call via query string", "?jwt= query string, empty (no token stored)"),
        ("Call via JSON body", "JSON body without a token (none stored)"),
    ):
        entry = demo.press(button)  # the page has no token to send any more
        assert (entry.status, entry.outcome, entry.sent) == ("401", "unexpected failure", f"sent: {sent}")
    assert demo.send_bearer(url + "/protected", token)[0] == 200  # forgotten, not revoked


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


def test_get_with_a_json_body_is_refused_by_the_browser_and_by_the_library(
    demo: DemoPage, servers: Servers
) -> None:
    url = servers.url("default")
    demo.open(url)
    demo.press("Log in (token)")
    token = demo.local_token()
    assert token is not None
    reached_server: list[str] = []
    demo.page.on(
        "request",
        lambda request: reached_server.append(request.url) if "/protected" in request.url else None,
    )

    entry = demo.press("GET with JSON body")
    assert (entry.status, entry.ok, entry.outcome) == ("TypeError", False, "expected failure")
    assert entry.sent == "sent: nothing: refused by the browser, not the server"
    assert entry.body.startswith("TypeError: ")
    assert "GET/HEAD" in entry.body
    assert reached_server == []  # fetch() refused before sending anything

    # A client that does send it (here the demo server's test client) gets the library's 401.
    server = demo.press("GET with JSON body (non-browser client)")
    assert (server.status, server.outcome) == ("401", "expected failure")
    assert server.sent == (
        "sent: JSON body on a GET /protected, sent by the demo server's test client (localStorage token)"
    )
    assert "JSON body tokens are not accepted on GET or HEAD requests" in message(server)

    # ... the very answer the curl command on the page gets over real HTTP.
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        body = json.dumps({"access_token": token})
        connection.request("GET", "/protected", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())) == (401, server.json())
    finally:
        connection.close()
    curl = demo.page.locator(".curl").inner_text()
    assert curl.startswith(f"curl -X GET {url}/protected")

    assert demo.press("Call via JSON body").status == "200"  # POST with the same body works


def test_a_forged_token_gets_the_librarys_422(demo: DemoPage, servers: Servers) -> None:
    demo.open(servers.url("default"))
    demo.press("Log in (token)")
    token = demo.local_token()
    assert token is not None

    with demo.page.expect_request("**/protected") as request_info:
        forged = demo.press("Header with a forged token")
    assert (forged.status, forged.outcome) == ("422", "expected failure")
    assert forged.sent == "sent: Bearer header (localStorage token, sub changed to mallory)"
    assert message(forged) == "Signature verification failed"
    sent = (request_info.value.header_value("authorization") or "").removeprefix("Bearer ")
    assert jwt_claims(sent) == jwt_claims(token) | {"sub": "mallory"}
    assert sent.split(".")[2] == token.split(".")[2]  # the original signature


# --- implicit refresh ---------------------------------------------------------------


def test_short_lived_cookie_counts_down_and_is_visibly_renewed_in_its_window(
    demo: DemoPage, servers: Servers
) -> None:
    # Server config "short": "Log in (short-lived cookie)" gives a 3 s access token,
    # renewed in its last 2 s (the demo's own: 30 s and 20 s).
    demo.open(servers.url("short"))
    assert (demo.expiry_phase(), demo.state("expiry")) == ("none", "no access cookie")
    login = demo.press("Log in (short-lived cookie)")
    assert message(login) == "logged in as alice (cookies set; the access token lives 3 s)"
    assert login.notes[0].startswith("new access cookie, expiring in 0:0")
    jar_before = demo.cookies()
    first = jar_before[ACCESS_COOKIE]["value"]
    first_exp = jwt_claims(first)["exp"]
    assert first_exp - time.time() <= 3
    assert demo.expiry_phase() in {"valid", "window"}
    assert demo.state("renewed") == "not yet"

    # The countdown reaches the renewal window before expiry; a cookie call now renews.
    demo.page.wait_for_selector("#state-expiry[data-phase='window']")
    assert "in the renewal window" in demo.state("expiry")
    assert time.time() < first_exp
    entry = demo.press("Call via cookie")
    assert (entry.status, entry.ok) == ("200", True)

    jar = demo.cookies()
    second = jar[ACCESS_COOKIE]["value"]
    assert second != first
    assert jwt_claims(second)["exp"] > first_exp
    assert jwt_claims(second)["sid"] == jwt_claims(first)["sid"]  # the same session
    assert jar[ACCESS_CSRF]["value"] == jwt_claims(second)["csrf"]
    assert jar[ACCESS_CSRF]["value"] != jar_before[ACCESS_CSRF]["value"]
    assert jar[REFRESH_COOKIE]["value"] == jar_before[REFRESH_COOKIE]["value"]

    # ... and the page shows it: a "renewed" entry, the event, a countdown from 15 minutes
    # (a renewed token lives JWT_ACCESS_TOKEN_EXPIRES).
    assert entry.notes[0].startswith("renewed: this call came within 2 s of expiry")
    assert demo.page.locator("#log > li").first.get_attribute("class") == "entry ok expected renewed"
    assert demo.state("renewed").startswith("renewed at ")
    assert demo.expiry_phase() == "valid"
    assert re.match(r"in (14:5\d|15:00) ", demo.state("expiry")), demo.state("expiry")

    sleep_until(first_exp + 0.1)  # the first token is now expired, the second is not
    later = demo.press("Call via cookie")
    assert (later.status, later.ok, later.notes) == ("200", True, [])


def test_logout_with_an_expired_access_cookie_still_ends_the_session(
    demo: DemoPage, servers: Servers
) -> None:
    url = servers.url("expiring")
    demo.open(url)
    demo.press("Log in (short-lived cookie)")
    jar = demo.cookies()
    demo.page.wait_for_selector("#state-expiry[data-phase='expired']")
    assert demo.state("expiry").endswith("ago: cookie calls now get 401")
    sleep_until(jwt_claims(jar[ACCESS_COOKIE]["value"])["exp"] + 0.1)
    expired = demo.press("Call via cookie")
    assert (expired.status, message(expired)) == ("401", "Token has expired")

    logout = demo.press("Log out")  # verified but expired: its session is revoked all the same
    assert (logout.status, logout.ok) == ("200", True)
    assert message(logout).startswith("logged out: session ")
    assert not set(demo.cookies()) & JWT_COOKIES
    assert demo.expiry_phase() == "none"
    demo.put_cookies(jar[REFRESH_COOKIE], jar[REFRESH_CSRF])
    refresh = demo.press("Refresh (rotating)")
    assert (refresh.status, message(refresh)) == ("401", "Token has been revoked")


# --- the page as a whole ------------------------------------------------------------

EXPECTED = "expected failure"
UNEXPECTED = "unexpected failure"

#: Every button once: (button, status, outcome), in an order that tells the story.
ALL_FLOWS = [
    ("Log in (token)", "200", "success"),
    ("Call via header", "200", "success"),
    ("Call via query string", "200", "success"),
    ("Call via JSON body", "200", "success"),
    ("Header with a forged token", "422", EXPECTED),
    ("GET with JSON body", "TypeError", EXPECTED),  # refused by the browser
    ("GET with JSON body (non-browser client)", "401", EXPECTED),  # ... and by the library
    ("Log in (cookies)", "200", "success"),
    ("Call via cookie", "200", "success"),
    ("Cookie GET (no CSRF needed)", "200", "success"),
    ("Cookie POST without CSRF", "401", EXPECTED),
    ("Cookie POST with wrong CSRF", "401", EXPECTED),
    ("Call /only_headers (cookie only)", "401", EXPECTED),
    ("Call /only_headers", "200", "success"),
    ("Refresh (rotating)", "200", "success"),
    ("Log in (short-lived cookie)", "200", "success"),
    ("Log out", "200", "success"),  # the cookie session only
    ("Call via cookie", "401", UNEXPECTED),
    ("Call via header", "200", "success"),  # the stored token: another session, still live
    ("Log out everywhere", "200", "success"),  # no cookie session left: the stored token's user
    ("Call via header", "401", UNEXPECTED),
    ("Forget token", "local", "success"),
    ("Call via header", "401", UNEXPECTED),
]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def save_artifact(shot: Path, name: str) -> None:
    """Copy a screenshot to artifacts/; the docs/ images are these, reduced to a small palette
    (octree keeps the red and the orange of the log apart, median cut merges them)::

        Image.open("artifacts/demo.png").convert("RGB").quantize(96, method=Image.Quantize.FASTOCTREE)
            .save("docs/demo.png", optimize=True)
    """
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copyfile(shot, artifacts / name)


def test_all_flows_then_screenshot(demo: DemoPage, servers: Servers, tmp_path: Path) -> None:
    """Every button once, then a full-page screenshot in tmp_path and artifacts/demo.png
    (docs/demo.png, the README image)."""
    demo.open(servers.url("default"))
    labels = demo.page.locator("button[data-action]:not([data-action='clear'])").all_inner_texts()
    assert sorted(set(labels)) == sorted({button for button, _, _ in ALL_FLOWS})
    for button, status, outcome in ALL_FLOWS:
        entry = demo.press(button)
        assert (entry.status, entry.outcome) == (status, outcome), button
        assert entry.label == button
        assert entry.ok == (outcome == "success"), button
        assert entry.sent.startswith("sent: "), button
    assert demo.page.locator("#log > li").count() == len(ALL_FLOWS)

    shot = tmp_path / "demo.png"
    demo.page.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width == 1000 and height > 400
    save_artifact(shot, "demo.png")


def test_page_fits_a_390_px_phone(phone_demo: DemoPage, servers: Servers, tmp_path: Path) -> None:
    """No horizontal scrolling, no heading cut off, at 390 px (artifacts/demo-phone.png)."""
    page = phone_demo.open(servers.url("default")).page
    for button in (
        "Log in (token)",
        "Call via query string",  # the longest request line
        "GET with JSON body (non-browser client)",  # the longest message
        "Log in (short-lived cookie)",
        "Call via cookie",
        "Cookie POST with wrong CSRF",
    ):
        phone_demo.press(button)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("window.innerWidth") == 390
    # Every heading, button, log entry and status line lies inside the screen, unclipped.
    outside = page.evaluate(
        """() => [...document.querySelectorAll("h1, h2, button, .entry, .entry-head > *, .state dd")]
            .filter(e => { const box = e.getBoundingClientRect();
                           return box.left < 0 || box.right > 390 || e.scrollWidth > e.clientWidth + 1; })
            .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert outside == []

    shot = tmp_path / "demo-phone.png"
    page.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width == 390 and height > 844
    save_artifact(shot, "demo-phone.png")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_make_demo_command_serves_the_page_without_security_warnings(demo: DemoPage, tmp_path: Path) -> None:
    # What `make demo` runs (on a free port instead of 5000): the module-level app, its defaults.
    port = free_port()
    command = [sys.executable, "-m", "flask", "--app", "examples.demo.app", "run"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path / "flask-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
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
        assert demo.page.locator("button[data-action]").count() == 20
        # The one warning `flask run` prints is Werkzeug's; the page says why it is there.
        assert "development server" in demo.page.locator("body > footer").inner_text()
        demo.press("Log in (cookies)")
        assert demo.press("Call via cookie").status == "200"
    finally:
        process.terminate()
        process.wait(timeout=10)
    output = log.read_text()
    assert "Running on http://127.0.0.1" in output
    assert "JWTGuardSecurityWarning" not in output, output
    assert "This is a development server" in output  # Werkzeug's, explained on the page
