"""A small shop API written for Flask-JWT-Extended 4.x (a migration fixture).

Its tests (``test_shop.py``) pass against Flask-JWT-Extended as written, and against
Flask-JWT-Guard after ``python -m flask_jwt_guard.migrate``.
"""

from datetime import timedelta
from functools import partial

import flask_jwt_extended as fje
from flask import Flask, jsonify, request
from flask.views import MethodView
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    current_user,
    get_jwt,
    get_jwt_identity,
    jwt_required,
    set_access_cookies,
)
from flask_jwt_extended.exceptions import NoAuthorizationError
from flask_jwt_extended.utils import get_jwt_header
from flask_jwt_extended.view_decorators import verify_jwt_in_request

SECRET = "shop-secret-" + "0123456789abcdef" * 3

USERS = {
    "alice": {"password": "wonderland", "role": "admin"},
    "bob": {"password": "builder", "role": "customer"},
}


#: 4.x's jwt_required is a decorator factory: these use it as a value, as written.
fresh_required = partial(jwt_required, fresh=True)


def protected(view, guard=jwt_required):
    return guard()(view)


class OrdersView(MethodView):
    decorators = [jwt_required()]  # every method needs a token

    def get(self):
        return jsonify(orders=[], owner=get_jwt_identity())


def create_app():
    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = SECRET
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(minutes=5)
    app.config["JWT_TOKEN_LOCATION"] = ["headers", "cookies"]
    app.config["JWT_COOKIE_SECURE"] = False
    jwt = JWTManager(app)
    revoked = set()  # the jti of each token logged out

    @jwt.additional_claims_loader
    def add_role(identity):
        return {"role": USERS[identity]["role"]}

    @jwt.user_lookup_loader
    def load_user(_jwt_header, jwt_payload):
        return {"name": jwt_payload["sub"], **USERS[jwt_payload["sub"]]}

    @jwt.token_in_blocklist_loader
    def is_revoked(_jwt_header, jwt_payload):
        return jwt_payload["jti"] in revoked

    @jwt.expired_token_loader
    def expired(_jwt_header, jwt_payload):
        return jsonify(msg=f"token of {jwt_payload['sub']} expired"), 401

    @app.errorhandler(NoAuthorizationError)
    def no_token(error):
        return jsonify(msg="log in first", detail=str(error)), 401

    @app.post("/login")
    def login():
        name = request.json.get("username", "")
        if USERS.get(name, {}).get("password") != request.json.get("password"):
            return jsonify(msg="bad credentials"), 401
        return jsonify(
            access_token=create_access_token(identity=name, fresh=True),
            refresh_token=create_refresh_token(identity=name),
        )

    @app.post("/login/cookie")
    def login_cookie():
        response = jsonify(msg="logged in")
        set_access_cookies(response, create_access_token(identity="bob"))
        return response

    @app.post("/refresh")
    @jwt_required(refresh=True)
    def refresh():
        return jsonify(access_token=create_access_token(identity=get_jwt_identity(), fresh=False))

    @app.get("/catalog")
    @jwt_required(optional=True)
    def catalog():
        return jsonify(items=["tea", "cake"], shopper=get_jwt_identity())

    @app.post("/checkout")
    @jwt_required(fresh=True)
    def checkout():
        return jsonify(paid_by=current_user["name"])

    @app.get("/admin")
    def admin():
        verify_jwt_in_request()
        if get_jwt()["role"] != "admin":
            return jsonify(msg="admins only"), 403
        return jsonify(algorithm=get_jwt_header()["alg"], user=fje.get_jwt_identity())

    @app.delete("/logout")
    @jwt_required()
    def logout():
        revoked.add(get_jwt()["jti"])
        return jsonify(msg="logged out")

    @app.post("/checkout/express")
    @fresh_required()
    def express_checkout():
        return jsonify(paid_by=get_jwt_identity(), express=True)

    def whoami():
        return jsonify(me=get_jwt_identity())

    app.add_url_rule("/orders", view_func=OrdersView.as_view("orders"))
    app.add_url_rule("/whoami", view_func=protected(whoami))
    return app
