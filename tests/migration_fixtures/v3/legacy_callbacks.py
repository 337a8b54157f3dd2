"""Flask-JWT-Extended 3.x code that needs a person after the migration (a migration fixture).

Nothing runs it: ``tests/test_migrate.py`` checks that the migration reports each line marked
"needs a person", and no other line.
"""

from flask import jsonify
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    get_jwt_claims,
    get_raw_jwt,
    verify_jwt_in_request_optional,
)
from flask_jwt_extended.config import config  # needs a person

jwt = JWTManager()  # needs a person
BLOCKLIST = set()


def configure(app):
    app.config["JWT_BLACKLIST_ENABLED"] = True  # needs a person
    app.config["JWT_BLACKLIST_TOKEN_CHECKS"] = ["access"]  # needs a person
    app.config["JWT_USER_CLAIMS"] = "claims"  # needs a person
    app.before_request(verify_jwt_in_request_optional)  # needs a person
    jwt.init_app(app)
    return config.algorithm


@jwt.expired_token_loader  # needs a person
def expired(expired_token):
    return jsonify(msg=f"{expired_token['type']} token expired"), 401


@jwt.revoked_token_loader  # needs a person
def revoked():
    return jsonify(msg="revoked"), 401


@jwt.needs_fresh_token_loader  # needs a person
def needs_fresh():
    return jsonify(msg="log in again"), 401


@jwt.user_loader_callback_loader  # needs a person
def load_user(identity):
    return {"name": identity}


@jwt.user_loader_error_loader  # needs a person
def user_not_found(identity):
    return jsonify(msg=f"no user {identity}"), 401


@jwt.token_in_blacklist_loader  # needs a person
def in_blacklist(decrypted_token):
    return decrypted_token["jti"] in BLOCKLIST


@jwt.claims_verification_loader  # needs a person
def claims_ok(user_claims):
    return "role" in user_claims


@jwt.claims_verification_failed_loader  # needs a person
def claims_failed():
    return jsonify(msg="bad claims"), 400


@jwt.invalid_token_loader
def invalid(reason):
    return jsonify(msg=reason), 422


jwt.decode_key_loader(lambda claims, headers: "key-of-" + claims["iss"])  # needs a person


def all_claims():
    return get_jwt_claims()  # needs a person


def identity_claim():
    return get_raw_jwt()["identity"]  # needs a person


def nested_claims():
    return get_raw_jwt()["user_claims"]  # needs a person


def admin_token(name):
    return create_access_token(name, user_claims={"type": "admin"})  # needs a person
