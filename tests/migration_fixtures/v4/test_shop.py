"""Tests of the shop fixture app; they know nothing of which library serves it."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from shop import SECRET, create_app


@pytest.fixture
def client():
    return create_app().test_client()


def login(client, username="alice", password="wonderland"):
    response = client.post("/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    return response.json


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_login_and_protected_view(client):
    tokens = login(client)
    response = client.get("/orders", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json == {"orders": [], "owner": "alice"}


def test_bad_credentials(client):
    response = client.post("/login", json={"username": "alice", "password": "nope"})
    assert response.status_code == 401


def test_no_token(client):
    response = client.get("/orders")
    assert response.status_code == 401
    assert response.json["msg"] == "log in first"


def test_optional_view(client):
    assert client.get("/catalog").json["shopper"] is None
    token = login(client, "bob", "builder")["access_token"]
    assert client.get("/catalog", headers=bearer(token)).json["shopper"] == "bob"


def test_refresh_and_freshness(client):
    tokens = login(client)
    assert client.post("/checkout", headers=bearer(tokens["access_token"])).json == {"paid_by": "alice"}
    response = client.post("/refresh", headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 200
    stale = response.json["access_token"]
    assert client.post("/checkout", headers=bearer(stale)).status_code == 401
    assert client.post("/checkout/express", headers=bearer(stale)).status_code == 401
    express = client.post("/checkout/express", headers=bearer(tokens["access_token"]))
    assert express.json == {"paid_by": "alice", "express": True}
    assert client.get("/whoami").status_code == 401
    assert client.get("/whoami", headers=bearer(stale)).json == {"me": "alice"}
    assert client.get("/orders", headers=bearer(stale)).status_code == 200


def test_refresh_needs_a_refresh_token(client):
    tokens = login(client)
    assert client.post("/refresh", headers=bearer(tokens["access_token"])).status_code == 422


def test_claims(client):
    admin = login(client)["access_token"]
    response = client.get("/admin", headers=bearer(admin))
    assert response.json == {"algorithm": "HS256", "user": "alice"}
    customer = login(client, "bob", "builder")["access_token"]
    assert client.get("/admin", headers=bearer(customer)).status_code == 403


def test_logout_revokes_the_token(client):
    token = login(client)["access_token"]
    assert client.delete("/logout", headers=bearer(token)).status_code == 200
    assert client.get("/orders", headers=bearer(token)).status_code == 401


def test_expired_token(client):
    now = datetime.now(UTC)
    claims = {"sub": "bob", "type": "access", "fresh": False, "jti": "j1"}
    token = jwt.encode({**claims, "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)}, SECRET)
    response = client.get("/orders", headers=bearer(token))
    assert response.status_code == 401
    assert response.json == {"msg": "token of bob expired"}


def test_cookies_and_csrf(client):
    client.post("/login/cookie")
    assert client.get("/orders").json["owner"] == "bob"
    assert client.post("/checkout").status_code == 401  # no CSRF header
