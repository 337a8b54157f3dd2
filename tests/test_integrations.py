"""API frameworks: Flask-RESTX and Flask-RESTful (error answers), flask-smorest and APIFlask (OpenAPI).

The example apps of ``examples/integrations/`` are built and called with the real
frameworks. RESTX and RESTful route their resources' errors themselves, and with
propagation off (production) answer an exception they do not know with a 500; the
manager hands its own errors back to Flask, so the answers are those of a plain route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient

from examples.integrations import apiflask_app, restful_app, restx_app, smorest_app
from flask_jwt_guard import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    jwt_required,
    verify_jwt_in_request,
)
from flask_jwt_guard.exceptions import ConfigurationError, NoAuthorizationError
from flask_jwt_guard.openapi import security_requirement, security_schemes

flask_restx = pytest.importorskip("flask_restx")
flask_restful = pytest.importorskip("flask_restful")

SECRET = "example-only-secret-change-me-0123456789abcdef"  # the examples' key
PRODUCTION = {"TESTING": False, "DEBUG": False, "PROPAGATE_EXCEPTIONS": False}
MODES = {"testing": {"TESTING": True}, "production": PRODUCTION}
REST_EXAMPLES = {"restx": restx_app, "restful": restful_app}
#: The example's paths: every method protected (method_decorators), one method decorated.
PROTECTED = {"restx": ("/pets/", "/pets/0"), "restful": ("/pets", "/pets/0")}

BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
COOKIE = {"type": "apiKey", "in": "cookie", "name": "access_token_cookie"}
CSRF_HEADER = {"type": "apiKey", "in": "header", "name": "X-CSRF-TOKEN"}
QUERY = {"type": "apiKey", "in": "query", "name": "jwt"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def without_description(scheme: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in scheme.items() if key != "description"}


def plain_flask_app(config: dict[str, Any]) -> Flask:
    """The reference: the same configuration, one plain Flask route."""
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE="memory", **config)
    JWTManager(app)

    @app.get("/plain")
    @jwt_required()
    def plain() -> Any:
        return jsonify(ok=True)

    return app


def tokens_for(app: Flask) -> dict[str, dict[str, str]]:
    """Headers for each kind of bad (and one good) credential, made with ``app``'s key."""
    with app.app_context():
        return {
            "missing": {},
            "malformed": bearer("not-a-token"),
            "bad signature": bearer(create_access_token("alice")[:-4] + "AAAA"),
            "expired": bearer(create_access_token("alice", expires_delta=timedelta(seconds=-5))),
            "refresh token": bearer(create_refresh_token("alice")),
            "no Bearer": {"Authorization": "Token abc"},
        }


# --- Flask-RESTX and Flask-RESTful: the documented answers, not 500 -------------------


@pytest.fixture(params=list(REST_EXAMPLES))
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> dict[str, Any]:
    return MODES[request.param]


@pytest.fixture
def rest_client(framework: str, mode: dict[str, Any]) -> FlaskClient:
    app: Flask = REST_EXAMPLES[framework].create_app(dict(mode))
    return app.test_client()


def test_missing_token_is_401_json_in_every_mode(framework: str, rest_client: FlaskClient) -> None:
    for path in PROTECTED[framework]:
        response = rest_client.get(path)
        assert response.status_code == 401, path
        assert response.get_json() == {"msg": "Missing Authorization Header"}, path


@pytest.mark.parametrize(
    "case", ["missing", "malformed", "bad signature", "expired", "refresh token", "no Bearer"]
)
def test_bad_credentials_answered_as_on_a_plain_route(
    framework: str, mode: dict[str, Any], rest_client: FlaskClient, case: str
) -> None:
    plain = plain_flask_app(mode)
    headers = tokens_for(plain)[case]
    expected = plain.test_client().get("/plain", headers=headers)
    assert expected.status_code in {401, 422}
    for path in PROTECTED[framework]:
        response = rest_client.get(path, headers=headers)
        assert (response.status_code, response.get_json()) == (expected.status_code, expected.get_json()), (
            path
        )


def test_the_documented_bodies(framework: str, rest_client: FlaskClient) -> None:
    app = rest_client.application
    headers = tokens_for(app)
    path = PROTECTED[framework][0]
    answers = {case: rest_client.get(path, headers=headers[case]) for case in headers}
    assert answers["expired"].status_code == 401
    assert answers["expired"].get_json() == {"msg": "Token has expired"}
    assert answers["malformed"].status_code == 422
    assert answers["malformed"].get_json() == {"msg": "Not enough segments"}
    assert answers["bad signature"].status_code == 422
    assert answers["bad signature"].get_json() == {"msg": "Signature verification failed"}
    assert answers["refresh token"].status_code == 422
    assert answers["refresh token"].get_json() == {"msg": "Only non-refresh tokens are allowed"}


def test_valid_and_revoked_token(framework: str, rest_client: FlaskClient) -> None:
    token = rest_client.post("/auth/login").get_json()["access_token"]
    listing, one = PROTECTED[framework]
    assert rest_client.get(listing, headers=bearer(token)).get_json() == {
        "owner": "alice",
        "pets": ["Rex", "Tom"],
    }
    assert rest_client.get(one, headers=bearer(token)).get_json() == {"name": "Rex"}

    assert rest_client.post("/auth/logout", headers=bearer(token)).status_code == 200
    for path in (listing, one):
        response = rest_client.get(path, headers=bearer(token))
        assert response.status_code == 401, path
        assert response.get_json() == {"msg": "Token has been revoked"}, path


def test_the_frameworks_own_errors_are_still_theirs(framework: str, rest_client: FlaskClient) -> None:
    token = rest_client.post("/auth/login").get_json()["access_token"]
    response = rest_client.get("/pets/7", headers=bearer(token))
    assert response.status_code == 404
    assert "No such pet" in response.get_json()["message"]  # the framework's body, not {"msg": ...}


def api_app(framework: str, config: dict[str, Any], api_first: bool = False) -> tuple[Flask, JWTManager, Any]:
    """A bare app with one protected resource at /r, an error at /boom; the Api made before or after."""
    module = flask_restx if framework == "restx" else flask_restful
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, **config)
    api = module.Api(app) if api_first else None
    manager = JWTManager(app)
    api = api if api is not None else module.Api(app)

    class Protected(module.Resource):  # type: ignore[misc, name-defined]
        @jwt_required()
        def get(self) -> dict[str, bool]:
            return {"ok": True}

    class Boom(module.Resource):  # type: ignore[misc, name-defined]
        def get(self) -> None:
            raise KeyError("not ours")

    api.add_resource(Protected, "/r")
    api.add_resource(Boom, "/boom")
    return app, manager, api


@pytest.mark.parametrize("api_first", [False, True], ids=["api-after-manager", "api-before-manager"])
def test_api_made_before_or_after_the_manager(framework: str, mode: dict[str, Any], api_first: bool) -> None:
    app, _, _ = api_app(framework, mode, api_first=api_first)
    response = app.test_client().get("/r")
    assert (response.status_code, response.get_json()) == (401, {"msg": "Missing Authorization Header"})


def test_other_errors_still_go_to_the_framework_in_production(framework: str) -> None:
    app, _, _ = api_app(framework, PRODUCTION)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.get_json() == {"message": "Internal Server Error"}


def test_loaders_and_app_handlers_still_decide(framework: str) -> None:
    app, manager, _ = api_app(framework, PRODUCTION)
    manager.expired_token_loader(lambda header, data: (jsonify(error="stale"), 401))

    @app.errorhandler(NoAuthorizationError)
    def no_token(error: NoAuthorizationError) -> Any:
        return jsonify(error="log in first"), 401

    client = app.test_client()
    assert client.get("/r").get_json() == {"error": "log in first"}
    with app.app_context():
        expired = create_access_token("alice", expires_delta=timedelta(seconds=-5))
    assert client.get("/r", headers=bearer(expired)).get_json() == {"error": "stale"}


def test_a_user_before_request_that_verifies(framework: str) -> None:
    """An app-wide ``before_request`` that checks the token: answered as well, first request included."""
    module = flask_restx if framework == "restx" else flask_restful
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, **PRODUCTION)
    app.before_request(lambda: verify_jwt_in_request())
    JWTManager(app)
    api = module.Api(app)

    class Open(module.Resource):  # type: ignore[misc, name-defined]
        def get(self) -> dict[str, bool]:
            return {"ok": True}

    api.add_resource(Open, "/open")
    response = app.test_client().get("/open")
    assert (response.status_code, response.get_json()) == (401, {"msg": "Missing Authorization Header"})


def test_api_on_a_blueprint(framework: str, mode: dict[str, Any]) -> None:
    module = flask_restx if framework == "restx" else flask_restful
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, **mode)
    JWTManager(app)
    blueprint = Blueprint("v1", __name__, url_prefix="/v1")
    api = module.Api(blueprint)

    class Protected(module.Resource):  # type: ignore[misc, name-defined]
        method_decorators = [jwt_required()]

        def get(self) -> dict[str, bool]:
            return {"ok": True}

    api.add_resource(Protected, "/r")
    app.register_blueprint(blueprint)
    response = app.test_client().get("/v1/r")
    assert (response.status_code, response.get_json()) == (401, {"msg": "Missing Authorization Header"})


@pytest.mark.parametrize("name", ["register_error_handler", "_set_error_handler_callbacks"])
def test_registering_on_an_api_is_accepted_and_changes_nothing(
    framework: str, mode: dict[str, Any], name: str
) -> None:
    """Flask-JWT-Extended's users call ``jwt._set_error_handler_callbacks(api)``; it must not break."""
    app, manager, api = api_app(framework, mode)
    getattr(manager, name)(api)
    response = app.test_client().get("/r")
    assert (response.status_code, response.get_json()) == (401, {"msg": "Missing Authorization Header"})


# --- OpenAPI: flask-smorest and APIFlask ---------------------------------------------


@pytest.fixture(params=list(MODES))
def smorest(request: pytest.FixtureRequest) -> Flask:
    # Secure cookies, as in production (the test client sends them to http://localhost).
    return smorest_app.create_app({**MODES[request.param], "JWT_COOKIE_SECURE": True})


@pytest.fixture(params=list(MODES))
def apiflask(request: pytest.FixtureRequest) -> Flask:
    return apiflask_app.create_app(dict(MODES[request.param]))


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options"}:
                yield method, path, operation


def assert_requirements_are_declared(spec: dict[str, Any]) -> None:
    declared = set(spec["components"]["securitySchemes"])
    for method, path, operation in operations(spec):
        for alternative in operation.get("security", []):
            assert set(alternative) <= declared, (method, path, alternative)


def test_smorest_document_declares_the_schemes(smorest: Flask) -> None:
    spec = smorest.test_client().get("/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert {name: without_description(scheme) for name, scheme in schemes.items()} == {
        "jwt_header": BEARER,
        "jwt_cookie": COOKIE,
        "jwt_csrf": CSRF_HEADER,
        "jwt_query": QUERY,
    }
    assert all(scheme["description"] for scheme in schemes.values())
    assert_requirements_are_declared(spec)


def test_smorest_document_marks_each_protected_operation(smorest: Flask) -> None:
    spec = smorest.test_client().get("/openapi.json").get_json()
    security = {(method, path): operation.get("security") for method, path, operation in operations(spec)}
    assert security == {
        ("post", "/auth/login"): None,
        ("get", "/pets/"): [{"jwt_header": []}, {"jwt_cookie": []}, {"jwt_query": []}],
        # CSRF is checked on POST: the cookie alone is not enough.
        ("post", "/pets/"): [{"jwt_header": []}, {"jwt_cookie": [], "jwt_csrf": []}, {"jwt_query": []}],
        # optional=True: anonymous calls too ({}).
        ("get", "/pets/public"): [{"jwt_header": []}, {"jwt_cookie": []}, {"jwt_query": []}, {}],
    }


def test_smorest_protected_calls(smorest: Flask) -> None:
    client = smorest.test_client(use_cookies=False)
    refused = client.get("/pets/")
    assert refused.status_code == 401
    assert refused.get_json()["msg"].startswith("Missing JWT in headers, cookies or query_string")
    login = client.post("/auth/login")
    token = login.get_json()["access_token"]
    assert client.get("/pets/", headers=bearer(token)).get_json() == [{"name": "Rex"}, {"name": "Tom"}]
    assert client.get(f"/pets/?jwt={token}").get_json() == [{"name": "Rex"}, {"name": "Tom"}]
    assert client.get("/pets/public").get_json() == [{"name": "Rex"}]
    # The token is checked before the body: no token and a bad body is a 401, not a 422.
    assert client.post("/pets/", json={}).status_code == 401
    assert client.post("/pets/", json={}, headers=bearer(token)).status_code == 422
    created = client.post("/pets/", json={"name": "Bo"}, headers=bearer(token))
    assert (created.status_code, created.get_json()) == (201, {"name": "Bo"})


def test_smorest_cookie_needs_its_csrf_header_on_post(smorest: Flask) -> None:
    client = smorest.test_client()
    client.post("/auth/login")  # sets the access cookie and its CSRF cookie
    csrf = client.get_cookie("csrf_access_token")
    assert csrf is not None
    assert client.get("/pets/").status_code == 200
    assert client.post("/pets/", json={"name": "Bo"}).get_json() == {"msg": "Missing CSRF token"}
    assert client.post("/pets/", json={"name": "Bo"}, headers={"X-CSRF-TOKEN": csrf.value}).status_code == 201


def test_apiflask_document_declares_the_scheme_and_marks_operations(apiflask: Flask) -> None:
    spec = apiflask.test_client().get("/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert {name: without_description(scheme) for name, scheme in schemes.items()} == {"jwt_header": BEARER}
    security = {(method, path): operation.get("security") for method, path, operation in operations(spec)}
    assert security == {
        ("post", "/auth/login"): None,
        ("get", "/pets/"): [{"jwt_header": []}],
        ("post", "/pets/"): [{"jwt_header": []}],
    }
    # APIFlask documents the 401 of an operation with a security requirement.
    assert "401" in spec["paths"]["/pets/"]["get"]["responses"]
    assert_requirements_are_declared(spec)


def test_apiflask_protected_calls(apiflask: Flask) -> None:
    client = apiflask.test_client()
    refused = client.get("/pets/")
    assert (refused.status_code, refused.get_json()) == (401, {"msg": "Missing Authorization Header"})
    token = client.post("/auth/login").get_json()["access_token"]
    assert client.get("/pets/", headers=bearer(token)).get_json() == [{"name": "Rex"}, {"name": "Tom"}]
    assert client.post("/pets/", json={}).status_code == 401  # the token first, then the body
    created = client.post("/pets/", json={"name": "Bo"}, headers=bearer(token))
    assert (created.status_code, created.get_json()) == (201, {"name": "Bo"})


# --- flask_jwt_guard.openapi on its own ------------------------------------------------


@pytest.fixture
def configured() -> Callable[..., Flask]:
    def build(**config: Any) -> Flask:
        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET, JWT_COOKIE_SECURE=True, **config)
        JWTManager(app)
        return app

    return build


def test_schemes_follow_the_configuration(configured: Callable[..., Flask]) -> None:
    app = configured(
        JWT_TOKEN_LOCATION=["query_string", "json", "headers"],
        JWT_HEADER_NAME="X-Auth",
        JWT_HEADER_TYPE="",
        JWT_QUERY_STRING_NAME="token",
        JWT_QUERY_STRING_VALUE_PREFIX="Bearer ",
    )
    schemes = security_schemes(app)
    assert list(schemes) == ["jwt_query", "jwt_header"]  # the app's order; a JSON body is no scheme
    assert without_description(schemes["jwt_header"]) == {"type": "apiKey", "in": "header", "name": "X-Auth"}
    assert without_description(schemes["jwt_query"]) == {"type": "apiKey", "in": "query", "name": "token"}
    assert schemes["jwt_query"]["description"].endswith("Bearer <JWT>")


def test_other_header_type_is_an_api_key(configured: Callable[..., Flask]) -> None:
    schemes = security_schemes(configured(JWT_HEADER_TYPE="JWT"))
    assert without_description(schemes["jwt_header"]) == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
    }
    assert "JWT <JWT>" in schemes["jwt_header"]["description"]


def test_cookie_schemes(configured: Callable[..., Flask]) -> None:
    app = configured(
        JWT_TOKEN_LOCATION="cookies",
        JWT_ACCESS_COOKIE_NAME="at",
        JWT_REFRESH_COOKIE_NAME="rt",
        JWT_REFRESH_CSRF_HEADER_NAME="X-Refresh-CSRF",
    )
    schemes = {name: without_description(s) for name, s in security_schemes(app, refresh=True).items()}
    assert schemes == {
        "jwt_cookie": {"type": "apiKey", "in": "cookie", "name": "at"},
        "jwt_csrf": CSRF_HEADER,
        "jwt_refresh_cookie": {"type": "apiKey", "in": "cookie", "name": "rt"},
        "jwt_refresh_csrf": {"type": "apiKey", "in": "header", "name": "X-Refresh-CSRF"},
    }
    app.config["JWT_COOKIE_CSRF_PROTECT"] = False  # a later change of the configuration is honoured
    assert list(security_schemes(app)) == ["jwt_cookie"]


def test_schemes_of_the_current_app(configured: Callable[..., Flask]) -> None:
    app = configured(JWT_TOKEN_LOCATION=["headers", "query_string"])
    with app.app_context():
        assert list(security_schemes()) == ["jwt_header", "jwt_query"]


def test_requirement_without_an_app_uses_the_default_csrf_methods() -> None:
    assert security_requirement("cookies", method="get") == [{"jwt_cookie": []}]
    assert security_requirement("cookies", method="DELETE") == [{"jwt_cookie": [], "jwt_csrf": []}]
    assert security_requirement("cookies") == [{"jwt_cookie": [], "jwt_csrf": []}]  # no method: as for POST
    assert security_requirement(["cookies"], refresh=True, method="POST") == [
        {"jwt_refresh_cookie": [], "jwt_refresh_csrf": []}
    ]
    assert security_requirement(["json", "headers"], optional=True) == [{"jwt_header": []}, {}]


def test_requirement_follows_the_app(configured: Callable[..., Flask]) -> None:
    app = configured(JWT_TOKEN_LOCATION=["cookies", "headers"], JWT_CSRF_METHODS=["POST"])
    assert security_requirement(app=app, method="PUT") == [{"jwt_cookie": []}, {"jwt_header": []}]
    with app.app_context():
        assert security_requirement(method="POST") == [{"jwt_cookie": [], "jwt_csrf": []}, {"jwt_header": []}]
    app.config["JWT_COOKIE_CSRF_PROTECT"] = False
    assert security_requirement(app=app, method="POST") == [{"jwt_cookie": []}, {"jwt_header": []}]


def test_requirement_errors() -> None:
    with pytest.raises(TypeError, match="locations="):
        security_requirement()
    with pytest.raises(ValueError, match="no OpenAPI security scheme"):
        security_requirement("json")
    with pytest.raises(ConfigurationError, match="locations"):
        security_requirement(["headers", "body"])
