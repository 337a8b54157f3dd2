"""JWTManager: every loader callback, the error message key, several apps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from flask import Flask, jsonify, make_response

from tests.helpers import SECRET, Env

EXPIRED = timedelta(seconds=-30)
LOADERS = [
    "additional_claims_loader",
    "additional_headers_loader",
    "decode_key_loader",
    "encode_key_loader",
    "expired_token_loader",
    "invalid_token_loader",
    "needs_fresh_token_loader",
    "revoked_token_loader",
    "token_in_blocklist_loader",
    "token_verification_failed_loader",
    "token_verification_loader",
    "unauthorized_loader",
    "user_identity_loader",
    "user_lookup_error_loader",
    "user_lookup_loader",
]


@dataclass
class Account:
    id: int
    name: str


@pytest.mark.parametrize("loader", LOADERS)
def test_loader_returns_callback(lib: Any, loader: str) -> None:
    manager = lib.JWTManager()

    def callback(*args: Any) -> Any:
        return None

    assert getattr(manager, loader)(callback) is callback


# --- token-building loaders ------------------------------------------------------------


def test_additional_claims_loader(make_env: Callable[..., Env]) -> None:
    seen: list[Any] = []

    def setup(jwt: Any) -> None:
        @jwt.additional_claims_loader
        def claims(identity: Any) -> dict[str, Any]:
            seen.append(identity)
            return {"role": "user", "org": "acme"}

    env = make_env(setup=setup)
    access = env.decode(env.access_token("alice", additional_claims={"role": "admin"}))
    refresh = env.decode(env.refresh_token("bob"))
    assert (access["role"], access["org"]) == ("admin", "acme")
    assert (refresh["role"], refresh["org"]) == ("user", "acme")
    assert seen == ["alice", "bob"]


def test_additional_headers_loader(make_env: Callable[..., Env]) -> None:
    def setup(jwt: Any) -> None:
        @jwt.additional_headers_loader
        def headers(identity: Any) -> dict[str, Any]:
            return {"kid": f"key-{identity}", "x": 1}

    env = make_env(setup=setup)
    header = pyjwt.get_unverified_header(env.access_token("alice", additional_headers={"x": 2}))
    assert header == {"alg": "HS256", "typ": "JWT", "kid": "key-alice", "x": 2}
    assert pyjwt.get_unverified_header(env.refresh_token("bob"))["kid"] == "key-bob"


def test_user_identity_loader(make_env: Callable[..., Env]) -> None:
    claim_args: list[Any] = []

    def setup(jwt: Any) -> None:
        @jwt.user_identity_loader
        def identity(account: Account) -> str:
            return str(account.id)

        @jwt.additional_claims_loader
        def claims(account: Account) -> dict[str, Any]:
            claim_args.append(account)
            return {"name": account.name}

    env = make_env(setup=setup)
    account = Account(7, "ann")
    token = env.access_token(account)
    claims = env.decode(token)
    assert (claims["sub"], claims["name"]) == ("7", "ann")
    assert claim_args == [account]
    assert env.get("/protected", token)[1]["identity"] == "7"
    assert env.decode(env.refresh_token(account))["sub"] == "7"


def test_encode_and_decode_key_loaders(make_env: Callable[..., Env]) -> None:
    keys = {"alice": "alice-key-" + "a" * 40, "bob": "bob-key-" + "b" * 40}
    decode_args: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def setup(jwt: Any) -> None:
        @jwt.encode_key_loader
        def encode_key(identity: str) -> str:
            return keys[identity]

        @jwt.additional_headers_loader
        def headers(identity: str) -> dict[str, Any]:
            return {"kid": identity}

        @jwt.decode_key_loader
        def decode_key(header: dict[str, Any], payload: dict[str, Any]) -> str:
            decode_args.append((header, payload))
            return keys[header["kid"]]

    env = make_env(setup=setup)
    token = env.access_token("bob")
    assert pyjwt.decode(token, keys["bob"], algorithms=["HS256"])["sub"] == "bob"
    assert env.get("/protected", token)[1]["identity"] == "bob"
    header, payload = decode_args[-1]
    assert header["kid"] == "bob"
    assert payload["sub"] == "bob"
    # a token whose header lies about its key fails verification
    forged = pyjwt.encode({"sub": "alice"}, keys["bob"], algorithm="HS256", headers={"kid": "alice"})
    assert env.get("/protected", forged) == (422, {"msg": "Signature verification failed"})


# --- response loaders ---------------------------------------------------------------------


def test_expired_token_loader(make_env: Callable[..., Env]) -> None:
    def setup(jwt: Any) -> None:
        @jwt.expired_token_loader
        def expired(header: dict[str, Any], data: dict[str, Any]) -> Any:
            return jsonify(code="expired", sub=data["sub"], type=data["type"], alg=header["alg"]), 419

    env = make_env(setup=setup)
    assert env.get("/protected", env.access_token("al", expires_delta=EXPIRED)) == (
        419,
        {"code": "expired", "sub": "al", "type": "access", "alg": "HS256"},
    )
    assert env.get("/refresh", env.refresh_token("al", expires_delta=EXPIRED))[1]["type"] == "refresh"


def test_invalid_token_loader(make_env: Callable[..., Env]) -> None:
    messages: list[str] = []

    def setup(jwt: Any) -> None:
        @jwt.invalid_token_loader
        def invalid(message: str) -> Any:
            messages.append(message)
            return jsonify(code="invalid"), 400

    env = make_env(setup=setup)
    bad_sig = pyjwt.encode({"sub": "x"}, "w" * 40, algorithm="HS256")
    assert env.get("/protected", bad_sig) == (400, {"code": "invalid"})
    assert env.get("/protected", env.refresh_token())[0] == 400
    assert env.request("GET", "/protected", headers={"Authorization": "Bearer a b"})[0] == 400
    assert messages == [
        "Signature verification failed",
        "Only non-refresh tokens are allowed",
        "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
    ]


def test_unauthorized_loader(make_env: Callable[..., Env]) -> None:
    messages: list[str] = []

    def setup(jwt: Any) -> None:
        @jwt.unauthorized_loader
        def unauthorized(message: str) -> Any:
            messages.append(message)
            return make_response(jsonify(code="login"), 403)

    env = make_env(setup=setup, JWT_TOKEN_LOCATION=["headers", "cookies"])
    assert env.get("/protected") == (403, {"code": "login"})
    env.request("POST", "/login")
    assert env.request("POST", "/protected") == (403, {"code": "login"})
    assert env.request("POST", "/protected", headers={"X-CSRF-TOKEN": "x"}) == (403, {"code": "login"})
    assert messages == [
        "Missing JWT in headers or cookies "
        '(Missing Authorization Header; Missing cookie "access_token_cookie")',
        "Missing CSRF token",
        "CSRF double submit tokens do not match",
    ]


def test_needs_fresh_token_loader(make_env: Callable[..., Env]) -> None:
    def setup(jwt: Any) -> None:
        @jwt.needs_fresh_token_loader
        def needs_fresh(header: dict[str, Any], data: dict[str, Any]) -> Any:
            return jsonify(code="reauth", fresh=data["fresh"]), 403

    env = make_env(setup=setup)
    assert env.get("/fresh", env.access_token()) == (403, {"code": "reauth", "fresh": False})


def test_token_in_blocklist_and_revoked_loaders(make_env: Callable[..., Env]) -> None:
    revoked_jtis: set[str] = set()
    checked: list[str] = []

    def setup(jwt: Any) -> None:
        @jwt.token_in_blocklist_loader
        def in_blocklist(header: dict[str, Any], data: dict[str, Any]) -> bool:
            checked.append(data["jti"])
            return data["jti"] in revoked_jtis

        @jwt.revoked_token_loader
        def revoked(header: dict[str, Any], data: dict[str, Any]) -> Any:
            return jsonify(code="revoked", jti=data["jti"]), 401

    env = make_env(setup=setup)
    token = env.access_token()
    jti = env.call(env.lib.get_jti, token)
    assert env.get("/protected", token)[0] == 200
    revoked_jtis.add(jti)
    assert env.get("/protected", token) == (401, {"code": "revoked", "jti": jti})
    assert env.get("/optional", token) == (401, {"code": "revoked", "jti": jti})
    assert checked == [jti, jti, jti]


def test_default_revoked_response(make_env: Callable[..., Env]) -> None:
    def setup(jwt: Any) -> None:
        jwt.token_in_blocklist_loader(lambda header, data: True)

    env = make_env(setup=setup)
    assert env.get("/protected", env.access_token()) == (401, {"msg": "Token has been revoked"})
    assert env.get("/refresh", env.refresh_token()) == (401, {"msg": "Token has been revoked"})


def test_blocklist_not_consulted_for_bad_tokens(make_env: Callable[..., Env]) -> None:
    calls: list[str] = []

    def setup(jwt: Any) -> None:
        @jwt.token_in_blocklist_loader
        def in_blocklist(header: dict[str, Any], data: dict[str, Any]) -> bool:
            calls.append(data["type"])
            return False

    env = make_env(setup=setup)
    env.get("/protected", "garbage")
    env.get("/protected", env.access_token(expires_delta=EXPIRED))
    env.get("/protected", env.refresh_token())
    env.get("/protected")
    assert calls == []


def test_token_verification_loaders(make_env: Callable[..., Env]) -> None:
    def setup(jwt: Any) -> None:
        @jwt.token_verification_loader
        def verify(header: dict[str, Any], data: dict[str, Any]) -> bool:
            return data.get("role") == "admin"

    env = make_env(setup=setup)
    assert env.get("/protected", env.access_token(additional_claims={"role": "admin"}))[0] == 200
    assert env.get("/protected", env.access_token(additional_claims={"role": "user"})) == (
        400,
        {"msg": "User claims verification failed"},
    )

    def setup_failed(jwt: Any) -> None:
        setup(jwt)

        @jwt.token_verification_failed_loader
        def failed(header: dict[str, Any], data: dict[str, Any]) -> Any:
            return jsonify(code="forbidden", role=data.get("role")), 403

    env2 = make_env(setup=setup_failed)
    assert env2.get("/protected", env2.access_token(additional_claims={"role": "user"})) == (
        403,
        {"code": "forbidden", "role": "user"},
    )


def test_user_lookup_and_error_loaders(make_env: Callable[..., Env]) -> None:
    accounts = {"1": Account(1, "ann")}

    def setup(jwt: Any) -> None:
        @jwt.user_lookup_loader
        def lookup(header: dict[str, Any], data: dict[str, Any]) -> Account | None:
            return accounts.get(data["sub"])

        @jwt.user_lookup_error_loader
        def lookup_error(header: dict[str, Any], data: dict[str, Any]) -> Any:
            return jsonify(code="gone", sub=data["sub"]), 404

    env = make_env(setup=setup)
    lib = env.lib

    @env.app.route("/whoami")
    @lib.jwt_required()
    def whoami() -> Any:
        return jsonify(name=lib.current_user.name)

    assert env.get("/whoami", env.access_token("1")) == (200, {"name": "ann"})
    assert env.get("/whoami", env.access_token("2")) == (404, {"code": "gone", "sub": "2"})


# --- order of the checks ---------------------------------------------------------------------


def test_check_order(make_env: Callable[..., Env]) -> None:
    # type -> fresh -> blocklist -> custom verification -> user lookup
    def setup(jwt: Any) -> None:
        jwt.token_in_blocklist_loader(lambda h, d: d.get("revoked", False))
        jwt.token_verification_loader(lambda h, d: d.get("valid", True))
        jwt.user_lookup_loader(lambda h, d: None if d.get("ghost") else "user")

    env = make_env(setup=setup)
    everything = {"revoked": True, "valid": False, "ghost": True}
    assert env.get("/fresh", env.refresh_token(additional_claims=everything))[1] == {
        "msg": "Only non-refresh tokens are allowed"
    }
    assert env.get("/fresh", env.access_token(additional_claims=everything))[1] == {
        "msg": "Fresh token required"
    }
    assert env.get("/protected", env.access_token(additional_claims=everything))[1] == {
        "msg": "Token has been revoked"
    }
    assert env.get("/protected", env.access_token(additional_claims={"valid": False, "ghost": True})) == (
        400,
        {"msg": "User claims verification failed"},
    )
    assert env.get("/protected", env.access_token("x", additional_claims={"ghost": True})) == (
        401,
        {"msg": "Error loading the user x"},
    )


def test_check_order_differential(differential: Callable[..., Any]) -> None:
    def setup(jwt: Any) -> None:
        jwt.token_in_blocklist_loader(lambda h, d: d.get("revoked", False))
        jwt.token_verification_loader(lambda h, d: d.get("valid", True))
        jwt.user_lookup_loader(lambda h, d: None if d.get("ghost") else "user")

    combos = [
        {},
        {"revoked": True},
        {"valid": False},
        {"ghost": True},
        {"revoked": True, "ghost": True},
        {"valid": False, "ghost": True},
    ]

    def scenario(env: Env) -> Any:
        out = []
        for claims in combos:
            for path in ("/protected", "/fresh", "/no_revocation_check", "/optional"):
                out.append(env.get(path, env.access_token(additional_claims=claims)))
            out.append(env.get("/refresh", env.refresh_token(additional_claims=claims)))
        return out

    results = differential(scenario, setup=setup)
    assert results[0][0] == 200


# --- error message key ---------------------------------------------------------------------


def test_error_message_key_applies_to_every_default(make_env: Callable[..., Env]) -> None:
    def setup(jwt: Any) -> None:
        jwt.token_in_blocklist_loader(lambda h, d: d.get("revoked", False))
        jwt.token_verification_loader(lambda h, d: d.get("valid", True))
        jwt.user_lookup_loader(lambda h, d: None if d.get("ghost") else "user")

    env = make_env(setup=setup, JWT_ERROR_MESSAGE_KEY="error")
    cases = [
        (env.get("/protected"), 401, "Missing Authorization Header"),
        (env.get("/protected", "garbage"), 422, "Not enough segments"),
        (env.get("/protected", env.access_token(expires_delta=EXPIRED)), 401, "Token has expired"),
        (env.get("/fresh", env.access_token()), 401, "Fresh token required"),
        (
            env.get("/protected", env.access_token(additional_claims={"revoked": True})),
            401,
            "Token has been revoked",
        ),
        (
            env.get("/protected", env.access_token(additional_claims={"valid": False})),
            400,
            "User claims verification failed",
        ),
        (
            env.get("/protected", env.access_token("z", additional_claims={"ghost": True})),
            401,
            "Error loading the user z",
        ),
    ]
    for (status, body), expected_status, message in cases:
        assert (status, body) == (expected_status, {"error": message})


# --- several apps, app factory ----------------------------------------------------------------


def test_one_manager_several_apps(lib: Any) -> None:
    # Not make_app: one manager, two apps with deliberately different keys.
    manager = lib.JWTManager()
    calls: list[str] = []

    @manager.additional_claims_loader
    def claims(identity: Any) -> dict[str, Any]:
        calls.append(identity)
        return {"shared": True}

    apps = []
    for name, key in (("one", "1" * 40), ("two", "2" * 40)):
        app = Flask(name)
        app.config.update(TESTING=True, JWT_SECRET_KEY=key, JWT_HEADER_TYPE=name.upper())
        manager.init_app(app)

        @app.route("/who")
        @lib.jwt_required()
        def who() -> Any:
            return jsonify(sub=lib.get_jwt_identity(), shared=lib.get_jwt()["shared"])

        apps.append(app)

    tokens = []
    for app in apps:
        with app.app_context():
            tokens.append(lib.create_access_token(app.name))
    one, two = (app.test_client() for app in apps)
    assert one.get("/who", headers={"Authorization": f"ONE {tokens[0]}"}).get_json() == {
        "sub": "one",
        "shared": True,
    }
    assert two.get("/who", headers={"Authorization": f"TWO {tokens[1]}"}).get_json() == {
        "sub": "two",
        "shared": True,
    }
    # each app keeps its own configuration
    assert one.get("/who", headers={"Authorization": f"TWO {tokens[0]}"}).status_code == 401
    resp = two.get("/who", headers={"Authorization": f"TWO {tokens[0]}"})
    assert (resp.status_code, resp.get_json()) == (422, {"msg": "Signature verification failed"})
    assert calls == ["one", "two"]


def test_app_factory_loaders_registered_after_init_app(lib: Any) -> None:
    # Not make_app: the manager is created once, outside the app's own factory.
    manager = lib.JWTManager()

    def create_app() -> Flask:
        app = Flask("factory")
        app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
        manager.init_app(app)

        @app.route("/p")
        @lib.jwt_required()
        def p() -> Any:
            return jsonify(ok=True)

        return app

    app = create_app()

    @manager.unauthorized_loader
    def unauthorized(message: str) -> Any:
        return jsonify(late=message), 401

    assert app.test_client().get("/p").get_json() == {"late": "Missing Authorization Header"}


def test_manager_constructor_with_app(lib: Any) -> None:
    app = Flask("ctor")  # not make_app, which calls init_app: this is the JWTManager(app) form
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
    lib.JWTManager(app)
    with app.app_context():
        assert lib.decode_token(lib.create_access_token("a"))["sub"] == "a"


def test_functions_without_manager_raise(lib: Any) -> None:
    app = Flask("nomanager")  # not make_app: no JWTManager at all
    app.config["JWT_SECRET_KEY"] = SECRET
    with app.app_context(), pytest.raises(RuntimeError):
        lib.create_access_token("a")


# --- errors raised by the app's own calls -------------------------------------------------------


def test_decode_token_errors_in_views_become_json(differential: Callable[..., Any]) -> None:
    def scenario(env: Env) -> Any:
        lib = env.lib

        @env.app.route("/inspect", methods=["POST"])
        def inspect() -> Any:
            data = lib.decode_token(env.app.config["TOKEN_UNDER_TEST"])
            return jsonify(sub=data["sub"])

        out = []
        for token in [
            "garbage",
            env.access_token(expires_delta=EXPIRED),
            pyjwt.encode({"sub": "x"}, "w" * 40, algorithm="HS256"),
            env.access_token("ok"),
        ]:
            env.app.config["TOKEN_UNDER_TEST"] = token
            out.append(env.request("POST", "/inspect"))
        return out

    results = differential(scenario)
    assert results == [
        (422, {"msg": "Not enough segments"}),
        (401, {"msg": "Token has expired"}),
        (422, {"msg": "Signature verification failed"}),
        (200, {"sub": "ok"}),
    ]


def test_loader_responses_differential(differential: Callable[..., Any]) -> None:
    def setup(jwt: Any) -> None:
        jwt.expired_token_loader(lambda h, d: (jsonify(e=d["sub"]), 498))
        jwt.invalid_token_loader(lambda m: ({"i": m}, 499))
        jwt.unauthorized_loader(lambda m: make_response({"u": m}, 497))
        jwt.needs_fresh_token_loader(lambda h, d: ("fresh please", 496))

    def scenario(env: Env) -> Any:
        out = []
        for token in [None, "bad", env.access_token("s", expires_delta=EXPIRED), env.access_token()]:
            resp = env.client.get("/fresh", headers={"Authorization": f"Bearer {token}"} if token else {})
            out.append((resp.status_code, resp.get_data(as_text=True)))
        return out

    results = differential(scenario, setup=setup)
    assert results[-1] == (496, "fresh please")


# --- loader return values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "status"),
    [(True, 200), (1, 200), ("yes", 200), (False, 400), (None, 400), (0, 400)],
)
def test_token_verification_truthiness(make_env: Callable[..., Env], result: Any, status: int) -> None:
    env = make_env(setup=lambda jwt: jwt.token_verification_loader(lambda h, d: result))
    assert env.get("/protected", env.access_token())[0] == status


@pytest.mark.parametrize(
    ("result", "status"),
    [(True, 401), ("yes", 401), (False, 200), (None, 200), (0, 200)],
)
def test_blocklist_truthiness(make_env: Callable[..., Env], result: Any, status: int) -> None:
    env = make_env(setup=lambda jwt: jwt.token_in_blocklist_loader(lambda h, d: result))
    assert env.get("/protected", env.access_token())[0] == status
