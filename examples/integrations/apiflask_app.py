"""APIFlask with Flask-JWT-Guard: the OpenAPI document declares how to send a token.

``security_schemes(app)`` goes to APIFlask's ``SECURITY_SCHEMES``;
``security_requirement(...)`` marks each protected operation (``@bp.doc(security=...)``),
so Swagger UI (``/docs``) shows a lock on it and its "Authorize" button asks for the
token. Run it with ``flask --app examples.integrations.apiflask_app run``::

    TOKEN=$(curl -s -X POST localhost:5000/auth/login | jq -r .access_token)
    curl -H "Authorization: Bearer $TOKEN" localhost:5000/pets/
    curl localhost:5000/openapi.json
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, APIFlask, Schema
from apiflask.fields import String

from flask_jwt_guard import JWTManager, create_access_token, get_jwt_identity, jwt_required
from flask_jwt_guard.openapi import security_requirement, security_schemes

PETS = {"alice": ("Rex", "Tom")}


class PetSchema(Schema):
    name = String(required=True)


class TokenSchema(Schema):
    access_token = String()


auth = APIBlueprint("auth", __name__, url_prefix="/auth", tag="Tokens")
pets = APIBlueprint("pets", __name__, url_prefix="/pets", tag="Pets")


@auth.post("/login")
@auth.output(TokenSchema)
def login() -> dict[str, str]:
    """A token for alice (a real app checks a password first)."""
    return {"access_token": create_access_token(identity="alice")}


@pets.get("/")
@jwt_required()
@pets.doc(security=list(security_requirement("headers")))  # list(): as APIFlask's type hint says
@pets.output(PetSchema(many=True))
def pet_list() -> list[dict[str, str]]:
    """The caller's pets."""
    return [{"name": name} for name in PETS.get(get_jwt_identity(), ())]


@pets.post("/")
@jwt_required()  # first: the token is checked before the body is
@pets.doc(security=list(security_requirement("headers")))  # list(): as APIFlask's type hint says
@pets.input(PetSchema, arg_name="pet")
@pets.output(PetSchema, status_code=201)
def add_pet(pet: dict[str, str]) -> dict[str, str]:
    """Add a pet (not kept: this is an example)."""
    return pet


def create_app(config: dict[str, Any] | None = None) -> APIFlask:
    """Build the example app; ``config`` overrides the defaults below."""
    app = APIFlask(__name__, title="Pets", version="1.0")
    app.config.update(
        # Change this! A long random value, e.g. secrets.token_urlsafe(48).
        JWT_SECRET_KEY="example-only-secret-change-me-0123456789abcdef",
    )
    app.config.update(config or {})
    JWTManager(app)
    app.config["SECURITY_SCHEMES"] = security_schemes(app)
    app.register_blueprint(auth)
    app.register_blueprint(pets)
    return app
