"""Strict parsing of the Authorization header (second review round, family 6).

RFC 7235 (section 2.1) and RFC 6750 (section 2.1) put only SP (0x20) between the
scheme and the token.  ``str.split()`` also splits on NBSP, NEL, the C0
separators 0x1C-0x1F, tab, VT and FF, so a lenient parser accepts credentials
that proxies, WAFs and loggers in front of the app read differently.  Those
separators are refused (tab too).  Headers are put raw into the WSGI environ: a
server decodes header bytes as latin-1, so a UTF-8 NBSP arrives as ``"\\xc2\\xa0"``.

Two Bearer credentials in one header are an error (401 or 422 with a message of
its own), never "no token": an optional route must not answer them anonymously,
and a route must not fall through to a token in a later location.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from .forge import (
    INVALID,
    MISSING,
    SecApp,
    assert_accepted,
    assert_rejected,
    security_app,
)

# Raw environ text between "Bearer" and the token.
SEPARATORS = {
    "nbsp-latin1": "\xa0",
    "nbsp-utf8": "\xc2\xa0",
    "nel-latin1": "\x85",
    "nel-utf8": "\xc2\x85",
    "en-quad-utf8": "\xe2\x80\x80",  # U+2000
    "em-space-utf8": "\xe2\x80\x83",  # U+2003
    "ideographic-space-utf8": "\xe3\x80\x80",  # U+3000
    "file-separator": "\x1c",
    "group-separator": "\x1d",
    "record-separator": "\x1e",
    "unit-separator": "\x1f",
    "tab": "\t",
    "vertical-tab": "\x0b",
    "form-feed": "\x0c",
    "space-then-nbsp": " \xa0",
    "nbsp-then-space": "\xa0 ",
    "space-then-tab": " \t",
}


def _auth(sec: SecApp, value: str, path: str = "/protected", query: str | None = None) -> Any:
    return sec.client.get(path, environ_overrides={"HTTP_AUTHORIZATION": value}, query_string=query)


@pytest.mark.parametrize("separator", list(SEPARATORS))
def test_non_space_separator_refused(hs: SecApp, separator: str) -> None:
    token = hs.access("alice")
    resp = _auth(hs, f"Bearer{SEPARATORS[separator]}{token}")
    assert_rejected(resp, (MISSING, INVALID), token=token)


@pytest.mark.parametrize("separator", list(SEPARATORS))
def test_non_space_separator_on_optional_route(hs: SecApp, separator: str) -> None:
    """Not alice: either anonymous (no Bearer credential was sent) or refused."""
    token = hs.access("alice")
    resp = _auth(hs, f"Bearer{SEPARATORS[separator]}{token}", path="/optional")
    if resp.status_code == 200:
        assert resp.get_json() == {"identity": None}
    else:
        assert_rejected(resp, (MISSING, INVALID), token=token)


@pytest.mark.parametrize("path", ["/protected", "/optional"])
def test_control_single_space_accepted(hs: SecApp, path: str) -> None:
    assert_accepted(_auth(hs, f"Bearer {hs.access('alice')}", path=path))


# {t}: alice's token, {m}: mallory's, {f}: a forged one.
TWO_BEARERS = {
    "same-token-twice": "Bearer {t}, Bearer {t}",
    "two-users": "Bearer {t}, Bearer {m}",
    "no-space-after-comma": "Bearer {t},Bearer {m}",
    "forged-then-valid": "Bearer {f}, Bearer {t}",
    "valid-then-forged": "Bearer {t}, Bearer {f}",
    "other-scheme-between": "Bearer {t}, Basic YWxhZGRpbjpvcGVuc2VzYW1l, Bearer {m}",
    "three-bearers": "Bearer {t}, Bearer {t}, Bearer {t}",
}


def _two(hs: SecApp, case: str) -> tuple[str, str]:
    t, m = hs.access("alice"), hs.access("mallory")
    return TWO_BEARERS[case].format(t=t, m=m, f=t[:-6] + "AAAAAA"), m


def assert_refused_not_missing(resp: Any, mallory: str) -> None:
    assert_rejected(resp, (401, INVALID), token=mallory, secrets=("mallory",))
    message = resp.get_json()["msg"]
    assert "missing" not in message.lower(), f"refused as if no token had been sent: {message!r}"


@pytest.mark.parametrize("path", ["/protected", "/optional"])
@pytest.mark.parametrize("case", list(TWO_BEARERS))
def test_two_bearer_credentials_are_an_error(hs: SecApp, case: str, path: str) -> None:
    value, mallory = _two(hs, case)
    assert_refused_not_missing(_auth(hs, value, path=path), mallory)


@pytest.mark.parametrize("path", ["/protected", "/optional"])
@pytest.mark.parametrize("case", ["same-token-twice", "two-users"])
def test_two_bearer_credentials_do_not_fall_through(hs: SecApp, case: str, path: str) -> None:
    """The next location (``?jwt=``, from a link) is not tried instead."""
    value, mallory = _two(hs, case)
    resp = _auth(hs, value, path=path, query="jwt=" + quote(mallory, safe=""))
    assert_refused_not_missing(resp, mallory)


@pytest.mark.parametrize("path", ["/protected", "/optional"])
def test_two_authorization_header_lines(hs: SecApp, path: str) -> None:
    """A repeated header line reaches the app joined with commas (as servers join it)."""
    t, m = hs.access("alice"), hs.access("mallory")
    headers = [("Authorization", f"Bearer {t}"), ("Authorization", f"Bearer {m}")]
    assert_refused_not_missing(hs.client.get(path, headers=headers), m)


# JWT_HEADER_TYPE = "": the header holds the bare token.  RFC 9110 (5.5) trims only
# OWS (SP, HTAB) around a field value; other "whitespace" is part of the value.
NOT_OWS = {name: text for name, text in SEPARATORS.items() if text.strip(" \t")}


@pytest.fixture(scope="module")
def bare() -> SecApp:
    return security_app(JWT_HEADER_TYPE="")


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("character", list(NOT_OWS))
def test_bare_token_mode_keeps_non_ows_characters(bare: SecApp, character: str, where: str) -> None:
    token = bare.access("alice")
    text = NOT_OWS[character]
    value = text + token if where == "before" else token + text
    assert_rejected(_auth(bare, value), (MISSING, INVALID), token=token)


@pytest.mark.parametrize("ows", [" ", "\t", " \t "])
def test_bare_token_mode_trims_ows(bare: SecApp, ows: str) -> None:
    assert_accepted(_auth(bare, f"{ows}{bare.access('alice')}{ows}"))
