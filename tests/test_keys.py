"""Key sets with ``kid`` rotation (``JWT_SIGNING_KEYS``) and the JWKS endpoint."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm, RSAPSSAlgorithm
from jwt.utils import base64url_encode

import flask_jwt_guard as guard
from flask_jwt_guard.exceptions import ConfigurationError
from flask_jwt_guard.keys import PRIVATE_MEMBERS
from tests.helpers import Env, make_app


def private_jwk(alg: str, kid: str) -> dict[str, Any]:
    """A freshly generated private JWK for ``alg``, with ``kid`` and ``alg`` set."""
    jwk: dict[str, Any]
    if alg.startswith("HS"):
        jwk = json.loads(HMACAlgorithm.to_jwk(b"k" * 64))
    elif alg.startswith("RS"):
        jwk = RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048), as_dict=True)
    elif alg.startswith("PS"):
        jwk = RSAPSSAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048), as_dict=True)
    elif alg == "EdDSA":
        jwk = OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate(), as_dict=True)
    else:
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[alg]
        jwk = ECAlgorithm.to_jwk(ec.generate_private_key(curve), as_dict=True)
    jwk.update(kid=kid, alg=alg)
    return jwk


@pytest.fixture(scope="module")
def rsa_jwks() -> list[dict[str, Any]]:
    return [private_jwk("RS256", "2026-12"), private_jwk("RS256", "2026-11")]


def key_app(keys: list[dict[str, Any]], **config: Any) -> Env:
    return make_app(guard, {"JWT_SIGNING_KEYS": {"keys": keys}, **config}, secret=None)


def header_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


@pytest.mark.parametrize(
    "alg", ["RS256", "RS512", "PS256", "PS384", "ES256", "ES384", "ES512", "EdDSA", "HS256"]
)
def test_every_algorithm_family_signs_and_verifies_with_its_kid(alg: str) -> None:
    env = key_app([private_jwk(alg, f"{alg}-1")])
    token = env.access_token("alice")
    assert header_of(token) == {"alg": alg, "kid": f"{alg}-1", "typ": "JWT"}
    assert env.get("/protected", token) == (
        200,
        {"identity": "alice", "location": "headers", "type": "access"},
    )


def test_rotation_old_tokens_verify_new_ones_carry_the_new_kid(rsa_jwks: list[dict[str, Any]]) -> None:
    old_env = key_app(rsa_jwks[1:])
    old_token = old_env.access_token("alice")
    rotated = key_app(rsa_jwks)  # a new key put first; the old one kept
    assert rotated.get("/protected", old_token)[0] == 200
    new_token = rotated.access_token("alice")
    assert header_of(new_token)["kid"] == "2026-12"
    dropped = key_app(rsa_jwks[:1])  # the old key dropped: its tokens are refused
    assert dropped.get("/protected", old_token) == (422, {"msg": "Unknown key ID (kid)"})
    assert dropped.get("/protected", new_token)[0] == 200


def test_unknown_or_malformed_kid_is_422(rsa_jwks: list[dict[str, Any]]) -> None:
    env = key_app(rsa_jwks)
    token = env.access_token("alice")
    head, body, signature = token.split(".")
    for kid in ("nobody", 5, None, ["2026-12"]):
        header = {"alg": "RS256", "typ": "JWT", **({"kid": kid} if kid is not None else {})}
        forged = f"{base64url_encode(json.dumps(header).encode()).decode()}.{body}.{signature}"
        status, response = env.get("/protected", forged)
        assert status == 422, (kid, response)


def test_a_tokens_alg_must_equal_its_keys_alg() -> None:
    rs, ps = private_jwk("RS256", "rs"), private_jwk("PS256", "ps")
    env = key_app([rs, ps])
    token = env.access_token("alice")  # RS256 by the first key
    # The same signature relabelled, and the kid swapped: no algorithm switching per key.
    head = header_of(token)
    for header in ({**head, "alg": "PS256"}, {**head, "kid": "ps"}, {**head, "alg": "HS256"}):
        relabelled = base64url_encode(json.dumps(header).encode()).decode() + token[token.index(".") :]
        assert env.get("/protected", relabelled)[0] == 422


def test_hmac_token_keyed_with_the_public_key_is_refused(rsa_jwks: list[dict[str, Any]]) -> None:
    env = key_app(rsa_jwks)
    public = env.jwt.jwks(env.app)["keys"][0]
    pem_ish = json.dumps(public).encode()
    header = base64url_encode(json.dumps({"alg": "HS256", "kid": "2026-12"}).encode()).decode()
    payload = base64url_encode(json.dumps({"sub": "mallory"}).encode()).decode()
    signature = HMACAlgorithm(HMACAlgorithm.SHA256).sign(f"{header}.{payload}".encode(), pem_ish)
    forged = f"{header}.{payload}.{base64url_encode(signature).decode()}"
    assert env.get("/protected", forged)[0] == 422


def test_jwks_endpoint_serves_public_members_only(rsa_jwks: list[dict[str, Any]]) -> None:
    keys = [*rsa_jwks, private_jwk("ES384", "ec"), private_jwk("EdDSA", "ed"), private_jwk("HS256", "hs")]
    env = key_app(keys, JWT_JWKS_URL_RULE="/.well-known/jwks.json", JWT_JWKS_MAX_AGE=600)
    response = env.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=600"
    served = response.get_json()["keys"]
    assert [jwk["kid"] for jwk in served] == ["2026-12", "2026-11", "ec", "ed"]  # no shared secret
    for jwk in served:
        assert not PRIVATE_MEMBERS & set(jwk), jwk
        assert jwk["use"] == "sig"
    assert served == env.jwt.jwks(env.app)["keys"]
    # A verifier with only the public set accepts our tokens.
    import jwt as pyjwt

    token = env.access_token("alice")
    public = pyjwt.PyJWKSet.from_dict({"keys": served})[header_of(token)["kid"]]
    assert pyjwt.decode(token, public.key, algorithms=["RS256"])["sub"] == "alice"


def test_key_set_from_json_string_and_file(tmp_path: Path, rsa_jwks: list[dict[str, Any]]) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": rsa_jwks}))
    for value in (json.dumps({"keys": rsa_jwks}), str(path), path):
        env = make_app(guard, {"JWT_SIGNING_KEYS": value}, secret=None)
        assert env.get("/protected", env.access_token("alice"))[0] == 200


@pytest.mark.parametrize(
    ("value", "extra"),
    [
        ({"keys": []}, {}),
        ({"keys": [{"kty": "oct", "k": "AAAA", "alg": "HS256"}]}, {}),  # no kid
        ({"keys": [{"kty": "oct", "k": "AAAA", "kid": "a"}]}, {}),  # no alg
        ({"keys": [{"kty": "oct", "k": "AAAA", "kid": "a", "alg": "none"}]}, {}),
        ({"nokeys": 1}, {}),
        ("/no/such/file.json", {}),
        ("{not json", {}),
        ("KEYSET", {"JWT_SECRET_KEY": "s" * 40}),  # a key set and a secret together
        ("KEYSET", {"JWT_PRIVATE_KEY": "x"}),
    ],
)
def test_bad_key_sets_are_configuration_errors(
    value: Any, extra: dict[str, Any], rsa_jwks: list[dict[str, Any]]
) -> None:
    if value == "KEYSET":
        value = {"keys": rsa_jwks}
    with pytest.raises(ConfigurationError, match="JWT_SIGNING_KEYS"):
        make_app(guard, {"JWT_SIGNING_KEYS": value, **extra}, secret=None)


def test_oidc_settings_need_issuer_and_audience() -> None:
    with pytest.raises(ConfigurationError, match="JWT_DECODE_ISSUER"):
        make_app(guard, {"JWT_OIDC_ISSUER": "https://id.example.test"}, secret=None)


def test_own_key_set_and_a_providers_keys_together(rsa_jwks: list[dict[str, Any]]) -> None:
    from tests.servers.jwks_server import JWKSServer, SigningKey, jwk_set

    provider_key = SigningKey("idp-1")
    server = JWKSServer().start()
    try:
        server.serve(jwk_set(provider_key))
        env = key_app(
            rsa_jwks,
            JWT_JWKS_URI=server.url(),
            JWT_DECODE_ISSUER="https://idp.example.test",
            JWT_DECODE_AUDIENCE="orders",
            JWT_ENCODE_ISSUER="https://idp.example.test",
            JWT_ENCODE_AUDIENCE="orders",
        )
        ours = env.access_token("alice")  # signed by our first key
        theirs = provider_key.token(iss="https://idp.example.test", aud="orders", sub="bob")
        assert env.get("/protected", ours)[1]["identity"] == "alice"
        assert env.get("/protected", theirs)[1]["identity"] == "bob"
        assert env.get("/protected", provider_key.token(iss="https://idp.example.test", aud="x"))[0] == 422
    finally:
        server.stop()
