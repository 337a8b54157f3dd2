"""Asymmetric algorithms: RS256, PS256, ES256, EdDSA; JWT_PUBLIC_KEY/JWT_PRIVATE_KEY."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.helpers import SECRET, Env, make_app, shared_claim_names

ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]


def _pem_pair(private: Any) -> tuple[str, str]:
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _generate(kind: str) -> tuple[str, str]:
    if kind == "rsa":
        return _pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if kind == "ec":
        return _pem_pair(ec.generate_private_key(ec.SECP256R1()))
    return _pem_pair(ed25519.Ed25519PrivateKey.generate())


KIND = {"RS256": "rsa", "PS256": "rsa", "ES256": "ec", "EdDSA": "ed"}


@pytest.fixture(scope="module")
def keys() -> Mapping[str, tuple[str, str]]:
    """Two (private PEM, public PEM) pairs per key kind: ``rsa``, ``rsa2``, ``ec``, ...

    Module-scoped (key generation is slow), hence read-only.
    """
    out = {}
    for kind in ("rsa", "ec", "ed"):
        out[kind] = _generate(kind)
        out[kind + "2"] = _generate(kind)
    return MappingProxyType(out)


def asym_config(keys: Mapping[str, tuple[str, str]], algorithm: str, **extra: Any) -> dict[str, Any]:
    private, public = keys[KIND[algorithm]]
    return {
        "JWT_ALGORITHM": algorithm,
        "JWT_PRIVATE_KEY": private,
        "JWT_PUBLIC_KEY": public,
        "JWT_SECRET_KEY": None,
        **extra,
    }


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sign_and_verify(make_env: Callable[..., Env], keys: Any, algorithm: str) -> None:
    env = make_env(**asym_config(keys, algorithm))
    token = env.access_token("alice")
    assert pyjwt.get_unverified_header(token) == {"alg": algorithm, "typ": "JWT"}
    public = keys[KIND[algorithm]][1]
    assert pyjwt.decode(token, public, algorithms=[algorithm])["sub"] == "alice"
    assert env.get("/protected", token) == (
        200,
        {"identity": "alice", "location": "headers", "type": "access"},
    )
    assert env.get("/refresh", env.refresh_token("alice"))[1]["type"] == "refresh"
    assert env.decode(token)["sub"] == "alice"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_token_from_other_key_rejected(make_env: Callable[..., Env], keys: Any, algorithm: str) -> None:
    env = make_env(**asym_config(keys, algorithm))
    other_private = keys[KIND[algorithm] + "2"][0]
    forged = pyjwt.encode({"sub": "mallory"}, other_private, algorithm=algorithm)
    assert env.get("/protected", forged) == (422, {"msg": "Signature verification failed"})


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_tampered_payload_rejected(make_env: Callable[..., Env], keys: Any, algorithm: str) -> None:
    env = make_env(**asym_config(keys, algorithm))
    header, _, signature = env.access_token("alice").split(".")
    claims = env.decode(env.access_token("alice"))
    claims["sub"] = "admin"
    forged = ".".join([header, b64(json.dumps(claims).encode()), signature])
    assert env.get("/protected", forged) == (422, {"msg": "Signature verification failed"})


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_hmac_token_refused(make_env: Callable[..., Env], keys: Any, algorithm: str) -> None:
    env = make_env(**asym_config(keys, algorithm))
    token = pyjwt.encode({"sub": "x"}, SECRET, algorithm="HS256")
    assert env.get("/protected", token) == (422, {"msg": "The specified alg value is not allowed"})


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_public_key_as_hmac_secret_refused(make_env: Callable[..., Env], keys: Any, algorithm: str) -> None:
    # Algorithm confusion: an HS256 token "signed" with the public key.
    env = make_env(**asym_config(keys, algorithm))
    public = keys[KIND[algorithm]][1]
    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(b'{"sub":"admin"}')
    signature = hmac.new(public.encode(), signing_input.encode(), hashlib.sha256).digest()
    status, _ = env.get("/protected", signing_input + "." + b64(signature))
    assert status == 422


def test_key_bytes_accepted(make_env: Callable[..., Env], keys: Any) -> None:
    private, public = keys["rsa"]
    env = make_env(
        JWT_ALGORITHM="RS256",
        JWT_PRIVATE_KEY=private.encode(),
        JWT_PUBLIC_KEY=public.encode(),
    )
    assert env.get("/protected", env.access_token())[0] == 200


def test_secret_key_not_needed(make_env: Callable[..., Env], keys: Any) -> None:
    env = make_env(**asym_config(keys, "ES256"), SECRET_KEY=None)
    assert env.get("/protected", env.access_token())[0] == 200


# --- JWT_DECODE_ALGORITHMS -------------------------------------------------------------------


def test_decode_algorithms_allows_listed(make_env: Callable[..., Env], keys: Any) -> None:
    # PS256 app that still accepts RS256 tokens signed by the same RSA key.
    env = make_env(**asym_config(keys, "PS256", JWT_DECODE_ALGORITHMS=["RS256"]))
    private = keys["rsa"][0]
    rs256 = pyjwt.encode({"sub": "old"}, private, algorithm="RS256")
    assert env.get("/protected", rs256)[1]["identity"] == "old"
    # its own algorithm is always accepted
    assert env.get("/protected", env.access_token("new"))[1]["identity"] == "new"


def test_decode_algorithms_default_is_only_own(make_env: Callable[..., Env], keys: Any) -> None:
    env = make_env(**asym_config(keys, "PS256"))
    rs256 = pyjwt.encode({"sub": "old"}, keys["rsa"][0], algorithm="RS256")
    assert env.get("/protected", rs256) == (422, {"msg": "The specified alg value is not allowed"})


def test_decode_algorithms_hmac(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_DECODE_ALGORITHMS=["HS256", "HS512"])
    hs512 = pyjwt.encode({"sub": "h"}, SECRET, algorithm="HS512")
    hs384 = pyjwt.encode({"sub": "h"}, SECRET, algorithm="HS384")
    assert env.get("/protected", hs512)[0] == 200
    assert env.get("/protected", hs384) == (422, {"msg": "The specified alg value is not allowed"})


def test_hs512_algorithm(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_ALGORITHM="HS512")
    token = env.access_token()
    assert pyjwt.get_unverified_header(token)["alg"] == "HS512"
    assert env.get("/protected", token)[0] == 200
    assert env.get("/protected", pyjwt.encode({"sub": "a"}, SECRET, algorithm="HS256")) == (
        422,
        {"msg": "The specified alg value is not allowed"},
    )


# --- missing keys ----------------------------------------------------------------------------


def test_missing_public_key_names_key(lib: Any, keys: Any) -> None:
    env = make_app(lib, {"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": keys["rsa"][0]})
    with pytest.raises(Exception) as info:  # noqa: B017 - type is the library's choice
        env.get("/protected", env.access_token())
    assert "JWT_PUBLIC_KEY" in str(info.value)


def test_missing_private_key_names_key(lib: Any, keys: Any) -> None:
    with pytest.raises(Exception) as info:  # noqa: B017 - type is the library's choice
        env = make_app(lib, {"JWT_ALGORITHM": "ES256", "JWT_PUBLIC_KEY": keys["ec"][1]})
        env.access_token()
    assert "JWT_PRIVATE_KEY" in str(info.value)


# --- differential / interoperability ----------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_asymmetric_differential(differential: Callable[..., Any], keys: Any, algorithm: str) -> None:
    other_private = keys[KIND[algorithm] + "2"][0]

    def scenario(env: Env) -> Any:
        token = env.access_token("a", fresh=True)
        return [
            pyjwt.get_unverified_header(token),
            shared_claim_names(env.decode(token)),
            env.get("/fresh", token),
            env.get("/protected", pyjwt.encode({"sub": "m"}, other_private, algorithm=algorithm)),
            env.get("/protected", token[:-4] + "AAAA"),
        ]

    results = differential(scenario, config=asym_config(keys, algorithm))
    assert results[0]["alg"] == algorithm


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_asymmetric_interoperability(lib_pair: Any, keys: Any, algorithm: str) -> None:
    writer, reader = (make_app(lib, asym_config(keys, algorithm)) for lib in lib_pair)
    assert reader.get("/protected", writer.access_token("i"))[1]["identity"] == "i"


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_key_objects_accepted(make_env: Callable[..., Env], keys: Any, algorithm: str) -> None:
    private_pem, public_pem = keys[KIND[algorithm]]
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public = serialization.load_pem_public_key(public_pem.encode())
    env = make_env(JWT_ALGORITHM=algorithm, JWT_PRIVATE_KEY=private, JWT_PUBLIC_KEY=public)
    token = env.access_token("obj")
    assert pyjwt.decode(token, public_pem, algorithms=[algorithm])["sub"] == "obj"
    assert env.get("/protected", token)[1]["identity"] == "obj"


def test_hmac_secret_as_bytes(make_env: Callable[..., Env]) -> None:
    key = b"\x00\x01binary-secret-" + bytes(range(40))
    env = make_env(JWT_SECRET_KEY=key)
    token = env.access_token()
    assert pyjwt.decode(token, key, algorithms=["HS256"])["sub"] == "alice"
    assert env.get("/protected", token)[0] == 200


def test_switching_keys_at_runtime(make_env: Callable[..., Env], keys: Any) -> None:
    env = make_env(**asym_config(keys, "ES256"))
    old = env.access_token()
    env.app.config["JWT_PRIVATE_KEY"], env.app.config["JWT_PUBLIC_KEY"] = keys["ec2"]
    assert env.get("/protected", old) == (422, {"msg": "Signature verification failed"})
    assert env.get("/protected", env.access_token())[0] == 200
