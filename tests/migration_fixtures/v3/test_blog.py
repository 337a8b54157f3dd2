"""Tests of the blog fixture app, as written for Flask-JWT-Extended 3.x."""

import pytest
from blog import create_app
from flask_jwt_extended import create_access_token, decode_token


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username="ada", password="engine"):
    response = client.post("/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    return response.json


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_login_and_protected_view(client):
    token = login(client)["access_token"]
    assert client.get("/drafts", headers=bearer(token)).json == {"drafts": ["Notes"]}
    assert client.get("/stats", headers=bearer(token)).json == {"posts": 2, "viewer": "ada"}


def test_missing_token(client):
    response = client.get("/drafts")
    assert response.status_code == 401
    assert response.json == {"error": "Missing Authorization Header"}
    assert client.get("/stats").status_code == 401


def test_optional_views(client):
    assert client.get("/posts").json == {"posts": ["Hello"], "reader": None}
    assert client.get("/whoami").json == {"name": "anonymous"}
    assert client.get("/ping").json == {"pong": None}
    token = login(client, "tim", "www")["access_token"]
    assert client.get("/posts", headers=bearer(token)).json == {"posts": ["Hello", "Notes"], "reader": "tim"}
    assert client.get("/whoami", headers=bearer(token)).json == {"name": "tim"}
    assert client.get("/ping", headers=bearer(token)).json == {"pong": "tim"}


def test_refresh_and_freshness(client):
    tokens = login(client)
    assert client.post("/publish", headers=bearer(tokens["access_token"])).json == {"published_by": "ada"}
    refreshed = client.post("/refresh", headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    stale = refreshed.json["access_token"]
    assert client.post("/publish", headers=bearer(stale)).status_code == 401
    assert client.get("/drafts", headers=bearer(stale)).status_code == 200
    assert client.post("/refresh", headers=bearer(stale)).status_code == 422


def test_token_not_fresh_when_made_so(app, client):
    with app.app_context():
        token = create_access_token(identity="ada", fresh=False)
        assert decode_token(token)["type"] == "access"
    assert client.post("/publish", headers=bearer(token)).status_code == 401


def test_token_info(client):
    token = login(client)["access_token"]
    assert client.get("/token-info", headers=bearer(token)).json == {"type": "access", "algorithm": "HS256"}


def test_claims(client):
    token = login(client)["access_token"]
    assert client.get("/role", headers=bearer(token)).json == {"role": "editor", "scope": None}
    service = client.post("/api-key").json["access_token"]
    assert client.get("/role", headers=bearer(service)).json["scope"] == "read"
