"""Flask-RESTX resources protected by ``jwt_required``.

A missing, invalid, expired or revoked token gets the same JSON answer as on a
plain Flask route (``{"msg": "Missing Authorization Header"}`` with 401, ...), in
production too: the app needs no error handler of its own and no
``PROPAGATE_EXCEPTIONS``. Run it with ``flask --app examples.integrations.restx_app run``::

    TOKEN=$(curl -s -X POST localhost:5000/auth/login | jq -r .access_token)
    curl -H "Authorization: Bearer $TOKEN" localhost:5000/pets/
    curl localhost:5000/pets/                                    # 401
    curl -X POST -H "Authorization: Bearer $TOKEN" localhost:5000/auth/logout
    curl -H "Authorization: Bearer $TOKEN" localhost:5000/pets/  # 401: revoked
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_restx import Api, Namespace, Resource  # type: ignore[import-untyped]

from flask_jwt_guard import JWTManager, create_access_token, get_jwt_identity, jwt_required, revoke_token

PETS = {"alice": ("Rex", "Tom")}

auth = Namespace("auth", description="Tokens")
pets = Namespace("pets", description="The caller's pets")


@auth.route("/login")
class Login(Resource):  # type: ignore[misc]
    def post(self) -> dict[str, str]:
        """A token for alice (a real app checks a password first)."""
        return {"access_token": create_access_token(identity="alice")}


@auth.route("/logout")
class Logout(Resource):  # type: ignore[misc]
    method_decorators = [jwt_required()]  # every method of the resource

    def post(self) -> dict[str, str]:
        """Revoke the token of this request."""
        revoke_token()
        return {"msg": "Logged out"}


@pets.route("/")
class PetList(Resource):  # type: ignore[misc]
    method_decorators = [jwt_required()]

    def get(self) -> dict[str, Any]:
        """The caller's pets."""
        owner = get_jwt_identity()
        return {"owner": owner, "pets": list(PETS.get(owner, ()))}


@pets.route("/<int:index>")
class Pet(Resource):  # type: ignore[misc]
    @jwt_required()  # one method
    def get(self, index: int) -> dict[str, Any]:
        """One of the caller's pets."""
        owned = PETS.get(get_jwt_identity(), ())
        if index >= len(owned):
            pets.abort(404, "No such pet")  # Flask-RESTX answers its own errors as before
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
    api = Api(app, title="Pets", version="1.0", doc="/docs")
    api.add_namespace(auth)
    api.add_namespace(pets)
    return app
