"""Regressions found in review, each pinned on both libraries where they agree."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify

from flask_jwt_guard.exceptions import ConfigurationError
from tests.helpers import GUARD, SECRET, make_app


def protected_route(app: Flask, lib: ModuleType) -> None:
    """``routes`` for make_app: ``/p`` (GET, POST) answers with the identity."""

    @app.route("/p", methods=["GET", "POST"])
    @lib.jwt_required()
    def protected() -> Any:
        return jsonify(id=lib.get_jwt_identity())


def mint(app: Flask, lib: ModuleType, identity: str = "u", **kwargs: Any) -> str:
    with app.test_request_context():
        token: str = lib.create_access_token(identity, **kwargs)
    return token


def test_editing_csrf_methods_in_one_app_leaves_another_alone(lib: ModuleType) -> None:
    a = make_app(lib, {"JWT_TOKEN_LOCATION": ["cookies"]}, routes=protected_route).app
    b = make_app(lib, {"JWT_TOKEN_LOCATION": ["cookies"]}, routes=protected_route).app
    a.config["JWT_CSRF_METHODS"].remove("POST")
    client = b.test_client()
    client.set_cookie("access_token_cookie", mint(b, lib))
    response = client.post("/p")
    assert response.status_code == 401
    assert response.get_json() == {"msg": "Missing CSRF token"}


def test_additional_loaders_may_return_none(lib: ModuleType) -> None:
    env = make_app(lib, routes=protected_route)
    app, manager = env.app, env.jwt
    manager.additional_claims_loader(lambda identity: {"admin": True} if identity == "root" else None)
    manager.additional_headers_loader(lambda identity: None)
    token = mint(app, lib, "bob")
    response = app.test_client().get("/p", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json() == {"id": "bob"}


class Months:
    """A lifetime that is not a timedelta but adds to a datetime, like dateutil's relativedelta."""

    def __init__(self, months: int) -> None:
        self.months = months

    def __add__(self, other: datetime) -> datetime:
        return other + timedelta(days=30 * self.months)

    __radd__ = __add__


def test_lifetimes_that_add_to_a_datetime_are_accepted(lib: ModuleType) -> None:
    app = make_app(lib, {"JWT_ACCESS_TOKEN_EXPIRES": Months(1)}, routes=protected_route).app
    token = mint(app, lib)
    with app.test_request_context():
        claims = lib.decode_token(token)
    assert claims["exp"] - claims["iat"] == pytest.approx(30 * 24 * 3600, abs=2)
    token = mint(app, lib, expires_delta=Months(2))
    with app.test_request_context():
        claims = lib.decode_token(token)
    assert claims["exp"] - claims["iat"] == pytest.approx(60 * 24 * 3600, abs=2)


def test_expired_cookie_with_a_wrong_csrf_value_is_a_csrf_failure(lib: ModuleType) -> None:
    env = make_app(lib, {"JWT_TOKEN_LOCATION": ["cookies"]}, routes=protected_route)
    app, manager = env.app, env.jwt
    called: list[str] = []

    @manager.expired_token_loader
    def expired(header: dict[str, Any], data: dict[str, Any]) -> Any:
        called.append(data["sub"])
        return jsonify(msg="expired; refresh"), 401

    client = app.test_client()
    client.set_cookie("access_token_cookie", mint(app, lib, expires_delta=timedelta(seconds=-60)))
    response = client.post("/p", headers={"X-CSRF-TOKEN": "forged"})
    assert response.status_code == 401
    assert response.get_json() == {"msg": "CSRF double submit tokens do not match"}
    assert called == []


def test_expired_cookie_with_the_right_csrf_value_is_expired(lib: ModuleType) -> None:
    app = make_app(lib, {"JWT_TOKEN_LOCATION": ["cookies"]}, routes=protected_route).app
    token = mint(app, lib, expires_delta=timedelta(seconds=-60))
    with app.test_request_context():
        csrf = lib.decode_token(token, allow_expired=True)["csrf"]
    client = app.test_client()
    client.set_cookie("access_token_cookie", token)
    response = client.post("/p", headers={"X-CSRF-TOKEN": csrf})
    assert response.status_code == 401
    assert response.get_json() == {"msg": "Token has expired"}


def test_error_handler_can_be_registered_on_another_object(lib: ModuleType) -> None:
    env = make_app(lib, routes=protected_route)
    app, manager = env.app, env.jwt
    blueprint = Blueprint("api", __name__)

    @blueprint.get("/bp")
    @lib.jwt_required()
    def bp() -> Any:
        return jsonify(ok=True)

    manager._set_error_handler_callbacks(blueprint)
    app.register_blueprint(blueprint)
    response = app.test_client().get("/bp")
    assert response.status_code == 401
    assert response.get_json() == {"msg": "Missing Authorization Header"}


# Flask-JWT-Guard only: the peer answers these with a 500 or keeps stale settings.


def test_unknown_kid_from_decode_key_loader_is_422_not_500() -> None:
    env = make_app(GUARD, routes=protected_route)
    app, manager = env.app, env.jwt
    keys = {"k1": SECRET}
    manager.decode_key_loader(lambda header, data: keys.get(header.get("kid")))
    token = mint(app, GUARD, additional_headers={"kid": "k2"})
    response = app.test_client().get("/p", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    good = mint(app, GUARD, additional_headers={"kid": "k1"})
    assert app.test_client().get("/p", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_changing_expiry_from_false_to_zero_is_noticed() -> None:
    app = make_app(GUARD, {"JWT_ACCESS_TOKEN_EXPIRES": False}, routes=protected_route).app
    with app.test_request_context():
        assert "exp" not in GUARD.decode_token(mint(app, GUARD))
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = 0
    token = mint(app, GUARD)
    response = app.test_client().get("/p", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json() == {"msg": "Token has expired"}


@pytest.mark.parametrize("leeway", [math.nan, math.inf, -1])
def test_non_finite_or_negative_leeway_is_refused(leeway: float) -> None:
    with pytest.raises(ConfigurationError, match="JWT_DECODE_LEEWAY"):
        make_app(GUARD, {"JWT_DECODE_LEEWAY": leeway}, routes=False)


def test_a_token_older_than_a_year_is_expired_whatever_the_clock() -> None:
    app = make_app(GUARD, routes=protected_route).app
    long_ago = datetime.now(UTC) - timedelta(days=400)
    token = mint(app, GUARD, additional_claims={"exp": long_ago, "iat": long_ago, "nbf": long_ago})
    response = app.test_client().get("/p", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
