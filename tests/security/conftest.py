"""Fixtures of the attack suite (plain helpers are in ``forge.py``).

Keys and apps are built once per session: keys are immutable, and an app is never
changed after it is built.  What a test may change, its jti blocklist, is its own:
``hs``, ``rs``, ``es`` and ``ed`` pair the shared app with a new empty blocklist
for every test.  Hypothesis tests, which run many examples per test, use the
``shared_*`` apps (read-only: they refuse ``revoke``).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .forge import KeyPair, SecApp, asym_app, key_pair, security_app

# --- keys


@pytest.fixture(scope="session")
def rsa_keys() -> KeyPair:
    return key_pair("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def other_rsa_keys() -> KeyPair:
    return key_pair("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def ec_keys() -> KeyPair:
    return key_pair("ES256", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="session")
def ec384_keys() -> KeyPair:
    return key_pair("ES384", ec.generate_private_key(ec.SECP384R1()))


@pytest.fixture(scope="session")
def ed_keys() -> KeyPair:
    return key_pair("EdDSA", ed25519.Ed25519PrivateKey.generate())


# --- apps: shared and read-only


@pytest.fixture(scope="session")
def shared_hs() -> SecApp:
    """HS256, all four locations."""
    return security_app()


@pytest.fixture(scope="session")
def shared_rs(rsa_keys: KeyPair) -> SecApp:
    return asym_app(rsa_keys)


@pytest.fixture(scope="session")
def shared_es(ec_keys: KeyPair) -> SecApp:
    return asym_app(ec_keys, "ES256")


@pytest.fixture(scope="session")
def shared_ed(ed_keys: KeyPair) -> SecApp:
    return asym_app(ed_keys, "EdDSA")


# --- apps: with a blocklist of this test's own


@pytest.fixture
def hs(shared_hs: SecApp) -> SecApp:
    return shared_hs.for_test()


@pytest.fixture
def rs(shared_rs: SecApp) -> SecApp:
    return shared_rs.for_test()


@pytest.fixture
def es(shared_es: SecApp) -> SecApp:
    return shared_es.for_test()


@pytest.fixture
def ed(shared_ed: SecApp) -> SecApp:
    return shared_ed.for_test()
