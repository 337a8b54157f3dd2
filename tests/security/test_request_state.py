"""Per-request state that outlives its request (second review round, family 5).

Flask reuses an app context that is already pushed (an app that pushes one at
import, a CLI command, a test) for every request that comes in, so anything kept
on ``g`` survives from one request to the next.  The verified token belongs to
its request: after alice's request, a request to an unprotected view must not
see alice through ``get_jwt_identity()``, ``get_jwt()``, ``current_user`` or
``get_jwt_request_location()``; nor may two requests in a row, or in threads,
see each other's claims.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, jsonify

from tests.helpers import make_app

from .forge import LOCATIONS, csrf_of, lib, send

USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]


def _attempt(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except RuntimeError:  # "call jwt_required() first": nothing to see, as it should be
        return None


def _routes(app: Flask, lib: Any) -> None:
    methods = ["GET", "POST"]

    @app.route("/protected", methods=methods)
    @lib.jwt_required()
    def protected() -> Any:
        return jsonify(identity=lib.get_jwt_identity(), user=lib.current_user["name"])

    @app.route("/optional", methods=methods)
    @lib.jwt_required(optional=True)
    def optional() -> Any:
        return jsonify(identity=lib.get_jwt_identity())

    @app.route("/peek", methods=methods)
    def peek() -> Any:
        """Unprotected: reads what the library would tell about "the" token."""
        return jsonify(
            identity=_attempt(lib.get_jwt_identity),
            claims=_attempt(lib.get_jwt),
            header=_attempt(lib.get_jwt_header),
            user=_attempt(lambda: lib.current_user._get_current_object()),
            location=_attempt(lib.get_jwt_request_location),
        )


def _user_lookup(jwt: Any) -> None:
    @jwt.user_lookup_loader
    def load(_header: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
        return {"name": claims["sub"]}


@pytest.fixture
def env() -> Any:
    return make_app(lib, {"JWT_TOKEN_LOCATION": list(LOCATIONS)}, routes=_routes, setup=_user_lookup)


@pytest.fixture
def pushed(env: Any) -> Iterator[Any]:
    """An app context pushed for the whole test, as an app that pushes one at import."""
    ctx = env.app.app_context()
    ctx.push()
    try:
        yield env
    finally:
        ctx.pop()


def _client(env: Any) -> Any:
    return env.app.test_client(use_cookies=False)


def assert_sees_nobody(resp: Any) -> None:
    assert resp.status_code == 200, resp.get_data()[:300]
    seen = resp.get_json()
    assert seen["identity"] is None, f"an unprotected view sees {seen}"
    assert seen["claims"] in (None, {}), seen
    assert seen["header"] in (None, {}), seen
    assert seen["user"] is None, seen
    assert seen["location"] is None, seen
    assert "alice" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unprotected_view_after_a_verified_request(pushed: Any, location: str, method: str) -> None:
    token = pushed.access_token("alice")
    client = _client(pushed)
    resp = send(client, location, token)
    assert resp.status_code == 200 and resp.get_json()["identity"] == "alice"
    assert_sees_nobody(client.open("/peek", method=method))


@pytest.mark.parametrize("outcome", ["refused-expired", "refused-forged", "optional-anonymous"])
def test_unprotected_view_after_a_verified_then_another_request(pushed: Any, outcome: str) -> None:
    client = _client(pushed)
    send(client, "headers", pushed.access_token("alice"))
    if outcome == "refused-expired":
        token = pushed.access_token("bob", expires_delta=timedelta(seconds=-60))
        assert send(client, "headers", token).status_code == 401
    elif outcome == "refused-forged":
        token = pushed.access_token("bob")[:-4] + "AAAA"
        assert send(client, "headers", token).status_code == 422
    else:
        assert client.get("/optional").get_json() == {"identity": None}
    assert_sees_nobody(client.get("/peek"))


def test_optional_route_after_a_verified_request_is_anonymous(pushed: Any) -> None:
    client = _client(pushed)
    assert send(client, "cookies", pushed.access_token("alice")).status_code == 200
    assert client.get("/optional").get_json() == {"identity": None}
    assert client.post("/optional", json={}).get_json() == {"identity": None}


def test_consecutive_users_in_a_pushed_context(pushed: Any) -> None:
    client = _client(pushed)
    for user in USERS:
        resp = send(client, "headers", pushed.access_token(user))
        assert resp.get_json() == {"identity": user, "user": user}
        assert_sees_nobody(client.get("/peek"))


def test_control_without_a_pushed_context(env: Any) -> None:
    client = _client(env)
    assert send(client, "headers", env.access_token("alice")).status_code == 200
    assert_sees_nobody(client.get("/peek"))


def test_threads_each_with_a_pushed_context(env: Any) -> None:
    """Each thread pushes its own app context and interleaves with the others."""
    tokens = {user: env.access_token(user) for user in USERS}
    barrier = threading.Barrier(len(USERS))

    def run(user: str) -> list[str]:
        problems = []
        client = _client(env)
        with env.app.app_context():
            barrier.wait(timeout=10)
            for _ in range(10):
                token = tokens[user]
                resp = send(client, "cookies", token, csrf=csrf_of(token))
                if resp.get_json() != {"identity": user, "user": user}:
                    problems.append(f"{user}: protected answered {resp.get_json()}")
                seen = client.get("/peek").get_json()
                if seen["identity"] is not None or seen["user"] is not None or seen["claims"]:
                    problems.append(f"{user}: an unprotected view saw {seen}")
        return problems

    with ThreadPoolExecutor(max_workers=len(USERS)) as pool:
        problems = [p for found in pool.map(run, USERS) for p in found]
    assert problems == []


def test_threads_without_a_pushed_context(env: Any) -> None:
    tokens = {user: env.access_token(user) for user in USERS}

    def run(user: str) -> list[str]:
        client = _client(env)
        answers = [send(client, "headers", tokens[user]).get_json() for _ in range(25)]
        return [f"{user} got {a}" for a in answers if a != {"identity": user, "user": user}]

    with ThreadPoolExecutor(max_workers=len(USERS)) as pool:
        problems = [p for found in pool.map(run, USERS) for p in found]
    assert problems == []
