"""A small blog API written for Flask-JWT-Extended 3.x (a migration fixture).

It does not run on Flask-JWT-Extended 4.x as written. After ``python -m flask_jwt_guard.migrate``
its tests (``test_blog.py``) pass against Flask-JWT-Guard: what the migration rewrites suffices
here. The lines marked "needs a person" are those the migration must report.
"""

import flask_jwt_extended
from flask import Flask, jsonify, request
from flask.views import MethodView
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    fresh_jwt_required,
    get_jwt_claims,
    get_jwt_identity,
    get_raw_jwt,
    jwt_optional,
    jwt_refresh_token_required,
    jwt_required,
)
from flask_jwt_extended.utils import get_raw_jwt_header
from flask_jwt_extended.view_decorators import verify_jwt_in_request_optional

AUTHORS = {"ada": {"password": "engine", "role": "editor"}, "tim": {"password": "www", "role": "writer"}}
POSTS = [{"title": "Hello", "draft": False}, {"title": "Notes", "draft": True}]


class Config:
    JWT_SECRET_KEY = "blog-secret-" + "0123456789abcdef" * 3
    # The blacklist was never switched on here.
    JWT_BLACKLIST_ENABLED = False  # needs a person
    JWT_BLACKLIST_TOKEN_CHECKS = ["access", "refresh"]  # needs a person


class StatsView(MethodView):
    decorators = [jwt_required]

    def get(self):
        return jsonify(posts=len(POSTS), viewer=get_jwt_identity())


def ping():
    return jsonify(pong=get_jwt_identity())


def create_app():
    app = Flask(__name__)
    app.config.from_object(Config)
    jwt = JWTManager(app)  # needs a person

    @jwt.user_claims_loader  # needs a person
    def add_role(identity):
        return {"role": AUTHORS.get(identity, {}).get("role", "guest")}

    @jwt.unauthorized_loader
    def missing_token(reason):
        return jsonify(error=reason), 401

    @app.route("/login", methods=["POST"])
    def login():
        name = request.json.get("username", "")
        if AUTHORS.get(name, {}).get("password") != request.json.get("password"):
            return jsonify(error="bad credentials"), 401
        return jsonify(
            access_token=create_access_token(identity=name, fresh=True),
            refresh_token=create_refresh_token(identity=name),
        )

    @app.route("/api-key", methods=["POST"])
    def api_key():
        token = create_access_token(
            identity="reporting-service",
            user_claims={"scope": "read"},  # needs a person
        )
        return jsonify(access_token=token)

    @app.route("/refresh", methods=["POST"])
    @jwt_refresh_token_required
    def refresh():
        return jsonify(access_token=create_access_token(identity=get_jwt_identity(), fresh=False))

    @app.route("/posts")
    @jwt_optional
    def posts():
        reader = get_jwt_identity()
        return jsonify(posts=[p["title"] for p in POSTS if reader or not p["draft"]], reader=reader)

    @app.route("/drafts")
    @jwt_required
    def drafts():
        return jsonify(drafts=[p["title"] for p in POSTS if p["draft"]])

    @app.route("/publish", methods=["POST"])
    @fresh_jwt_required
    def publish():
        return jsonify(published_by=get_jwt_identity())

    @app.route("/whoami")
    def whoami():
        verify_jwt_in_request_optional()
        return jsonify(name=get_jwt_identity() or "anonymous")

    @app.route("/token-info")
    @flask_jwt_extended.jwt_required
    def token_info():
        return jsonify(type=get_raw_jwt()["type"], algorithm=get_raw_jwt_header()["alg"])

    @app.route("/role")
    @jwt_required
    def role():
        claims = get_jwt_claims()  # needs a person
        return jsonify(role=claims["role"], scope=claims.get("scope"))

    app.add_url_rule("/stats", view_func=StatsView.as_view("stats"))
    app.add_url_rule("/ping", view_func=jwt_optional(ping))
    return app
