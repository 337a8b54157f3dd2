"""Configuration that silently disables a check (second review round, family 3).

A value that Python finds falsy or truthy by accident must not switch a check
off: ``JWT_DECODE_ISSUER = ""`` is not "no issuer check", ``JWT_CSRF_METHODS = []``
is not "no CSRF", ``JWT_COOKIE_CSRF_PROTECT = "false"`` is not a bool, and
``JWT_DECODE_ALGORITHMS = []`` is not a smaller allow-list.  Each such value raises
:class:`flask_jwt_guard.exceptions.ConfigurationError` naming the key, from
``JWTManager(app)`` / ``init_app``; set after ``init_app``, it surfaces on the next
use (a 500 is acceptable for a server misconfiguration), and no request is ever
accepted with the check switched off.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, jsonify

from flask_jwt_guard.exceptions import ConfigurationError
from tests.helpers import GUARD, SECRET, make_app

from .forge import IS_REFERENCE, csrf_of, hs_sign, unverified_payload

pytestmark = pytest.mark.skipif(IS_REFERENCE, reason="flask_jwt_guard's configuration validation")

# (key, weakening value): each must be refused with ConfigurationError naming the key.
WEAKENING: list[tuple[str, Any]] = [
    # an empty issuer/audience would mean "not checked"
    ("JWT_DECODE_ISSUER", ""),
    ("JWT_DECODE_ISSUER", []),
    ("JWT_DECODE_ISSUER", ()),
    ("JWT_DECODE_AUDIENCE", ""),
    ("JWT_DECODE_AUDIENCE", []),
    ("JWT_DECODE_AUDIENCE", ()),
    # a bool where a number is expected
    ("JWT_DECODE_LEEWAY", True),
    ("JWT_DECODE_LEEWAY", False),
    ("JWT_MAX_TOKEN_SIZE", True),
    ("JWT_MAX_TOKEN_SIZE", False),
    # a string where a bool is expected ("false" is truthy)
    ("JWT_COOKIE_CSRF_PROTECT", "false"),
    ("JWT_COOKIE_CSRF_PROTECT", ""),
    ("JWT_VERIFY_SUB", "no"),
    ("JWT_COOKIE_SECURE", "False"),
    ("JWT_CSRF_CHECK_FORM", "0"),
    ("JWT_CSRF_IN_COOKIES", "false"),
    ("JWT_SESSION_COOKIE", "false"),
    ("JWT_ENCODE_NBF", "false"),
    ("JWT_STRICT", "yes"),
    # no method, or methods that can never match, would mean "no CSRF check"
    ("JWT_CSRF_METHODS", []),
    ("JWT_CSRF_METHODS", ()),
    ("JWT_CSRF_METHODS", [1]),
    ("JWT_CSRF_METHODS", ["POST", None]),
    ("JWT_CSRF_METHODS", [b"POST"]),
    ("JWT_TOKEN_LOCATION", []),
    # an empty allow-list must not silently mean something else
    ("JWT_DECODE_ALGORITHMS", []),
    ("JWT_DECODE_ALGORITHMS", ()),
    ("JWT_DECODE_ALGORITHMS", ""),
    ("JWT_ALGORITHM", "none"),
    ("JWT_ALGORITHM", ""),
    # lifetimes: born expired, or a bool that is not False ("never")
    ("JWT_ACCESS_TOKEN_EXPIRES", True),
    ("JWT_ACCESS_TOKEN_EXPIRES", -5),
    ("JWT_ACCESS_TOKEN_EXPIRES", timedelta(seconds=-1)),
    ("JWT_REFRESH_TOKEN_EXPIRES", True),
    ("JWT_REFRESH_TOKEN_EXPIRES", -5),
    ("JWT_REFRESH_TOKEN_EXPIRES", timedelta(seconds=-1)),
    ("JWT_ENCODE_AUDIENCE", []),
]
# Values that are not weakening but malformed, and once escaped as a TypeError or an
# OverflowError (a 500 on every request when set after init_app) instead of naming the key.
MALFORMED: list[tuple[str, Any]] = [
    ("JWT_ALGORITHM", []),
    ("JWT_ALGORITHM", {}),
    ("JWT_DECODE_ALGORITHMS", [[]]),
    ("JWT_DECODE_ALGORITHMS", [{}]),
    ("JWT_ACCESS_TOKEN_EXPIRES", 10**400),
    ("JWT_REFRESH_TOKEN_EXPIRES", 10**400),
    ("JWT_DECODE_LEEWAY", 10**400),
]
CASES = WEAKENING + MALFORMED


def _id(key: str, value: Any) -> str:
    text = repr(value)
    return f"{key}={text if len(text) <= 40 else f'{type(value).__name__}({len(text)} chars)'}"


IDS = [_id(key, value) for key, value in CASES]

ISSUER, AUDIENCE = "https://issuer.example", "api://orders"
# Every check of the table switched on, so that switching one off would show.
SOUND = {
    "JWT_TOKEN_LOCATION": ["headers", "cookies"],
    "JWT_DECODE_ISSUER": ISSUER,
    "JWT_ENCODE_ISSUER": ISSUER,
    "JWT_DECODE_AUDIENCE": AUDIENCE,
    "JWT_ENCODE_AUDIENCE": AUDIENCE,
    "JWT_DECODE_ALGORITHMS": ["HS256"],
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_CSRF_METHODS": ["POST", "PUT", "PATCH", "DELETE"],
}


def _routes(app: Flask, lib: Any) -> None:
    @app.route("/protected", methods=["GET", "POST"])
    @lib.jwt_required()
    def protected() -> Any:
        return jsonify(identity=lib.get_jwt_identity())


def _init_app(config: dict[str, Any]) -> Any:
    return make_app(GUARD, config, routes=_routes)


def _constructor(config: dict[str, Any]) -> Any:
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET, **config)
    return GUARD.JWTManager(app)


STYLES = {"init_app": _init_app, "JWTManager(app)": _constructor}


@pytest.mark.parametrize("style", list(STYLES))
@pytest.mark.parametrize(("key", "value"), CASES, ids=IDS)
def test_refused_at_init(key: str, value: Any, style: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        STYLES[style]({**SOUND, key: value})
    assert key in str(info.value), f"the error does not name {key}: {info.value}"


def _outcome(env: Any, **kwargs: Any) -> Any:
    """The response status, or the ConfigurationError the request raised (TESTING propagates it).

    Without a cookie jar: a jar would replace the raw ``HTTP_COOKIE`` of the environ.
    """
    try:
        return env.app.test_client(use_cookies=False).post("/protected", **kwargs).status_code
    except ConfigurationError as err:
        return err


@pytest.mark.parametrize(("key", "value"), CASES, ids=IDS)
def test_set_after_init_is_refused_on_next_use(key: str, value: Any) -> None:
    env = _init_app(dict(SOUND))
    token = env.access_token("alice")
    request = {
        "environ_overrides": {
            "HTTP_COOKIE": f"access_token_cookie={token}",
            "HTTP_X_CSRF_TOKEN": csrf_of(token),
        }
    }
    assert _outcome(env, **request) == 200  # control: the sound app accepts it
    env.app.config[key] = value
    outcome = _outcome(env, **request)
    assert outcome != 200, f"{key}={value!r} set after init_app: the request was accepted"
    if isinstance(outcome, ConfigurationError):
        assert key in str(outcome), f"the error does not name {key}: {outcome}"
    else:
        assert outcome == 500, f"{key}={value!r} set after init_app: answered {outcome}"


# The check that each weakening would switch off, seen from a request: with the
# value honoured literally the request would pass; it must not.
SWITCHED_OFF: dict[str, tuple[str, Any, str]] = {
    "issuer": ("JWT_DECODE_ISSUER", "", "no-iss"),
    "audience": ("JWT_DECODE_AUDIENCE", "", "no-aud"),
    "csrf-methods": ("JWT_CSRF_METHODS", [], "no-csrf-header"),
    "csrf-methods-bytes": ("JWT_CSRF_METHODS", [b"POST"], "no-csrf-header"),
    "csrf-protect-string": ("JWT_COOKIE_CSRF_PROTECT", "", "no-csrf-header"),
    "verify-sub-string": ("JWT_VERIFY_SUB", "", "int-sub"),
}


@pytest.mark.parametrize("case", list(SWITCHED_OFF))
def test_no_request_accepted_with_the_check_switched_off(case: str) -> None:
    key, value, attack = SWITCHED_OFF[case]
    env = _init_app(dict(SOUND))
    claims = unverified_payload(env.access_token("alice"))
    if attack == "no-iss":
        del claims["iss"]
    elif attack == "no-aud":
        del claims["aud"]
    elif attack == "int-sub":
        claims["sub"] = 1
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, claims, SECRET)
    environ = {"HTTP_COOKIE": f"access_token_cookie={token}"}
    if attack != "no-csrf-header":
        environ["HTTP_X_CSRF_TOKEN"] = csrf_of(token)
    assert _outcome(env, environ_overrides=environ) != 200  # control: refused when sound
    env.app.config[key] = value
    assert _outcome(env, environ_overrides=environ) != 200


@pytest.mark.parametrize(
    ("jwt_secret", "flask_secret"),
    [("", None), (None, None), (b"", None), ("", "")],
    ids=["empty-str", "none", "empty-bytes", "both-empty"],
)
def test_empty_secret_never_signs_or_verifies(jwt_secret: Any, flask_secret: Any) -> None:
    """No secret: an error at init or when a token is made/checked; never an unsigned token."""
    config = {"JWT_SECRET_KEY": jwt_secret, "SECRET_KEY": flask_secret}
    try:
        env = _init_app(config)
    except ConfigurationError as err:
        assert "JWT_SECRET_KEY" in str(err)
        return
    with pytest.raises(ConfigurationError) as info:
        env.access_token("alice")
    assert "JWT_SECRET_KEY" in str(info.value)
    claims = {"sub": "mallory", "type": "access", "fresh": False, "jti": "x"}
    for token in (
        hs_sign({"alg": "HS256", "typ": "JWT"}, claims, b""),
        hs_sign({"alg": "none", "typ": "JWT"}, claims, b"").rsplit(".", 1)[0] + ".",
    ):
        outcome = _outcome(env, headers={"Authorization": f"Bearer {token}"})
        assert outcome != 200, "a token MACed with an empty secret was accepted"
