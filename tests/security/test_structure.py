"""Token structure: tampering, segment counts, JSON serialization and
non-canonical base64url (RFC 7515 section 2 and 7.1, RFC 8725 section 3.11)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .forge import (
    CANARY_SUB,
    INVALID,
    LOCATIONS,
    REVOKED,
    SecApp,
    assert_accepted,
    assert_rejected,
    assert_safe,
    b64d,
    b64e,
    jdump,
    send,
    split,
    statuses_for,
)

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _flip_char(seg: str, index: int) -> str:
    c = seg[index]
    replacement = "B" if c != "B" else "C"
    return seg[:index] + replacement + seg[index + 1 :]


def _other(hs: SecApp) -> str:
    return hs.access("mallory")


TAMPERS: dict[str, Callable[[SecApp, str], str]] = {
    "header-typ-changed": lambda hs, t: ".".join(
        [b64e(jdump({"alg": "HS256", "typ": "JWS"})), *split(t)[1:]]
    ),
    "header-extra-member": lambda hs, t: ".".join(
        [b64e(jdump({"alg": "HS256", "typ": "JWT", "x": 1})), *split(t)[1:]]
    ),
    "payload-sub-admin": lambda hs, t: ".".join(
        [split(t)[0], b64e(jdump({**json.loads(b64d(split(t)[1])), "sub": "admin"})), split(t)[2]]
    ),
    "payload-exp-extended": lambda hs, t: ".".join(
        [
            split(t)[0],
            b64e(jdump({**json.loads(b64d(split(t)[1])), "exp": 4102444800})),
            split(t)[2],
        ]
    ),
    "payload-from-other-token": lambda hs, t: ".".join([split(t)[0], split(_other(hs))[1], split(t)[2]]),
    "signature-from-other-token": lambda hs, t: ".".join([*split(t)[:2], split(_other(hs))[2]]),
    "signature-first-char": lambda hs, t: ".".join([*split(t)[:2], _flip_char(split(t)[2], 0)]),
    "signature-middle-char": lambda hs, t: ".".join([*split(t)[:2], _flip_char(split(t)[2], 20)]),
    "signature-truncated": lambda hs, t: t[:-4],
    "signature-doubled": lambda hs, t: t + split(t)[2],
    "signature-reversed": lambda hs, t: ".".join([*split(t)[:2], split(t)[2][::-1]]),
    "segments-swapped": lambda hs, t: ".".join([split(t)[1], split(t)[0], split(t)[2]]),
    "1-segment": lambda hs, t: split(t)[0],
    "2-segments": lambda hs, t: ".".join(split(t)[:2]),
    "2-segments-trailing-dot": lambda hs, t: ".".join(split(t)[:2]) + ".",
    "4-segments": lambda hs, t: t + "." + split(t)[2],
    "4-segments-empty-last": lambda hs, t: t + ".",
    "5-segments-jwe-shape": lambda hs, t: t + ".AAAA.AAAA",
    "leading-dot": lambda hs, t: "." + t,
    "empty": lambda hs, t: "",
    "one-dot": lambda hs, t: ".",
    "two-dots": lambda hs, t: "..",
    "three-dots": lambda hs, t: "...",
    "jws-json-flattened": lambda hs, t: json.dumps(
        {"protected": split(t)[0], "payload": split(t)[1], "signature": split(t)[2]}
    ),
    "jws-json-general": lambda hs, t: json.dumps(
        {
            "payload": split(t)[1],
            "signatures": [{"protected": split(t)[0], "signature": split(t)[2]}],
        }
    ),
    "bearer-prefix-inside": lambda hs, t: "Bearer " + t,
    "quoted": lambda hs, t: f'"{t}"',
}

# The empty token is "missing" in some locations (401) and malformed in others (422).
EMPTYISH = {"empty": (401, 422)}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", list(TAMPERS))
def test_tampered_or_malformed(hs: SecApp, location: str, case: str) -> None:
    valid = hs.access(CANARY_SUB)
    token = TAMPERS[case](hs, valid)
    assert token != valid
    resp = send(hs.client, location, token)
    if case == "quoted" and location == "cookies":
        # RFC 6265 cookie-value may be DQUOTE-wrapped: the parser unquotes it.
        assert_safe(resp, token=token, identity=CANARY_SUB)
        return
    expected = EMPTYISH.get(case, (INVALID,) if case != "bearer-prefix-inside" else (401, 422))
    assert_rejected(resp, statuses_for(location, token, expected), token=token)


# --- non-canonical base64url


def _swap_alphabet(seg: str) -> str:
    return seg.replace("-", "+").replace("_", "/")


def _trailing_bits(seg: str) -> str:
    """Same decoded bytes for a lax decoder, different text: flip unused low bits."""
    unused = {2: 4, 3: 2}.get(len(seg) % 4, 0)
    assert unused, "segment length has no unused bits"
    idx = B64URL.index(seg[-1])
    return seg[:-1] + B64URL[idx ^ 1]


def _sig(fn: Callable[[str], str]) -> Callable[[str], str]:
    return lambda t: ".".join([*split(t)[:2], fn(split(t)[2])])


def _hdr(fn: Callable[[str], str]) -> Callable[[str], str]:
    return lambda t: ".".join([fn(split(t)[0]), *split(t)[1:]])


def _pay(fn: Callable[[str], str]) -> Callable[[str], str]:
    return lambda t: ".".join([split(t)[0], fn(split(t)[1]), split(t)[2]])


REENCODINGS: dict[str, Callable[[str], str]] = {
    "sig-one-pad": _sig(lambda s: s + "="),
    "sig-two-pads": _sig(lambda s: s + "=="),
    "sig-std-alphabet": _sig(_swap_alphabet),
    "sig-trailing-bits": _sig(_trailing_bits),
    "sig-junk-bang": _sig(lambda s: s + "!"),
    "sig-junk-tilde": _sig(lambda s: s + "~"),
    "sig-junk-percent": _sig(lambda s: s + "%"),
    "sig-junk-nul": _sig(lambda s: s + "\x00"),
    "sig-junk-latin1": _sig(lambda s: s + "\xe9"),
    "sig-inner-space": _sig(lambda s: s[:10] + " " + s[10:]),
    "sig-inner-newline": _sig(lambda s: s[:10] + "\n" + s[10:]),
    "sig-inner-pad": _sig(lambda s: s[:8] + "=" + s[8:]),
    "hdr-pad": _hdr(lambda s: s + "=" * (-len(s) % 4 or 4)),
    "hdr-std-alphabet-or-junk": _hdr(lambda s: _swap_alphabet(s) + "*"),
    "hdr-trailing-bits": _hdr(lambda s: _trailing_bits(s) if len(s) % 4 else s + "!"),
    "pay-pad": _pay(lambda s: s + "=" * (-len(s) % 4 or 4)),
    "pay-junk": _pay(lambda s: s + "@"),
    "pay-trailing-bits": _pay(lambda s: _trailing_bits(s) if len(s) % 4 else s + "!"),
}


def _token_with_rich_signature(hs: SecApp, identity: str) -> str:
    """A token whose signature contains '-' and '_' and has unused trailing bits."""
    for _ in range(500):
        token = hs.access(identity)
        sig = split(token)[2]
        if "-" in sig and "_" in sig:
            return token
    raise AssertionError("could not mint a token with '-' and '_' in its signature")


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", list(REENCODINGS))
def test_non_canonical_base64url(hs: SecApp, location: str, case: str) -> None:
    valid = _token_with_rich_signature(hs, CANARY_SUB)
    token = REENCODINGS[case](valid)
    assert token != valid
    expected = statuses_for(location, token, INVALID)
    assert_rejected(send(hs.client, location, token), expected, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", [c for c in REENCODINGS if c.startswith("sig-")])
def test_revoked_token_reencoded_stays_revoked(hs: SecApp, location: str, case: str) -> None:
    valid = _token_with_rich_signature(hs, CANARY_SUB)
    hs.revoke(valid)
    assert_rejected(send(hs.client, location, valid), REVOKED, token=valid)
    token = REENCODINGS[case](valid)
    expected = statuses_for(location, token, (REVOKED, INVALID))
    assert_rejected(send(hs.client, location, token), expected, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_control_rich_signature_token_accepted(hs: SecApp, location: str) -> None:
    assert_accepted(send(hs.client, location, _token_with_rich_signature(hs, "alice")))
