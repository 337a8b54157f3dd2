"""flask_jwt_guard.testing: the logged-in test client, the frozen clock and the pytest plugin."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from flask import Flask, jsonify, redirect, request
from werkzeug.test import EnvironBuilder

from flask_jwt_guard.context import state_of
from flask_jwt_guard.revocation import identity_tag, token_key
from flask_jwt_guard.testing import FrozenClock, JWTTestClient, frozen_time
from tests.helpers import GUARD, add_standard_routes, make_app

pytest_plugins = ["pytester"]

ALL_LOCATIONS = ["headers", "cookies", "query_string", "json"]
EXPIRED = (401, {"msg": "Token has expired"})


def routes(app: Flask, lib: ModuleType) -> None:
    add_standard_routes(app, lib)

    @app.route("/echo", methods=["GET", "POST", "PUT"])
    def echo() -> Any:
        """What the request carried, as the app saw it."""
        return jsonify(
            args=request.args.to_dict(flat=False),
            json=request.get_json(silent=True),
            headers={name: request.headers.get(name) for name in ("Authorization", "X-CSRF-TOKEN")},
        )

    @app.route("/go")
    def go() -> Any:
        return redirect("/protected")


def build(**config: Any) -> tuple[Flask, JWTTestClient]:
    """An app with every location on, and its client made as users make it (test_client_class)."""
    config.setdefault("JWT_TOKEN_LOCATION", ALL_LOCATIONS)
    app = make_app(GUARD, config, routes=routes).app
    app.test_client_class = JWTTestClient
    client = app.test_client()
    assert isinstance(client, JWTTestClient)
    return app, client


def call(client: JWTTestClient, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    response = client.open(path, method=method, **kwargs)
    return response.status_code, response.get_json(silent=True)


@pytest.fixture
def app() -> Flask:
    """For the plugin's ``jwt_client`` and ``jwt_clock`` fixtures."""
    return build()[0]


# --- headers -------------------------------------------------------------------------------


def test_headers(jwt_client: JWTTestClient) -> None:
    token = jwt_client.login_as("alice")
    assert jwt_client.get("/echo").json["headers"]["Authorization"] == f"Bearer {token}"  # type: ignore[index]
    assert call(jwt_client, "GET", "/only_headers") == (
        200,
        {"identity": "alice", "location": "headers", "type": "access"},
    )


@pytest.mark.parametrize(("kind", "expected"), [("JWT", "JWT {}"), ("", "{}")])
def test_headers_follow_header_name_and_type(kind: str, expected: str) -> None:
    _, client = build(JWT_HEADER_NAME="X-Auth", JWT_HEADER_TYPE=kind)
    token = client.login_as("alice")
    with client:
        assert client.get("/only_headers").status_code == 200
        assert request.headers["X-Auth"] == expected.format(token)
        assert "Authorization" not in request.headers


def test_a_header_of_the_request_wins(jwt_client: JWTTestClient) -> None:
    jwt_client.login_as("alice")
    assert call(jwt_client, "GET", "/only_headers", headers={"Authorization": "Bearer not.a.token"})[0] == 422


# --- cookies -------------------------------------------------------------------------------


def test_cookie_protected_post_in_one_line(jwt_client: JWTTestClient) -> None:
    jwt_client.login_as("alice", location="cookies")
    assert jwt_client.post("/only_cookies").json["location"] == "cookies"  # type: ignore[index]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_csrf_header_sent_on_csrf_methods(jwt_client: JWTTestClient, method: str) -> None:
    jwt_client.login_as("alice", location="cookies")
    csrf = jwt_client.get_cookie("csrf_access_token")
    assert csrf is not None
    with jwt_client:
        assert jwt_client.open("/only_cookies", method=method).status_code == 200
        assert request.headers["X-CSRF-TOKEN"] == csrf.value


def test_no_csrf_header_on_get(jwt_client: JWTTestClient) -> None:
    jwt_client.login_as("alice", location="cookies")
    assert jwt_client.get("/echo").json["headers"] == {"Authorization": None, "X-CSRF-TOKEN": None}  # type: ignore[index]
    assert jwt_client.get("/only_cookies").status_code == 200


def test_cookies_follow_the_app_settings() -> None:
    _, client = build(
        JWT_ACCESS_COOKIE_NAME="a_jwt",
        JWT_ACCESS_CSRF_COOKIE_NAME="a_csrf",
        JWT_ACCESS_CSRF_HEADER_NAME="X-A-CSRF",
        JWT_CSRF_METHODS=["POST", "GET"],
    )
    client.login_as("alice", location="cookies")
    assert client.get_cookie("a_jwt") is not None and client.get_cookie("a_csrf") is not None
    with client:
        assert client.get("/only_cookies").status_code == 200
        assert request.headers["X-A-CSRF"] == request.cookies["a_csrf"]


@pytest.mark.parametrize(
    "config", [{"JWT_CSRF_IN_COOKIES": False}, {"JWT_COOKIE_CSRF_PROTECT": False}], ids=str
)
def test_cookies_without_a_csrf_cookie(config: dict[str, Any]) -> None:
    _, client = build(**config)
    client.login_as("alice", location="cookies")
    assert client.get_cookie("csrf_access_token") is None
    assert client.post("/only_cookies").status_code == 200


def test_a_csrf_header_of_the_request_wins(jwt_client: JWTTestClient) -> None:
    jwt_client.login_as("alice", location="cookies")
    assert call(jwt_client, "POST", "/only_cookies", headers={"X-CSRF-TOKEN": "forged"}) == (
        401,
        {"msg": "CSRF double submit tokens do not match"},
    )


def test_cookies_are_the_jar_the_app_writes_to(jwt_client: JWTTestClient) -> None:
    jwt_client.login_as("alice", location="cookies")
    assert jwt_client.post("/logout").status_code == 200  # the app's view unsets them
    assert jwt_client.get("/only_cookies").status_code == 401


def test_refresh_cookie(jwt_client: JWTTestClient) -> None:
    jwt_client.login_as("alice", location="cookies", refresh=True)
    assert jwt_client.get_cookie("refresh_token_cookie") is not None
    assert jwt_client.get_cookie("access_token_cookie") is None
    assert call(jwt_client, "POST", "/refresh")[1]["type"] == "refresh"


# --- query string and JSON -----------------------------------------------------------------


def test_query_string_merged(jwt_client: JWTTestClient) -> None:
    token = jwt_client.login_as("alice", location="query_string")
    assert jwt_client.get("/echo", query_string={"page": "2"}).json["args"] == {  # type: ignore[index]
        "page": ["2"],
        "jwt": [token],
    }
    assert jwt_client.get("/echo?a=1&a=2").json["args"] == {"a": ["1", "2"], "jwt": [token]}  # type: ignore[index]
    assert call(jwt_client, "GET", "/only_query", query_string="x=y")[1]["location"] == "query_string"


def test_query_string_prefix() -> None:
    _, client = build(JWT_QUERY_STRING_NAME="t", JWT_QUERY_STRING_VALUE_PREFIX="Bearer ")
    token = client.login_as("alice", location="query_string")
    assert client.get("/echo").json["args"] == {"t": [f"Bearer {token}"]}  # type: ignore[index]
    assert client.get("/only_query").status_code == 200


def test_json_merged(jwt_client: JWTTestClient) -> None:
    token = jwt_client.login_as("alice", location="json")
    assert jwt_client.post("/echo", json={"item": 1}).json["json"] == {"item": 1, "access_token": token}  # type: ignore[index]
    assert jwt_client.put("/echo").json["json"] == {"access_token": token}  # type: ignore[index]
    assert call(jwt_client, "PATCH", "/only_json", json={"item": 1})[1]["location"] == "json"
    assert jwt_client.get("/only_json").status_code == 401  # no body on GET, as the library wants


def test_json_leaves_other_bodies_alone(jwt_client: JWTTestClient) -> None:
    jwt_client.login_as("alice", location="json")
    assert jwt_client.post("/echo", json=[1, 2]).json["json"] == [1, 2]  # type: ignore[index]
    assert jwt_client.post("/echo", data={"a": "b"}).json["json"] is None  # type: ignore[index]


def test_refresh_json_key(jwt_client: JWTTestClient) -> None:
    token = jwt_client.login_as("alice", location="json", refresh=True)
    assert jwt_client.post("/echo").json["json"] == {"refresh_token": token}  # type: ignore[index]
    assert call(jwt_client, "POST", "/refresh")[1]["type"] == "refresh"


# --- every call form, logout -----------------------------------------------------------------


@pytest.mark.parametrize("location", ALL_LOCATIONS)
def test_every_call_form(app: Flask, location: str) -> None:
    client = JWTTestClient(app, app.response_class)
    client.login_as("alice", location=location)  # type: ignore[arg-type]
    builder = EnvironBuilder("/protected", method="POST")
    assert client.open(builder).status_code == 200
    assert client.open(builder.get_environ()).status_code == 200
    assert client.open(builder.get_request()).status_code == 200
    assert client.post("/protected").status_code == 200
    assert client.open("/protected", "http://localhost/", method="PUT").status_code == 200


def test_redirects_followed_with_the_token(jwt_client: JWTTestClient) -> None:
    jwt_client.login_as("alice")
    response = jwt_client.get("/go", follow_redirects=True)
    assert (response.status_code, len(response.history)) == (200, 1)


@pytest.mark.parametrize("location", ALL_LOCATIONS)
def test_logout(jwt_client: JWTTestClient, location: str) -> None:
    jwt_client.login_as("alice", location=location)  # type: ignore[arg-type]
    assert jwt_client.post("/protected").status_code == 200
    jwt_client.logout()
    assert call(jwt_client, "POST", "/protected")[0] == 401
    assert jwt_client.get_cookie("access_token_cookie") is None
    assert jwt_client.get_cookie("csrf_access_token") is None


def test_login_replaces_login(jwt_client: JWTTestClient) -> None:
    jwt_client.login_as("alice", location="cookies")
    jwt_client.login_as("bob")
    assert jwt_client.get_cookie("access_token_cookie") is None
    assert call(jwt_client, "GET", "/protected")[1]["identity"] == "bob"


def test_login_as_claims_and_unknown_location(jwt_client: JWTTestClient) -> None:
    token = jwt_client.login_as("alice", claims={"role": "admin"}, fresh=True)
    with jwt_client.application.app_context():
        claims = GUARD.decode_token(token)
    assert (claims["role"], claims["fresh"]) == ("admin", True)
    with pytest.raises(ValueError, match="location must be one of"):
        jwt_client.login_as("alice", location="body")  # type: ignore[arg-type]


def test_client_without_login_is_a_flask_client(jwt_client: JWTTestClient) -> None:
    assert call(jwt_client, "GET", "/protected")[0] == 401
    assert jwt_client.get("/open").json == {"ok": True}


# --- time ----------------------------------------------------------------------------------


def test_expiry_without_sleeping(jwt_client: JWTTestClient, jwt_clock: FrozenClock) -> None:
    jwt_client.login_as("alice")
    jwt_clock.advance(timedelta(minutes=15) - timedelta(seconds=1))  # JWT_ACCESS_TOKEN_EXPIRES
    assert jwt_client.get("/protected").status_code == 200
    jwt_clock.advance(1)  # exactly at exp: expired (as PyJWT decides)
    assert call(jwt_client, "GET", "/protected") == EXPIRED


def test_freshness_without_sleeping(jwt_client: JWTTestClient, jwt_clock: FrozenClock) -> None:
    jwt_client.login_as("alice", fresh=timedelta(minutes=5))
    assert jwt_client.get("/fresh").status_code == 200
    jwt_clock.advance(5 * 60 + 1)
    assert call(jwt_client, "GET", "/fresh") == (401, {"msg": "Fresh token required"})
    assert jwt_client.get("/protected").status_code == 200


def test_not_yet_valid_when_the_clock_goes_back(jwt_client: JWTTestClient, jwt_clock: FrozenClock) -> None:
    jwt_client.login_as("alice")
    jwt_clock.advance(-60)
    assert call(jwt_client, "GET", "/protected") == (422, {"msg": "The token is not yet valid (iat)"})


def test_frozen_time_without_pytest(app: Flask) -> None:
    state = state_of(app)
    original = state.clock
    client = JWTTestClient(app, app.response_class)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with frozen_time(app, at=start) as clock:
        assert state.clock is clock and clock() == start.timestamp()
        token = client.login_as("alice", location="cookies")
        with app.app_context():
            assert GUARD.decode_token(token)["iat"] == start.timestamp()
        assert clock.advance(timedelta(hours=1)) == start.timestamp() + 3600
        assert call(client, "POST", "/protected") == EXPIRED
        clock.set(datetime(2030, 1, 1, 0, 10))  # naive: UTC
        assert client.post("/protected").status_code == 200
    assert state.clock is original
    assert call(client, "POST", "/protected")[0] == 422  # back in the real present: a token from 2030
    assert abs(state.clock() - time.time()) < 5


def test_frozen_time_nests_and_restores_on_error(app: Flask) -> None:
    state = state_of(app)
    original = state.clock
    with pytest.raises(ZeroDivisionError), frozen_time(app, at=1000.0) as outer:
        with frozen_time(app) as inner:
            assert inner() == 1000.0
        assert state.clock is outer
        1 / 0  # noqa: B018
    assert state.clock is original


def test_frozen_clock_moves_the_memory_store() -> None:
    app, client = build(JWT_REVOCATION_STORE="memory", JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=60))
    with frozen_time(app) as clock:
        token = client.login_as("alice")
        with app.app_context():
            claims = GUARD.decode_token(token)
            GUARD.revoke_token(claims)
        assert call(client, "GET", "/protected") == (401, {"msg": "Token has been revoked"})
        store = state_of(app).store()
        assert store is not None
        key = token_key("jwt_guard:", identity_tag("alice"), claims["jti"])
        assert store.lookup([key])[0] == ["1"]
        clock.advance(61)  # the revocation lives as long as the token: both are over
        assert store.lookup([key])[0] == [None]


def test_frozen_time_needs_a_manager() -> None:
    with pytest.raises(RuntimeError, match="initialize a JWTManager"), frozen_time(Flask("bare")):
        pass


# --- the pytest plugin -----------------------------------------------------------------------

PROJECT = """
    from datetime import timedelta

    import pytest
    from flask import Flask, jsonify

    from flask_jwt_guard import JWTManager, get_jwt_identity, jwt_required


    @pytest.fixture
    def app():
        app = Flask(__name__)
        app.config.update(
            TESTING=True,
            JWT_SECRET_KEY="k" * 64,
            JWT_TOKEN_LOCATION=["headers", "cookies"],
            JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=10),
        )
        JWTManager(app)

        @app.post("/orders")
        @jwt_required()
        def orders():
            return jsonify(user=get_jwt_identity())

        return app


    def test_cookie_protected_post(jwt_client):
        jwt_client.login_as("alice", location="cookies")
        assert jwt_client.post("/orders").json == {"user": "alice"}


    def test_expiry(jwt_client, jwt_clock):
        jwt_client.login_as("alice")
        jwt_clock.advance(timedelta(minutes=10, seconds=1))
        response = jwt_client.post("/orders")
        assert (response.status_code, response.json) == (401, {"msg": "Token has expired"})


    def test_plain_fixtures(jwt_client, jwt_clock, app):
        assert jwt_client.application is app
        assert jwt_clock() == jwt_clock()
"""


def test_pytest_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_project=textwrap.dedent(PROJECT))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert "time.sleep" not in PROJECT


def test_pytest_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_project=textwrap.dedent(PROJECT))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:flask_jwt_guard")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*fixture 'jwt_client' not found*"])


def test_importable_without_pytest() -> None:
    # sys.modules["pytest"] = None makes "import pytest" fail, as if it were not installed.
    code = (
        "import sys; sys.modules['pytest'] = None; import flask_jwt_guard.testing as t; print(t.frozen_time)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "frozen_time" in done.stdout
