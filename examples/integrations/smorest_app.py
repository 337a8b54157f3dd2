# mypy: disallow-untyped-decorators=False
# (flask-smorest has no type hints: its decorators would make every view "untyped")
"""flask-smorest with Flask-JWT-Guard: the OpenAPI document declares how to send a token.

``security_schemes(app)`` gives the app's schemes (one per token location: the
Bearer header, the cookie and its CSRF header, the query string), declared once on
``api.spec``; ``security_requirement(...)`` marks each protected operation, so
Swagger UI (``/docs``) shows a lock on it and its "Authorize" button asks for the
token. Run it with ``flask --app examples.integrations.smorest_app run`` and open
http://localhost:5000/docs; or::

    TOKEN=$(curl -s -X POST localhost:5000/auth/login | jq -r .access_token)
    curl -H "Authorization: Bearer $TOKEN" localhost:5000/pets/
    curl "localhost:5000/pets/?jwt=$TOKEN"
    curl localhost:5000/openapi.json
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, Response, jsonify
from flask.views import MethodView
from flask_smorest import Api, Blueprint  # type: ignore[import-untyped]

from flask_jwt_guard import (
    JWTManager,
    create_access_token,
    get_jwt_identity,
    jwt_required,
    set_access_cookies,
)
from flask_jwt_guard.openapi import security_requirement, security_schemes

#: Where this app looks for a token; the decorators below are made before any app exists.
LOCATIONS = ("headers", "cookies", "query_string")

PETS = {"alice": ("Rex", "Tom")}


class PetSchema(ma.Schema):
    name = ma.fields.String(required=True)


class TokenSchema(ma.Schema):
    access_token = ma.fields.String()


auth = Blueprint("auth", __name__, url_prefix="/auth", description="Tokens")
pets = Blueprint("pets", __name__, url_prefix="/pets", description="The caller's pets")


@auth.route("/login", methods=["POST"])
@auth.response(200, TokenSchema)
def login() -> Response:
    """A token for alice, in the body and in a cookie (a real app checks a password first)."""
    token = create_access_token(identity="alice")
    response = jsonify(access_token=token)
    set_access_cookies(response, token)
    return response


@pets.route("/")
class PetList(MethodView):
    @jwt_required()
    @pets.doc(security=security_requirement(LOCATIONS, method="GET"))
    @pets.response(200, PetSchema(many=True))
    def get(self) -> list[dict[str, str]]:
        """The caller's pets."""
        return [{"name": name} for name in PETS.get(get_jwt_identity(), ())]

    @jwt_required()  # first: the token is checked before the body is
    @pets.doc(security=security_requirement(LOCATIONS, method="POST"))  # the cookie needs its CSRF header
    @pets.arguments(PetSchema)
    @pets.response(201, PetSchema)
    def post(self, pet: dict[str, str]) -> dict[str, str]:
        """Add a pet (not kept: this is an example)."""
        return pet


@pets.route("/public")
@jwt_required(optional=True)
@pets.doc(security=security_requirement(LOCATIONS, method="GET", optional=True))
@pets.response(200, PetSchema(many=True))
def public() -> list[dict[str, str]]:
    """Everyone's first pet; a token is accepted but not needed."""
    return [{"name": owned[0]} for owned in PETS.values()]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the example app; ``config`` overrides the defaults below."""
    app = Flask(__name__)
    app.config.update(
        # Change this! A long random value, e.g. secrets.token_urlsafe(48).
        JWT_SECRET_KEY="example-only-secret-change-me-0123456789abcdef",
        JWT_TOKEN_LOCATION=list(LOCATIONS),
        JWT_COOKIE_SECURE=False,  # plain http on localhost; in production keep cookies Secure
        API_TITLE="Pets",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",  # or a local copy
    )
    app.config.update(config or {})
    JWTManager(app)
    api = Api(app)
    for name, scheme in security_schemes(app).items():
        api.spec.components.security_scheme(name, scheme)
    api.register_blueprint(auth)
    api.register_blueprint(pets)
    return app
