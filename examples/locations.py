"""The four token locations in one app.

Run it with ``flask --app examples.locations run`` and try::

    curl -X POST localhost:5000/login_without_cookies
    curl -H "Authorization: Bearer $TOKEN" localhost:5000/protected
    curl "localhost:5000/protected?jwt=$TOKEN"
    curl -X POST -H "Content-Type: application/json" -d "{\\"access_token\\": \\"$TOKEN\\"}" \\
        localhost:5000/protected
"""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from flask_jwt_guard import (
    JWTManager,
    create_access_token,
    get_jwt_identity,
    get_jwt_request_location,
    jwt_required,
    set_access_cookies,
    unset_jwt_cookies,
)


def create_app(config: dict[str, object] | None = None) -> Flask:
    """Build the example app; ``config`` overrides the defaults below."""
    app = Flask(__name__)
    app.config.update(
        # Look for a token in all four places, in this order.
        JWT_TOKEN_LOCATION=["headers", "cookies", "json", "query_string"],
        # Change this! A long random value, e.g. secrets.token_urlsafe(48).
        JWT_SECRET_KEY="example-only-secret-change-me-0123456789abcdef",
        # Plain http on localhost; in production keep cookies Secure.
        JWT_COOKIE_SECURE=False,
    )
    app.config.update(config or {})
    JWTManager(app)

    @app.post("/login_without_cookies")
    def login_without_cookies() -> ResponseReturnValue:
        return jsonify(access_token=create_access_token(identity="example_user"))

    @app.post("/login_with_cookies")
    def login_with_cookies() -> ResponseReturnValue:
        response = jsonify(msg="login successful")
        set_access_cookies(response, create_access_token(identity="example_user"))
        return response

    @app.post("/logout_with_cookies")
    def logout_with_cookies() -> ResponseReturnValue:
        response = jsonify(msg="logout successful")
        unset_jwt_cookies(response)
        return response

    @app.route("/protected", methods=["GET", "POST"])
    @jwt_required()
    def protected() -> ResponseReturnValue:
        return jsonify(foo="bar", user=get_jwt_identity(), location=get_jwt_request_location())

    @app.get("/only_headers")
    @jwt_required(locations=["headers"])
    def only_headers() -> ResponseReturnValue:
        return jsonify(foo="baz", user=get_jwt_identity())

    return app


app = create_app()

if __name__ == "__main__":
    app.run(host="127.0.0.1")
