"""Sessions that can be ended, through the public API, on every store.

Each test builds an app with ``JWT_REVOCATION_STORE`` set to a store from the
fixtures (memory, Redis, a Redis Cluster, SQLite, PostgreSQL: real servers) and
drives it through Flask's test client. Time is moved with the app's clock, never slept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, jsonify

import flask_jwt_guard as guard
from flask_jwt_guard.exceptions import ConfigurationError
from flask_jwt_guard.revocation import MemoryStore
from flask_jwt_guard.testing import FrozenClock, JWTTestClient, frozen_time
from tests.helpers import Env, make_app

STORES = ["memory", "redis", "redis_cluster", "sqlite", "postgresql"]


class MovableClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def memory_store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_store")


def session_routes(app: Flask, lib: Any) -> None:
    @app.post("/login")
    def login() -> Any:
        return jsonify(access=guard.create_access_token("alice"), refresh=guard.create_refresh_token("alice"))

    @app.post("/login_cookies")
    def login_cookies() -> Any:
        response = jsonify(ok=True)
        guard.set_access_cookies(response, guard.create_access_token("alice"))
        guard.set_refresh_cookies(response, guard.create_refresh_token("alice"))
        return response

    @app.get("/protected")
    @guard.jwt_required()
    def protected() -> Any:
        claims = guard.get_jwt()
        return jsonify(identity=guard.get_jwt_identity(), sid=claims.get("sid"))

    @app.post("/refresh")
    @guard.jwt_required(refresh=True)
    def refresh() -> Any:
        identity = guard.get_jwt_identity()
        return jsonify(
            access=guard.create_access_token(identity), refresh=guard.create_refresh_token(identity)
        )

    @app.post("/logout")
    @guard.jwt_required(verify_type=False)
    def logout() -> Any:
        guard.revoke_session()
        return jsonify(ok=True)

    @app.post("/logout_token")
    @guard.jwt_required(verify_type=False)
    def logout_token() -> Any:
        guard.revoke_token()
        return jsonify(ok=True)

    @app.get("/unchecked")
    @guard.jwt_required(skip_revocation_check=True)
    def unchecked() -> Any:
        return jsonify(ok=True)

    @app.post("/logout_everywhere")
    @guard.jwt_required()
    def logout_everywhere() -> Any:
        guard.revoke_all_tokens(guard.get_jwt_identity())
        return jsonify(ok=True)


def session_app(store: Any, **config: Any) -> Env:
    return make_app(guard, {"JWT_REVOCATION_STORE": store, **config}, routes=session_routes)


def login(env: Env) -> dict[str, str]:
    response = env.client.post("/login")
    assert response.status_code == 200
    tokens: dict[str, str] = response.get_json()
    return tokens


def call(env: Env, token: str, path: str = "/protected", method: str = "GET") -> tuple[int, Any]:
    response = env.client.open(path, method=method, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json()


REVOKED = (401, {"msg": "Token has been revoked"})


# --------------------------------------------------------------------------- sessions


def test_one_login_is_one_session_and_refresh_continues_it(memory_store: MemoryStore) -> None:
    env = session_app(memory_store)
    first, second = login(env), login(env)
    sid = env.decode(first["access"])["sid"]
    assert env.decode(first["refresh"])["sid"] == sid
    assert env.decode(second["access"])["sid"] != sid
    status, renewed = call(env, first["refresh"], "/refresh", "POST")
    assert status == 200
    assert env.decode(renewed["access"])["sid"] == sid == env.decode(renewed["refresh"])["sid"]


def test_every_token_carries_a_session_even_without_a_store() -> None:
    env = make_app(guard, routes=session_routes)
    assert isinstance(env.decode(login(env)["access"])["sid"], str)


def test_decode_token_is_a_pure_decode(memory_store: MemoryStore) -> None:
    env = session_app(memory_store, JWT_REFRESH_TOKEN_ROTATION=True)
    tokens = login(env)
    assert call(env, tokens["access"], "/logout", "POST")[0] == 200
    # Neither the revocation nor a decode consumes or checks anything.
    assert env.decode(tokens["refresh"])["type"] == "refresh"
    assert env.decode(tokens["refresh"])["type"] == "refresh"


# --------------------------------------------------------------------------- revoking


def test_revoke_token_ends_only_that_token(store: Any) -> None:
    env = session_app(store)
    tokens = login(env)
    assert call(env, tokens["access"], "/logout_token", "POST")[0] == 200
    assert call(env, tokens["access"]) == REVOKED
    assert call(env, tokens["refresh"], "/refresh", "POST")[0] == 200


def test_revoke_session_ends_access_and_refresh_of_that_session_only(store: Any) -> None:
    env = session_app(store)
    mine, other = login(env), login(env)
    assert call(env, mine["access"], "/logout", "POST")[0] == 200
    assert call(env, mine["access"]) == REVOKED
    assert call(env, mine["refresh"], "/refresh", "POST") == REVOKED
    assert call(env, other["access"])[0] == 200


def test_revoke_session_also_ends_tokens_refreshed_from_it(store: Any) -> None:
    env = session_app(store)
    tokens = login(env)
    renewed = call(env, tokens["refresh"], "/refresh", "POST")[1]
    assert call(env, tokens["access"], "/logout", "POST")[0] == 200
    assert call(env, renewed["access"]) == REVOKED


def test_revoke_all_tokens_ends_every_session_and_later_logins_work(store: Any) -> None:
    env = session_app(store)
    clock = MovableClock(env.app.extensions["jwt_guard"].clock())
    env.app.extensions["jwt_guard"].clock = clock  # the clock stands still: no timestamps to lean on
    first, second = login(env), login(env)
    assert call(env, first["access"], "/logout_everywhere", "POST")[0] == 200
    for token in (first["access"], second["access"]):
        assert call(env, token) == REVOKED
    assert call(env, second["refresh"], "/refresh", "POST") == REVOKED
    fresh = login(env)
    assert call(env, fresh["access"])[0] == 200
    assert call(env, fresh["refresh"], "/refresh", "POST")[0] == 200


def test_revoke_all_tokens_leaves_other_identities_alone(memory_store: MemoryStore) -> None:
    env = session_app(memory_store)
    with env.app.app_context():
        bob = guard.create_access_token("bob")
        guard.revoke_all_tokens("alice")
    assert call(env, bob)[0] == 200


def test_revoking_a_forged_token_is_refused(memory_store: MemoryStore) -> None:
    env = session_app(memory_store)
    tokens = login(env)
    forged = tokens["access"][:-4] + ("AAAA" if not tokens["access"].endswith("AAAA") else "BBBB")
    with env.app.app_context(), pytest.raises(guard.exceptions.JWTExtendedException):
        guard.revoke_session(forged)
    assert call(env, tokens["access"])[0] == 200


def test_store_and_blocklist_loader_both_apply(memory_store: MemoryStore) -> None:
    blocked: set[str] = set()

    def setup(jwt: Any) -> None:
        jwt.token_in_blocklist_loader(lambda header, claims: claims["jti"] in blocked)

    env = make_app(guard, {"JWT_REVOCATION_STORE": memory_store}, routes=session_routes, setup=setup)
    first, second = login(env), login(env)
    blocked.add(env.decode(first["access"])["jti"])
    assert call(env, first["access"]) == REVOKED
    assert call(env, second["access"], "/logout", "POST")[0] == 200
    assert call(env, second["access"]) == REVOKED


def test_revoking_needs_a_store() -> None:
    env = make_app(guard, routes=session_routes)
    tokens = login(env)
    with env.app.app_context(), pytest.raises(ConfigurationError, match="JWT_REVOCATION_STORE"):
        guard.revoke_session(tokens["access"])


def test_memory_url_and_rotation_without_store() -> None:
    env = session_app("memory")
    tokens = login(env)
    assert call(env, tokens["access"], "/logout", "POST")[0] == 200
    assert call(env, tokens["access"]) == REVOKED
    with pytest.raises(ConfigurationError, match="JWT_REFRESH_TOKEN_ROTATION"):
        make_app(guard, {"JWT_REFRESH_TOKEN_ROTATION": True})


def test_revocation_lives_as_long_as_the_token(memory_store: MemoryStore) -> None:
    env = session_app(memory_store, JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=5))
    tokens = login(env)
    assert call(env, tokens["access"], "/logout_token", "POST")[0] == 200
    ((value, expires),) = memory_store._values.values()  # noqa: SLF001 - the TTL is the point
    remaining = expires - memory_store.clock()
    assert 290 < remaining <= 301


# --------------------------------------------------------------------------- rotation


def test_rotation_refresh_token_works_once_and_reuse_ends_the_session(store: Any) -> None:
    env = session_app(store, JWT_REFRESH_TOKEN_ROTATION=True)
    tokens = login(env)
    status, renewed = call(env, tokens["refresh"], "/refresh", "POST")
    assert status == 200
    assert call(env, renewed["access"])[0] == 200
    # The old refresh token again: theft. The whole session ends, the new tokens with it.
    assert call(env, tokens["refresh"], "/refresh", "POST") == REVOKED
    assert call(env, renewed["access"]) == REVOKED
    assert call(env, renewed["refresh"], "/refresh", "POST") == REVOKED
    assert call(env, tokens["access"]) == REVOKED


def test_rotation_concurrent_refreshes_exactly_one_succeeds(store: Any) -> None:
    env = session_app(store, JWT_REFRESH_TOKEN_ROTATION=True)
    refresh = login(env)["refresh"]
    start = threading.Barrier(50)
    statuses: list[int] = []

    def attempt() -> None:
        client = env.app.test_client()
        start.wait()
        response = client.post("/refresh", headers={"Authorization": f"Bearer {refresh}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200] + [401] * 49


# --------------------------------------------------------------------------- implicit refresh


@pytest.fixture
def cookie_client(memory_store: MemoryStore) -> Iterator[tuple[JWTTestClient, FrozenClock, Env]]:
    """Alice logged in with cookies (the library's test client), on a clock the test moves."""
    env = session_app(
        memory_store,
        JWT_TOKEN_LOCATION=["cookies", "headers"],
        JWT_IMPLICIT_REFRESH=timedelta(minutes=5),
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=15),
    )
    env.app.test_client_class = JWTTestClient
    client = env.app.test_client()
    assert isinstance(client, JWTTestClient)
    with frozen_time(env.app) as clock:
        client.login_as("alice", location="cookies")
        yield client, clock, env


def access_cookie(client: Any) -> str | None:
    cookie = client.get_cookie("access_token_cookie")
    return cookie.value if cookie is not None else None


def test_implicit_refresh_renews_a_cookie_near_expiry_in_the_same_session(
    cookie_client: tuple[JWTTestClient, FrozenClock, Env],
) -> None:
    client, clock, env = cookie_client
    before = access_cookie(client)
    assert before is not None
    assert client.get("/protected").status_code == 200
    assert access_cookie(client) == before  # 15 minutes left: nothing to do
    clock.advance(timedelta(minutes=11))
    assert client.get("/protected").status_code == 200
    after = access_cookie(client)
    assert after is not None and after != before
    old, new = env.decode(before, allow_expired=True), env.decode(after)
    assert new["sid"] == old["sid"] and new["sub"] == "alice"
    assert new["exp"] == int(clock()) + 15 * 60
    csrf = client.get_cookie("csrf_access_token")
    assert csrf is not None and csrf.value == new["csrf"]


def test_implicit_refresh_never_after_logout_or_on_errors(
    cookie_client: tuple[JWTTestClient, FrozenClock, Env],
) -> None:
    client, clock, _ = cookie_client
    before = access_cookie(client)
    clock.advance(timedelta(minutes=11))
    assert client.post("/logout").status_code == 200  # the CSRF header is the client's business
    assert access_cookie(client) == before  # the revoked session is not resurrected
    assert client.get("/protected").get_json() == REVOKED[1]
    assert access_cookie(client) == before  # nor on the error response


def test_implicit_refresh_off_by_default(memory_store: MemoryStore) -> None:
    env = session_app(memory_store, JWT_TOKEN_LOCATION=["cookies"])
    client = JWTTestClient(env.app, env.app.response_class)
    with frozen_time(env.app) as clock:
        client.login_as("alice", location="cookies")
        before = access_cookie(client)
        clock.advance(timedelta(minutes=14))
        assert client.get("/protected").status_code == 200
        assert access_cookie(client) == before


# --------------------------------------------------------------------------- outages


class BrokenStore:
    """A store that cannot be reached (until ``up`` is set)."""

    def __init__(self) -> None:
        self.up = False
        self.inner = MemoryStore()

    def lookup(self, keys: Any, consume: Any = None) -> Any:
        if not self.up:
            raise ConnectionError("connection refused")
        return self.inner.lookup(keys, consume)

    def put(self, key: str, value: str, ttl: float | None) -> None:
        if not self.up:
            raise ConnectionError("connection refused")
        self.inner.put(key, value, ttl)


@pytest.mark.parametrize("fail_open", [False, True])
def test_store_down_is_503_or_fail_open_logged_once_then_recovers(
    fail_open: bool, caplog: pytest.LogCaptureFixture
) -> None:
    broken = BrokenStore()
    broken.up = True
    env = session_app(broken, JWT_REVOCATION_FAIL_OPEN=fail_open)
    tokens = login(env)
    broken.up = False
    caplog.set_level(logging.WARNING, logger="flask_jwt_guard")
    for _ in range(5):
        status, body = call(env, tokens["access"])
        if fail_open:
            assert status == 200
        else:
            assert (status, body) == (503, {"msg": "Revocation store unavailable"})
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    broken.up = True
    assert call(env, tokens["access"])[0] == 200
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING"]


def test_revoking_while_the_store_is_down_is_never_silent(caplog: pytest.LogCaptureFixture) -> None:
    broken = BrokenStore()
    broken.up = True
    env = session_app(broken, JWT_REVOCATION_FAIL_OPEN=True)
    tokens = login(env)
    broken.up = False
    assert call(env, tokens["access"], "/logout", "POST") == (503, {"msg": "Revocation store unavailable"})


# --------------------------------------------------------------------------- review regressions


def foreign_token(env: Env, clock: MovableClock | None = None, **claims: Any) -> str:
    """A token as another issuer makes it: no jti, no sid, no gen (signed with our secret)."""
    from flask_jwt_guard import tokens
    from flask_jwt_guard.keys import Key
    from tests.helpers import SECRET

    now = int(clock.now if clock else env.app.extensions["jwt_guard"].clock())
    return tokens.encode({"sub": "alice", "iat": now, "exp": now + 600, **claims}, Key(SECRET), "HS256")


def test_implicit_refresh_never_renews_on_a_route_that_skips_revocation(
    cookie_client: tuple[JWTTestClient, FrozenClock, Env],
) -> None:
    client, clock, env = cookie_client
    before = access_cookie(client)
    assert before is not None
    with env.app.app_context():
        guard.revoke_token(before)
    clock.advance(timedelta(minutes=11))
    assert client.get("/unchecked").status_code == 200
    assert access_cookie(client) == before  # not renewed into a token that would pass the check
    assert client.get("/protected").get_json() == REVOKED[1]


def test_tokens_may_not_outlive_the_revocations_that_cover_them(memory_store: MemoryStore) -> None:
    env = session_app(memory_store)
    with env.app.app_context():
        for lifetime in (timedelta(days=31), False):
            with pytest.raises(guard.exceptions.TokenCreationError, match="JWT_REVOCATION_STORE"):
                guard.create_refresh_token("alice", expires_delta=lifetime)
        assert guard.create_refresh_token("alice", expires_delta=timedelta(days=30))


def test_revoke_all_tokens_takes_the_identity_claim_with_a_user_identity_loader(
    memory_store: MemoryStore,
) -> None:
    class User:
        id = "alice"

    def setup(jwt: Any) -> None:
        jwt.user_identity_loader(lambda user: user.id)

    env = make_app(guard, {"JWT_REVOCATION_STORE": memory_store}, routes=False, setup=setup)

    @env.app.post("/everywhere")
    @guard.jwt_required()
    def everywhere() -> Any:
        guard.revoke_all_tokens(guard.get_jwt_identity())  # the documented call: no 500
        return jsonify(ok=True)

    with env.app.app_context():
        token, other = guard.create_access_token(User()), guard.create_access_token(User())
    assert call(env, token, "/everywhere", "POST")[0] == 200
    assert call(env, other, "/everywhere", "POST") == REVOKED
    with env.app.app_context():
        guard.revoke_all_tokens(User())  # a user object goes through the loader, as when creating


def test_tokens_without_jti_or_generation_can_be_revoked(memory_store: MemoryStore) -> None:
    env = session_app(memory_store)
    clock = MovableClock(env.app.extensions["jwt_guard"].clock())
    env.app.extensions["jwt_guard"].clock = clock
    first, second = foreign_token(env, clock), foreign_token(env, clock, scope="b")
    with env.app.app_context():
        guard.revoke_token(first)  # no jti: kept under a digest of its claims
    assert call(env, first) == REVOKED
    assert call(env, second)[0] == 200
    with env.app.app_context():
        guard.revoke_all_tokens("alice")
    assert call(env, second) == REVOKED  # issued before: refused by its iat
    clock.now += 1
    assert call(env, foreign_token(env, clock))[0] == 200  # issued after: a later login works
