"""Flask-RESTful resources protected by ``jwt_required``.

A missing, invalid, expired or revoked token gets the same JSON answer as on a
plain Flask route, in production too, with no error handler in the app. Run it
with ``flask --app examples.integrations.restful_app run``::

    TOKEN=$(curl -s -X POST localhost:5000/auth/login | jq -r .access_token)
    curl -H "Authorization: Bearer $TOKEN" localhost:5000/pets
    curl localhost:5000/pets                                    # 401
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_restful import Api, Resource, abort  # type: ignore[import-untyped]

from flask_jwt_guard import JWTManager, create_access_token, get_jwt_identity, jwt_required, revoke_token

PETS = {"alice": ("Rex", "Tom")}


class Login(Resource):  # type: ignore[misc]
    def post(self) -> dict[str, str]:
        """A token for alice (a real app checks a password first)."""
        return {"access_token": create_access_token(identity="alice")}


class Logout(Resource):  # type: ignore[misc]
    method_decorators = [jwt_required()]  # every method of the resource

    def post(self) -> dict[str, str]:
        """Revoke the token of this request."""
        revoke_token()
        return {"msg": "Logged out"}


class PetList(Resource):  # type: ignore[misc]
    method_decorators = [jwt_required()]

    def get(self) -> dict[str, Any]:
        """The caller's pets."""
        owner = get_jwt_identity()
        return {"owner": owner, "pets": list(PETS.get(owner, ()))}


class Pet(Resource):  # type: ignore[misc]
    @jwt_required()  # one method
    def get(self, index: int) -> dict[str, Any]:
        """One of the caller's pets."""
        owned = PETS.get(get_jwt_identity(), ())
        if index >= len(owned):
            abort(404, message="No such pet")  # Flask-RESTful answers its own errors as before
        return {"name": owned[index]}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the example app; ``config`` overrides the defaults below."""
    app = Flask(__name__)
    app.config.update(
        # Change this! A long random value, e.g. secrets.token_urlsafe(48).
        JWT_SECRET_KEY="example-only-secret-change-me-0123456789abcdef",
        JWT_REVOCATION_STORE="memory",  # one process; see docs/revocation.md for Redis or SQL
    )
    app.config.update(config or {})
    JWTManager(app)
    api = Api(app)
    api.add_resource(Login, "/auth/login")
    api.add_resource(Logout, "/auth/logout")
    api.add_resource(PetList, "/pets")
    api.add_resource(Pet, "/pets/<int:index>")
    return app
