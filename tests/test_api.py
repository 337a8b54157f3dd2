"""The public surface an app relies on when it changes its import.

Names, call signatures (parameter names, order and defaults), the exception
module, and app-level error handlers for those exceptions.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest
from flask import jsonify

from tests.helpers import PEER, Env

# The peer's public names, without its submodules (utils, tokens, ...: implementation detail).
PUBLIC = sorted(n for n in dir(PEER) if not n.startswith("_") and not inspect.ismodule(getattr(PEER, n)))
FUNCTIONS = [n for n in PUBLIC if inspect.isfunction(getattr(PEER, n))]
EXCEPTIONS = [
    "JWTExtendedException",
    "JWTDecodeError",
    "InvalidHeaderError",
    "InvalidQueryParamError",
    "NoAuthorizationError",
    "CSRFError",
    "WrongTokenError",
    "RevokedTokenError",
    "FreshTokenRequired",
    "UserLookupError",
    "UserClaimsVerificationError",
]
MANAGER_METHODS = [
    n for n in dir(PEER.JWTManager) if not n.startswith("_") and callable(getattr(PEER.JWTManager, n))
]


def _params(fn: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_reference_surface_is_known() -> None:
    # Guards the lists below against an unnoticed change of the reference.
    assert "jwt_required" in FUNCTIONS and "create_access_token" in FUNCTIONS
    assert len(FUNCTIONS) == 18
    assert sorted(set(PUBLIC) - set(FUNCTIONS)) == ["JWTManager", "current_user"]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_exists(lib: Any, name: str) -> None:
    assert hasattr(lib, name), f"{lib.__name__} lacks {name}"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_signature(lib: Any, name: str) -> None:
    assert _params(getattr(lib, name)) == _params(getattr(PEER, name))


@pytest.mark.parametrize("name", MANAGER_METHODS)
def test_manager_method_signature(lib: Any, name: str) -> None:
    ours = [p[0] for p in _params(getattr(lib.JWTManager, name))]
    theirs = [p[0] for p in _params(getattr(PEER.JWTManager, name))]
    # loader callbacks: the parameter name is not part of the contract, the count is
    assert len(ours) == len(theirs)
    if name in ("__init__", "init_app"):
        assert ours == theirs


def test_manager_constructor_signature(lib: Any) -> None:
    assert _params(lib.JWTManager.__init__) == _params(PEER.JWTManager.__init__)
    assert _params(lib.JWTManager.init_app) == _params(PEER.JWTManager.init_app)


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_exception_classes(lib: Any, name: str) -> None:
    module = importlib.import_module(f"{lib.__name__}.exceptions")
    cls = getattr(module, name)
    assert issubclass(cls, Exception)
    assert issubclass(cls, module.JWTExtendedException)


def test_current_user_is_a_proxy(lib: Any) -> None:
    from werkzeug.local import LocalProxy

    assert isinstance(lib.current_user, LocalProxy)


# --- app-level handling of the library's exceptions -------------------------------------------


def test_app_error_handler_overrides_library(differential: Callable[..., Any]) -> None:
    def scenario(env: Env) -> Any:
        exceptions = importlib.import_module(f"{env.lib.__name__}.exceptions")

        @env.app.errorhandler(exceptions.NoAuthorizationError)
        def no_auth(err: Exception) -> Any:
            return jsonify(custom=str(err)), 418

        @env.app.errorhandler(exceptions.CSRFError)
        def csrf(err: Exception) -> Any:
            return jsonify(csrf=str(err)), 419

        env.request("POST", "/login")
        out = [env.get("/only_headers"), env.request("POST", "/protected")]
        env.client.set_cookie("access_token_cookie", "garbage")
        out.append(env.get("/protected"))
        return out

    results = differential(scenario, config={"JWT_TOKEN_LOCATION": ["cookies"]})
    assert results == [
        (418, {"custom": "Missing Authorization Header"}),
        (419, {"csrf": "Missing CSRF token"}),
        (422, {"msg": "Not enough segments"}),
    ]


def test_catching_exceptions_in_a_view(differential: Callable[..., Any]) -> None:
    def scenario(env: Env) -> Any:
        lib = env.lib
        exceptions = importlib.import_module(f"{lib.__name__}.exceptions")

        @env.app.route("/soft")
        def soft() -> Any:
            try:
                lib.verify_jwt_in_request(fresh=True)
            except exceptions.NoAuthorizationError:
                return jsonify(state="anonymous")
            except exceptions.FreshTokenRequired:
                return jsonify(state="stale")
            except exceptions.WrongTokenError:
                return jsonify(state="wrong-type")
            except pyjwt.ExpiredSignatureError:
                return jsonify(state="expired")
            except pyjwt.InvalidTokenError:
                return jsonify(state="invalid")
            return jsonify(state="fresh")

        from datetime import timedelta

        return [
            env.get("/soft"),
            env.get("/soft", env.access_token()),
            env.get("/soft", env.access_token(fresh=True)),
            env.get("/soft", env.refresh_token()),
            env.get("/soft", env.access_token(expires_delta=timedelta(seconds=-5))),
            env.get("/soft", "garbage"),
        ]

    assert [r[1]["state"] for r in differential(scenario)] == [
        "anonymous",
        "stale",
        "fresh",
        "wrong-type",
        "expired",
        "invalid",
    ]
