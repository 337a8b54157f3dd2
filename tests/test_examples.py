"""examples/locations.py through Flask's test client.

The example is also run with its import switched to flask_jwt_extended (the
one-line migration the project promises) and both answers are compared.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import GUARD, LIBS

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "locations.py"
USER = "example_user"
ALL_MISSING = (
    "Missing JWT in headers, cookies, json or query_string (Missing Authorization Header; "
    'Missing cookie "access_token_cookie"; Invalid content-type. Must be application/json.; '
    "Missing 'jwt' query paramater)"
)


def load_example(lib: types.ModuleType) -> types.ModuleType:
    """examples/locations.py, its import switched to ``lib``."""
    library = lib.__name__
    source = EXAMPLE.read_text()
    assert "from flask_jwt_guard import" in source
    if library != "flask_jwt_guard":
        source = source.replace("from flask_jwt_guard import", f"from {library} import")
    module = types.ModuleType(f"example_locations_{library}")
    module.__file__ = str(EXAMPLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the module-level app is built without TESTING
        exec(compile(source, str(EXAMPLE), "exec"), module.__dict__)
    return module


@pytest.fixture
def client(lib: types.ModuleType) -> FlaskClient:
    if not EXAMPLE.exists():
        pytest.fail(f"{EXAMPLE} is missing")
    app: Flask = load_example(lib).create_app({"TESTING": True})
    return app.test_client()


def login(client: FlaskClient) -> str:
    resp = client.post("/login_without_cookies")
    assert resp.status_code == 200
    token = resp.get_json()["access_token"]
    assert isinstance(token, str) and token.count(".") == 2
    return str(token)


def test_module_level_app_exists() -> None:
    module = load_example(GUARD)
    assert isinstance(module.app, Flask)
    assert list(module.app.config["JWT_TOKEN_LOCATION"]) == ["headers", "cookies", "json", "query_string"]


def test_headers(client: FlaskClient) -> None:
    token = login(client)
    resp = client.get("/protected", headers={"Authorization": f"Bearer {token}"})
    assert (resp.status_code, resp.get_json()) == (200, {"foo": "bar", "user": USER, "location": "headers"})


def test_query_string(client: FlaskClient) -> None:
    token = login(client)
    resp = client.get("/protected", query_string={"jwt": token})
    assert resp.get_json() == {"foo": "bar", "user": USER, "location": "query_string"}


def test_json_body(client: FlaskClient) -> None:
    token = login(client)
    resp = client.post("/protected", json={"access_token": token})
    assert resp.get_json() == {"foo": "bar", "user": USER, "location": "json"}


def test_cookies_with_csrf(client: FlaskClient) -> None:
    resp = client.post("/login_with_cookies")
    assert resp.get_json() == {"msg": "login successful"}
    names = sorted(h.split("=", 1)[0] for h in resp.headers.getlist("Set-Cookie"))
    assert names == ["access_token_cookie", "csrf_access_token"]
    assert client.get("/protected").get_json() == {"foo": "bar", "user": USER, "location": "cookies"}
    resp = client.post("/protected")
    assert (resp.status_code, resp.get_json()) == (401, {"msg": "Missing CSRF token"})
    resp = client.post("/protected", headers={"X-CSRF-TOKEN": "forged"})
    assert (resp.status_code, resp.get_json()) == (401, {"msg": "CSRF double submit tokens do not match"})
    csrf = client.get_cookie("csrf_access_token")
    assert csrf is not None
    resp = client.post("/protected", headers={"X-CSRF-TOKEN": csrf.value})
    assert (resp.status_code, resp.get_json()["location"]) == (200, "cookies")


def test_logout(client: FlaskClient) -> None:
    client.post("/login_with_cookies")
    resp = client.post("/logout_with_cookies")
    assert resp.get_json() == {"msg": "logout successful"}
    assert client.get_cookie("access_token_cookie") is None
    assert client.get_cookie("csrf_access_token") is None
    resp = client.get("/protected")
    assert (resp.status_code, resp.get_json()) == (401, {"msg": ALL_MISSING})


def test_only_headers(client: FlaskClient) -> None:
    token = login(client)
    resp = client.get("/only_headers", headers={"Authorization": f"Bearer {token}"})
    assert resp.get_json() == {"foo": "baz", "user": USER}
    for kwargs in ({"query_string": {"jwt": token}}, {"json": {"access_token": token}}):
        resp = client.get("/only_headers", **kwargs)
        assert (resp.status_code, resp.get_json()) == (401, {"msg": "Missing Authorization Header"})
    client.post("/login_with_cookies")
    resp = client.get("/only_headers")
    assert (resp.status_code, resp.get_json()) == (401, {"msg": "Missing Authorization Header"})


def test_no_token_anywhere(client: FlaskClient) -> None:
    resp = client.get("/protected")
    assert (resp.status_code, resp.get_json()) == (401, {"msg": ALL_MISSING})


def test_login_routes_are_post_only(client: FlaskClient) -> None:
    assert client.get("/login_without_cookies").status_code == 405
    assert client.get("/login_with_cookies").status_code == 405


def _transcript(client: FlaskClient) -> list[Any]:
    out: list[Any] = []

    def record(resp: Any) -> None:
        body = resp.get_json(silent=True)
        if isinstance(body, dict) and "access_token" in body:
            body = {**body, "access_token": "<token>"}
        cookies = sorted(h.split("=", 1)[0] for h in resp.headers.getlist("Set-Cookie"))
        out.append((resp.status_code, body, cookies))

    token = client.post("/login_without_cookies").get_json()["access_token"]
    requests: list[Callable[[], Any]] = [
        lambda: client.get("/protected"),
        lambda: client.get("/protected", headers={"Authorization": f"Bearer {token}"}),
        lambda: client.get("/protected", headers={"Authorization": "Bearer x.y.z"}),
        lambda: client.get("/protected", query_string={"jwt": token}),
        lambda: client.post("/protected", json={"access_token": token}),
        lambda: client.post("/protected", data="{oops", content_type="application/json"),
        lambda: client.get("/only_headers", query_string={"jwt": token}),
        lambda: client.post("/login_with_cookies"),
        lambda: client.get("/protected"),
        lambda: client.post("/protected"),
        lambda: client.post("/protected", headers={"X-CSRF-TOKEN": "nope"}),
        lambda: client.post("/logout_with_cookies"),
        lambda: client.post("/protected"),
    ]
    for send in requests:
        record(send())
    return out


def test_example_differential() -> None:
    transcripts = {
        lib.__name__: _transcript(load_example(lib).create_app({"TESTING": True}).test_client())
        for lib in LIBS
    }
    expected = transcripts[LIBS[-1].__name__]  # the peer's, when both libraries run
    for name, transcript in transcripts.items():
        assert transcript == expected, name
