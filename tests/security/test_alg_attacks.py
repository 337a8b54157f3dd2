"""Algorithm attacks (RFC 8725 sections 2.1, 2.3, 3.1, 3.2).

alg=none, HMAC keyed with the server's public key, algorithms outside the
allow-list, RSA padding and curve mismatches, and the all-zero ECDSA signature.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.helpers import SECRET

from .forge import (
    CANARY_SUB,
    INVALID,
    LOCATIONS,
    KeyPair,
    SecApp,
    assert_accepted,
    assert_rejected,
    asym_app,
    b64e,
    hs_sign,
    jdump,
    key_pair,
    self_signed_cert,
    send,
    split,
    unverified_payload,
)

# --- alg=none

NONE_SPELLINGS = ["none", "None", "NONE", "nOnE", "none ", ""]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("alg", NONE_SPELLINGS, ids=[repr(a) for a in NONE_SPELLINGS])
@pytest.mark.parametrize("sig", ["empty", "kept", "absent"])
def test_alg_none(hs: SecApp, location: str, alg: str, sig: str) -> None:
    valid = hs.access(CANARY_SUB)
    _, p, s = split(valid)
    h = b64e(jdump({"alg": alg, "typ": "JWT"}))
    token = {"empty": f"{h}.{p}.", "kept": f"{h}.{p}.{s}", "absent": f"{h}.{p}"}[sig]
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


# --- HS256 keyed with the public key


_ENCODINGS_CACHE: dict[int, dict[str, bytes]] = {}


def public_key_encodings(keys: KeyPair) -> dict[str, bytes]:
    if id(keys) not in _ENCODINGS_CACHE:
        _ENCODINGS_CACHE[id(keys)] = _public_key_encodings(keys)
    return _ENCODINGS_CACHE[id(keys)]


def _public_key_encodings(keys: KeyPair) -> dict[str, bytes]:
    pub = keys.public
    enc, fmt = serialization.Encoding, serialization.PublicFormat
    out = {
        "pem-spki": keys.public_pem.encode(),
        "pem-spki-stripped": keys.public_pem.strip().encode(),
        "der-spki": pub.public_bytes(enc.DER, fmt.SubjectPublicKeyInfo),
        "openssh": pub.public_bytes(enc.OpenSSH, fmt.OpenSSH),
        "cert-pem": self_signed_cert(keys).public_bytes(enc.PEM),
        "cert-der": self_signed_cert(keys).public_bytes(enc.DER),
    }
    if keys.alg.startswith("RS"):
        out["pem-pkcs1"] = pub.public_bytes(enc.PEM, fmt.PKCS1)
        out["der-pkcs1"] = pub.public_bytes(enc.DER, fmt.PKCS1)
        out["jwk"] = pyjwt.algorithms.RSAAlgorithm.to_jwk(pub).encode()
    elif keys.alg.startswith("ES"):
        out["x962-uncompressed"] = pub.public_bytes(enc.X962, fmt.UncompressedPoint)
        out["x962-compressed"] = pub.public_bytes(enc.X962, fmt.CompressedPoint)
        out["jwk"] = pyjwt.algorithms.ECAlgorithm.to_jwk(pub).encode()
    else:
        out["raw"] = pub.public_bytes(enc.Raw, fmt.Raw)
        out["jwk"] = pyjwt.algorithms.OKPAlgorithm.to_jwk(pub).encode()
    return out


CONFUSION_KEYS = {
    "rsa": ("rsa_keys", "RS256"),
    "ec": ("ec_keys", "ES256"),
    "ed25519": ("ed_keys", "EdDSA"),
}
ENCODINGS = {
    "rsa": ["pem-spki", "pem-spki-stripped", "der-spki", "openssh", "cert-pem", "cert-der"]
    + ["pem-pkcs1", "der-pkcs1", "jwk"],
    "ec": ["pem-spki", "pem-spki-stripped", "der-spki", "openssh", "cert-pem", "cert-der"]
    + ["x962-uncompressed", "x962-compressed", "jwk"],
    "ed25519": ["pem-spki", "pem-spki-stripped", "der-spki", "openssh", "cert-pem", "cert-der"]
    + ["raw", "jwk"],
}
CONFUSION_CASES = [
    (family, encoding, hs_alg)
    for family, encodings in ENCODINGS.items()
    for encoding in encodings
    for hs_alg in ("HS256", "HS512")
    if hs_alg == "HS256" or encoding == "pem-spki"
]


@pytest.fixture(scope="module")
def confusion_apps(request: pytest.FixtureRequest) -> dict[tuple[str, bool], tuple[SecApp, Any]]:
    apps = {}
    for family, (fixture, alg) in CONFUSION_KEYS.items():
        keys = request.getfixturevalue(fixture)
        apps[family, False] = (asym_app(keys, alg), keys)
        # Misconfigured: HS and asymmetric algorithms both allowed (warns at start-up).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mixed = asym_app(keys, alg, JWT_DECODE_ALGORITHMS=[alg, "HS256", "HS512"])
        apps[family, True] = (mixed, keys)
    return apps


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("mixed", [False, True], ids=["asym-only", "mixed-allowlist"])
@pytest.mark.parametrize(
    ("family", "encoding", "hs_alg"), CONFUSION_CASES, ids=["-".join(c) for c in CONFUSION_CASES]
)
def test_hmac_keyed_with_public_key(
    confusion_apps: dict[tuple[str, bool], tuple[SecApp, Any]],
    location: str,
    mixed: bool,
    family: str,
    encoding: str,
    hs_alg: str,
) -> None:
    app, keys = confusion_apps[family, mixed]
    claims = unverified_payload(app.access(CANARY_SUB))
    key = public_key_encodings(keys)[encoding]
    digest = hashlib.sha256 if hs_alg == "HS256" else hashlib.sha512
    token = hs_sign({"alg": hs_alg, "typ": "JWT"}, claims, key, digest)
    assert_rejected(send(app.client, location, token), INVALID, token=token)


# --- allow-list


ODD_ALGS: list[Any] = [
    "HS384",
    "HS512",
    "hs256",
    "Hs256",
    "HS256 ",
    " HS256",
    "HS256\x00",
    "HS2560",
    "HS25",
    256,
    None,
    True,
    ["HS256"],
    {"alg": "HS256"},
    "MISSING",
]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("alg", ODD_ALGS, ids=[repr(a) for a in ODD_ALGS])
def test_alg_outside_allowlist_with_real_secret(hs: SecApp, location: str, alg: Any) -> None:
    """MACed with the real secret; only the ``alg`` header is wrong."""
    claims = unverified_payload(hs.access(CANARY_SUB))
    header: dict[str, Any] = {"typ": "JWT"}
    if alg != "MISSING":
        header["alg"] = alg
    digest = {"HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(str(alg), hashlib.sha256)
    token = hs_sign(header, claims, SECRET, digest)
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


def test_control_valid_token_accepted_everywhere(hs: SecApp) -> None:
    token = hs.access()
    for location in LOCATIONS:
        assert_accepted(send(hs.client, location, token))


# --- padding / curve mismatches


def _asym_token(claims: dict[str, Any], key: Any, alg: str) -> str:
    if alg.startswith("ES") and isinstance(key, ec.EllipticCurvePrivateKey):
        # By hand, so that a key on the "wrong" curve can sign (PyJWT refuses to).
        digest = {"ES256": hashes.SHA256(), "ES384": hashes.SHA384()}.get(alg, hashes.SHA256())
        h = b64e(jdump({"alg": alg, "typ": "JWT"}))
        signing_input = f"{h}.{b64e(jdump(claims))}"
        der = key.sign(signing_input.encode(), ec.ECDSA(digest))
        r, s = decode_dss_signature(der)
        size = (key.curve.key_size + 7) // 8
        return f"{signing_input}.{b64e(r.to_bytes(size, 'big') + s.to_bytes(size, 'big'))}"
    return pyjwt.encode(claims, key, algorithm=alg)


MISMATCH_CASES = [
    # (app alg, app key fixture, token alg, signing key fixture)
    ("RS256", "rsa_keys", "PS256", "rsa_keys"),
    ("RS256", "rsa_keys", "RS384", "rsa_keys"),
    ("RS256", "rsa_keys", "RS512", "rsa_keys"),
    ("RS256", "rsa_keys", "RS256", "other_rsa_keys"),
    ("PS256", "rsa_keys", "RS256", "rsa_keys"),
    ("PS256", "rsa_keys", "PS512", "rsa_keys"),
    ("ES256", "ec_keys", "ES384", "ec384_keys"),
    ("ES256", "ec_keys", "ES256", "ec384_keys"),
    ("ES256", "ec_keys", "ES256K", "secp256k1_keys"),
    ("ES256", "ec_keys", "ES256", "other_ec_keys"),
    ("ES384", "ec384_keys", "ES256", "ec_keys"),
    ("EdDSA", "ed_keys", "EdDSA", "other_ed_keys"),
    ("EdDSA", "ed_keys", "ES256", "ec_keys"),
    ("RS256", "rsa_keys", "ES256", "ec_keys"),
    ("ES256", "ec_keys", "RS256", "rsa_keys"),
]


@pytest.fixture(scope="module")
def other_ec_keys() -> KeyPair:
    return key_pair("ES256", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="module")
def secp256k1_keys() -> KeyPair:
    return key_pair("ES256K", ec.generate_private_key(ec.SECP256K1()))


@pytest.fixture(scope="module")
def other_ed_keys() -> KeyPair:
    return key_pair("EdDSA", ed25519.Ed25519PrivateKey.generate())


@pytest.fixture(scope="module")
def asym_apps(request: pytest.FixtureRequest) -> dict[tuple[str, str], SecApp]:
    apps = {}
    for app_alg, app_key, _, _ in MISMATCH_CASES:
        if (app_alg, app_key) not in apps:
            apps[app_alg, app_key] = asym_app(request.getfixturevalue(app_key), app_alg)
    return apps


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize(
    ("app_alg", "app_key", "tok_alg", "tok_key"),
    MISMATCH_CASES,
    ids=[f"app-{a}-token-{t}-{k.removesuffix('_keys')}" for a, _, t, k in MISMATCH_CASES],
)
def test_signature_family_and_curve_mismatch(
    request: pytest.FixtureRequest,
    asym_apps: dict[tuple[str, str], SecApp],
    location: str,
    app_alg: str,
    app_key: str,
    tok_alg: str,
    tok_key: str,
) -> None:
    app = asym_apps[app_alg, app_key]
    claims = unverified_payload(app.access(CANARY_SUB))
    signer = request.getfixturevalue(tok_key).private
    token = _asym_token(claims, signer, tok_alg)
    assert_rejected(send(app.client, location, token), INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "ES384", "EdDSA"])
def test_control_asymmetric_tokens_accepted(
    request: pytest.FixtureRequest,
    asym_apps: dict[tuple[str, str], SecApp],
    location: str,
    alg: str,
) -> None:
    key = {"RS256": "rsa_keys", "PS256": "rsa_keys", "ES256": "ec_keys"}.get(alg)
    key = key or {"ES384": "ec384_keys", "EdDSA": "ed_keys"}[alg]
    app = asym_apps.get((alg, key)) or asym_app(request.getfixturevalue(key), alg)
    assert_accepted(send(app.client, location, app.access()))


# --- psychic signatures

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _raw_sig(r: int, s: int, size: int = 32) -> str:
    return b64e(r.to_bytes(size, "big") + s.to_bytes(size, "big"))


ZERO_SIGS = {
    "r0-s0": _raw_sig(0, 0),
    "r-n-s-n": _raw_sig(P256_N, P256_N),
    "r0-s1": _raw_sig(0, 1),
    "r1-s0": _raw_sig(1, 0),
    "der-r0-s0": b64e(bytes.fromhex("3006020100020100")),
    "one-zero-byte": b64e(b"\x00"),
    "empty": "",
    "short-zeros": b64e(bytes(63)),
    "long-zeros": b64e(bytes(65)),
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("sig", list(ZERO_SIGS))
def test_ecdsa_psychic_signature(es: SecApp, location: str, sig: str) -> None:
    """CVE-2022-21449: r = s = 0 (and friends) must never verify."""
    h, p, _ = split(es.access(CANARY_SUB))
    token = f"{h}.{p}.{ZERO_SIGS[sig]}"
    assert_rejected(send(es.client, location, token), INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize(
    ("app_fixture", "size"), [("rs", 256), ("ed", 64)], ids=["rsa-zeros", "ed25519-zeros"]
)
def test_all_zero_signature_other_families(
    request: pytest.FixtureRequest, location: str, app_fixture: str, size: int
) -> None:
    app = request.getfixturevalue(app_fixture)
    h, p, _ = split(app.access(CANARY_SUB))
    token = f"{h}.{p}.{b64e(bytes(size))}"
    assert_rejected(send(app.client, location, token), INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_hs_token_with_empty_or_guessable_secret(hs: SecApp, location: str) -> None:
    claims = unverified_payload(hs.access(CANARY_SUB))
    for secret in (b"", b"secret", b"\x00" * 32, SECRET.encode()[:-1]):
        token = hs_sign({"alg": "HS256", "typ": "JWT"}, claims, secret)
        assert_rejected(send(hs.client, location, token), INVALID, token=token)


def test_hmac_helper_matches_library(hs: SecApp) -> None:
    """Guards the suite: our hand-made HS256 tokens are accepted when honest."""
    claims = unverified_payload(hs.access())
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, claims, SECRET)
    assert_accepted(send(hs.client, "headers", token))
