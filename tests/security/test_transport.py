"""Transport: Authorization header parsing, CR/LF and control characters, the
double-submit CSRF check, cookie tossing and method override."""

from __future__ import annotations

from typing import Any

import pytest

from .forge import (
    CANARY_SUB,
    CSRF_FAILED,
    INVALID,
    MISSING,
    SecApp,
    assert_accepted,
    assert_rejected,
    assert_safe,
    csrf_of,
    send,
)

BAD_HEADER = (MISSING, INVALID)


def _auth(hs: SecApp, value: str, **kwargs: Any) -> Any:
    return hs.client.get("/protected", environ_overrides={"HTTP_AUTHORIZATION": value}, **kwargs)


# value templates: {t} valid token of alice, {m} valid token of mallory, {f} forged token
REFUSED_HEADERS = {
    "scheme-only": "Bearer",
    "scheme-and-space": "Bearer ",
    "two-tokens": "Bearer {t} {t}",
    "two-bearers-same-user": "Bearer {t}, Bearer {t}",
    "two-bearers-two-users": "Bearer {t}, Bearer {m}",
    "forged-then-valid": "Bearer {f}, Bearer {t}",
    "valid-then-forged": "Bearer {t}, Bearer {f}",
    "token-without-scheme": "{t}",
    "basic-scheme": "Basic YWxpY2U6cGFzc3dvcmQ=",
    "token-as-basic": "Basic {t}",
    "crlf-inside-token": "Bearer {t10}\r\n{trest}",
    "crlf-header-injection": "Bearer {t}\r\nX-Injected: 1",
    "lf-inside-token": "Bearer {t10}\n{trest}",
    "nul-after-token": "Bearer {t}\x00",
    "nul-inside-token": "Bearer {t10}\x00{trest}",
    "del-after-token": "Bearer {t}\x7f",
    "esc-before-token": "Bearer \x1b{t}",
    "latin1-after-token": "Bearer {t}\xe9",
    "scheme-glued": "Bearer{t}",
    "equals-separator": "Bearer={t}",
    "colon-separator": "Bearer: {t}",
    "quoted-token": 'Bearer "{t}"',
    "token-param": "Bearer token={t}",
}
# Lenient spellings of a valid credential: the same identity or a clean refusal.
TOLERATED_HEADERS = {
    "tab-separator": "Bearer\t{t}",
    "nbsp-separator": "Bearer\xa0{t}",
    "two-spaces": "Bearer  {t}",
    "lower-case-scheme": "bearer {t}",
    "upper-case-scheme": "BEARER {t}",
    "surrounding-spaces": "  Bearer {t}  ",
    "trailing-comma": "Bearer {t},",
    "other-scheme-first": "Basic YWxpY2U6cGFzc3dvcmQ=, Bearer {t}",
    "trailing-crlf": "Bearer {t}\r\n",
    "vt-after-token": "Bearer {t}\x0b",
    "fs-after-token": "Bearer {t}\x1c",
}


def _fill(hs: SecApp, template: str) -> tuple[str, str]:
    t = hs.access("alice")
    m = hs.access("mallory")
    f = hs.access(CANARY_SUB)[:-6] + "AAAAAA"
    value = template.format(t=t, m=m, f=f, t10=t[:10], trest=t[10:])
    return value, t


@pytest.mark.parametrize("case", list(REFUSED_HEADERS))
def test_malformed_authorization_header(hs: SecApp, case: str) -> None:
    value, token = _fill(hs, REFUSED_HEADERS[case])
    assert_rejected(_auth(hs, value), BAD_HEADER, token=token, secrets=("mallory", CANARY_SUB))


@pytest.mark.parametrize("case", list(TOLERATED_HEADERS))
def test_lenient_authorization_header(hs: SecApp, case: str) -> None:
    value, token = _fill(hs, TOLERATED_HEADERS[case])
    assert_safe(_auth(hs, value), token=token, identity="alice")


@pytest.mark.parametrize("case", ["crlf", "nul", "tab", "latin1"])
@pytest.mark.parametrize("where", ["query_string", "json", "cookies"])
def test_control_characters_in_other_locations(hs: SecApp, case: str, where: str) -> None:
    char = {"crlf": "\r\n", "nul": "\x00", "tab": "\t", "latin1": "\xe9"}[case]
    valid = hs.access("alice")
    token = valid[:10] + char + valid[10:]
    assert_rejected(send(hs.client, where, token, csrf=csrf_of(valid)), BAD_HEADER, token=token)


# --- CSRF double submit


def _csrf_cases(real: str, other: str) -> dict[str, str]:
    return {
        "empty": "",
        "whitespace": "   ",
        "prefix": real[:-1],
        "first-char": real[:1],
        "extended": real + "0",
        "leading-space": " " + real,
        "upper-case": real.upper(),
        "other-users-csrf": other,
        "10KB": "a" * 10240,
        "1MB": real * ((1 << 20) // len(real)),
        "non-ascii-prefix": "\xe9" + real,
        "non-ascii-last-char": real[:-1] + "\xe9",
        "non-ascii-only": "\xff",
        "utf8-bytes-of-euro": "\xe2\x82\xac",
        "nul": real + "\x00",
        "nul-only": "\x00",
        "comma-list": f"{real}, {real}",
    }


CSRF_CASE_NAMES = list(_csrf_cases("x" * 36, "y" * 36))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("case", CSRF_CASE_NAMES)
def test_csrf_value_refused(hs: SecApp, method: str, case: str) -> None:
    token = hs.access(CANARY_SUB)
    other = hs.access("mallory")
    csrf = _csrf_cases(csrf_of(token), csrf_of(other))[case]
    resp = send(hs.client, "cookies", token, method=method, csrf=csrf)
    assert_rejected(resp, CSRF_FAILED, token=token)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_csrf_header_missing(hs: SecApp, method: str) -> None:
    token = hs.access(CANARY_SUB)
    resp = hs.client.open(
        "/protected",
        method=method,
        environ_overrides={"HTTP_COOKIE": f"access_token_cookie={token}"},
    )
    assert_rejected(resp, CSRF_FAILED, token=token)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "GET"])
def test_csrf_control_correct_value(hs: SecApp, method: str) -> None:
    assert_accepted(send(hs.client, "cookies", hs.access(), method=method))


def test_csrf_in_form_field_not_accepted_by_default(hs: SecApp) -> None:
    token = hs.access(CANARY_SUB)
    resp = hs.client.post(
        "/protected",
        data={"csrf_token": csrf_of(token)},
        environ_overrides={"HTTP_COOKIE": f"access_token_cookie={token}"},
    )
    assert_rejected(resp, CSRF_FAILED, token=token)


OVERRIDES = {
    "x-http-method-override": {"HTTP_X_HTTP_METHOD_OVERRIDE": "GET"},
    "x-http-method": {"HTTP_X_HTTP_METHOD": "GET"},
    "x-method-override": {"HTTP_X_METHOD_OVERRIDE": "GET"},
}


@pytest.mark.parametrize("case", [*OVERRIDES, "query-_method"])
def test_method_override_does_not_skip_csrf(hs: SecApp, case: str) -> None:
    token = hs.access(CANARY_SUB)
    environ = {"HTTP_COOKIE": f"access_token_cookie={token}", **OVERRIDES.get(case, {})}
    qs = "_method=GET" if case == "query-_method" else ""
    resp = hs.client.post("/protected", query_string=qs, environ_overrides=environ)
    assert_rejected(resp, CSRF_FAILED, token=token)


# --- cookie tossing


@pytest.mark.parametrize("csrf_from", ["attacker", "victim"])
def test_cookie_tossing_never_authenticates_the_attacker(hs: SecApp, csrf_from: str) -> None:
    """A sibling subdomain plants ``access_token_cookie`` for the parent domain;
    browsers send it first.  The victim must never be acting as the attacker."""
    attacker = hs.access("mallory")
    victim = hs.access("alice")
    csrf = csrf_of(attacker if csrf_from == "attacker" else victim)
    environ = {
        "HTTP_COOKIE": f"access_token_cookie={attacker}; access_token_cookie={victim}",
        "HTTP_X_CSRF_TOKEN": csrf,
    }
    resp = hs.client.post("/protected", environ_overrides=environ)
    assert resp.status_code < 500
    if resp.status_code == 200:
        assert resp.get_json()["identity"] == "alice"
    else:
        assert_rejected(resp, (MISSING, INVALID, CSRF_FAILED), secrets=("mallory",))


def test_duplicate_query_parameter_is_not_a_bypass(hs: SecApp) -> None:
    forged = hs.access(CANARY_SUB)[:-6] + "AAAAAA"
    valid = hs.access("alice")
    resp = hs.client.get("/protected", query_string=f"jwt={valid}&jwt={forged}")
    assert_safe(resp, token=forged, identity="alice")
    resp = hs.client.get("/protected", query_string=f"jwt={forged}&jwt={valid}")
    assert_safe(resp, token=forged, identity="alice")
    mallory = hs.access("mallory")
    resp = hs.client.get("/protected", query_string=f"jwt={mallory}&jwt={valid}")
    assert resp.status_code < 500


def test_errors_are_json_without_request_echo(hs: SecApp) -> None:
    resp = _auth(hs, "Bearer <script>alert(1)</script>")
    assert_rejected(resp, BAD_HEADER, secrets=("<script>",))
