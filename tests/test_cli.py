"""The ``flask jwt`` commands, run as the real ``flask`` command against examples/cli_app.py.

The example keeps revocations in a SQLite file (``CLI_APP_JWT_REVOCATION_STORE``), so that a
``revoke`` in a ``flask`` process is seen by the same app built here, in the test process,
whose test client then calls the API. Independent invocations run side by side to keep the
file quick; the breadth of option parsing is covered in-process (``CliRunner``, the parsers).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from flask.testing import FlaskClient

from examples import cli_app
from flask_jwt_guard import create_access_token, decode_token
from flask_jwt_guard.cli import jwt_cli, mask_url, parse_claim, parse_identity, parse_lifetime, utc_time

ROOT = Path(__file__).resolve().parent.parent
SECRET = "example-only-secret-change-me-0123456789abcdef"  # examples/cli_app.py's
ENV_PREFIX = "CLI_APP_"

Run = subprocess.CompletedProcess[str]


def flask_jwt(*args: str, env: Mapping[str, str]) -> Run:
    """``flask --app examples.cli_app jwt ARGS`` in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "examples.cli_app", "jwt", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def in_parallel(*calls: tuple[tuple[str, ...], Mapping[str, str]]) -> list[Run]:
    """Several independent ``flask jwt`` invocations at once, results in order."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: flask_jwt(*call[0], env=call[1]), calls))


def ok(run: Run) -> str:
    """The stdout of a run that must succeed."""
    assert run.returncode == 0, f"exit {run.returncode}\nstdout: {run.stdout}\nstderr: {run.stderr}"
    return run.stdout


def refused(run: Run, status: int = 1) -> str:
    """The stderr of a run that must fail cleanly: nothing on stdout, no traceback."""
    assert run.returncode == status, f"exit {run.returncode}\nstdout: {run.stdout}\nstderr: {run.stderr}"
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    return run.stderr


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'revocations.sqlite3'}"


@pytest.fixture
def cli_env(store_url: str) -> dict[str, str]:
    """The environment of the ``flask`` processes: ours without CLI_APP_*, and the test's store."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
    env.pop("FLASK_APP", None)
    env[f"{ENV_PREFIX}JWT_REVOCATION_STORE"] = store_url
    return env


@pytest.fixture
def app(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The example app, built here with the same environment as the ``flask`` processes."""
    for key in [key for key in os.environ if key.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(key)
    monkeypatch.setenv(f"{ENV_PREFIX}JWT_REVOCATION_STORE", cli_env[f"{ENV_PREFIX}JWT_REVOCATION_STORE"])
    return cli_app.create_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def invoke(app: Flask) -> Iterator[Callable[..., Result]]:
    """``jwt ARGS`` in this process, on ``app`` (for what needs no new process)."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(jwt_cli, list(args), obj=ScriptInfo(create_app=lambda: app))

    yield run


def claims_of(app: Flask, token: str) -> dict[str, Any]:
    with app.app_context():
        return decode_token(token)


def token_for(app: Flask, identity: str) -> str:
    with app.app_context():
        return create_access_token(identity)


# --------------------------------------------------------------------------- the real command


def test_create_call_decode_revoke(app: Flask, client: FlaskClient, cli_env: dict[str, str]) -> None:
    help_run, access_run, refresh_run = in_parallel(
        (("--help",), cli_env),
        (("create-token", "alice"), cli_env),
        (("create-token", "alice", "--refresh"), cli_env),
    )
    for command in ("create-token", "decode", "revoke", "check-config"):
        assert command in ok(help_run)
    # stdout is the token alone: TOKEN=$(flask jwt create-token alice) works.
    access, refresh = ok(access_run).strip(), ok(refresh_run).strip()
    assert access_run.stdout == access + "\n" and access_run.stderr == ""
    assert access.count(".") == 2 and refresh.count(".") == 2
    assert client.get("/protected", headers=bearer(access)).get_json()["user"] == "alice"
    assert client.post("/refresh", headers=bearer(refresh)).status_code == 200

    decoded = json.loads(ok(flask_jwt("decode", access, env=cli_env)))
    assert decoded["header"] == {"alg": "HS256", "typ": "JWT"}
    claims = decoded["claims"]
    assert claims["sub"] == "alice" and claims["type"] == "access" and claims == claims_of(app, access)
    assert claims["exp"] - claims["iat"] == 900  # JWT_ACCESS_TOKEN_EXPIRES by default
    assert decoded["times"] == {name: utc_time(claims[name]) for name in ("iat", "nbf", "exp")}
    assert decoded["times"]["exp"].endswith("Z") and decoded["verified"] is True

    # Log out of the access token's session: the refresh token (another session) still works.
    revoked = flask_jwt("revoke", "--session", access, env=cli_env)
    assert ok(revoked) == "" and f"Revoked session {claims['sid']} of 'alice'" in revoked.stderr
    response = client.get("/protected", headers=bearer(access))
    assert (response.status_code, response.get_json()) == (401, {"msg": "Token has been revoked"})
    assert client.post("/refresh", headers=bearer(refresh)).status_code == 200

    # Log out everywhere; then a single token by jti (with its identity) and by the token itself.
    bob_by_jti, bob_by_token = token_for(app, "bob"), token_for(app, "bob")
    jti = claims_of(app, bob_by_jti)["jti"]
    decode_revoked, everywhere, by_jti, by_token = in_parallel(
        (("decode", access), cli_env),
        (("revoke", "--identity", "alice"), cli_env),
        (("revoke", "--jti", jti, "--identity", "bob"), cli_env),
        (("revoke", "--token", bob_by_token), cli_env),
    )
    assert "Token verification failed: Token has been revoked" in refused(decode_revoked)
    for run in (everywhere, by_jti, by_token):
        assert ok(run) == "" and run.stderr.startswith("Revoked ")
    assert client.post("/refresh", headers=bearer(refresh)).status_code == 401
    for token in (bob_by_jti, bob_by_token):
        assert client.get("/protected", headers=bearer(token)).status_code == 401
    # Tokens made after "log out everywhere" work.
    assert client.get("/protected", headers=bearer(token_for(app, "alice"))).status_code == 200


def test_create_token_options(app: Flask, client: FlaskClient, cli_env: dict[str, str]) -> None:
    claims = ("role=admin", "level=3", "ok=true", 'tags=["a", 1]', 'zip="07"', "note=hello world", "x=NaN")
    args = [arg for claim in claims for arg in ("--claim", claim)]
    line, bad_expiry, bad_claim, refresh_fresh = in_parallel(
        (("create-token", "carol", "--fresh", "--expires", "2h", "--header-format", *args), cli_env),
        (("create-token", "carol", "--expires", "5x"), cli_env),
        (("create-token", "carol", "--claim", "sub=mallory"), cli_env),
        (("create-token", "carol", "--refresh", "--fresh"), cli_env),
    )
    name, _, value = ok(line).strip().partition(": ")
    assert name == "Authorization" and value.startswith("Bearer ")
    token = value.removeprefix("Bearer ")
    response = client.get("/protected", headers={name: value})
    assert response.status_code == 200
    got = response.get_json()["claims"]
    assert {key: got[key] for key in ("role", "level", "ok", "tags", "zip", "note", "x")} == {
        "role": "admin",
        "level": 3,
        "ok": True,
        "tags": ["a", 1],
        "zip": "07",
        "note": "hello world",
        "x": "NaN",
    }
    assert got["sub"] == "carol" and got["fresh"] is True and got["exp"] - got["iat"] == 7200
    assert got == claims_of(app, token)

    assert "Invalid value for '--expires': '5x' is not a lifetime" in refused(bad_expiry, 2)
    assert "the 'sub' claim cannot be set this way: use IDENTITY" in refused(bad_claim, 2)
    assert "refresh tokens are never fresh" in refused(refresh_fresh, 2)


def test_decode_refuses_expired_forged_and_garbage(app: Flask, cli_env: dict[str, str]) -> None:
    now = int(time.time())
    content = {"sub": "alice", "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600, "type": "access"}
    expired = jwt.encode(content, SECRET, algorithm="HS256")
    forged = jwt.encode({**content, "exp": now + 3600}, "another-secret-" + "x" * 32, algorithm="HS256")
    runs = in_parallel(
        (("decode", expired), cli_env),
        (("decode", forged), cli_env),
        (("decode", "--no-verify", forged), cli_env),
        (("decode", "--no-verify", "not-a-token"), cli_env),
    )
    assert f"Token verification failed: Signature has expired (at {utc_time(now - 3600)})" in refused(runs[0])
    assert "Token verification failed: Signature verification failed" in refused(runs[1])
    unverified = json.loads(ok(runs[2]))
    assert unverified["claims"] == {**content, "exp": now + 3600} and unverified["verified"] is False
    assert "The token cannot be parsed: Not enough segments" in refused(runs[3])


def test_check_config(cli_env: dict[str, str]) -> None:
    short = {**cli_env, f"{ENV_PREFIX}JWT_SECRET_KEY": "short-secret"}
    broken = {**cli_env, f"{ENV_PREFIX}JWT_ALGORITHM": "HS999"}
    defaults, weak, invalid = in_parallel(
        (("check-config",), cli_env), (("check-config",), short), (("check-config",), broken)
    )
    rows = {
        line.split()[0]: line.split(None, 2)[1:] for line in ok(defaults).splitlines() if line[:4] == "JWT_"
    }
    assert rows["JWT_SECRET_KEY"] == ["app", f"config  <hidden: {len(SECRET)} bytes>"]
    assert rows["JWT_ALGORITHM"] == ["default", "'HS256'"]
    assert rows["JWT_ACCESS_TOKEN_EXPIRES"] == ["default", "0:15:00"]
    assert rows["JWT_REVOCATION_STORE"][0] == "app"
    assert len(rows) >= 52 and SECRET not in defaults.stdout + defaults.stderr
    assert defaults.stdout.rstrip().endswith("Security warnings: none")

    report = ok(weak)
    assert "short-secret" not in report + weak.stderr
    assert "<hidden: 12 bytes>" in report
    warning = "JWT_SECRET_KEY is 12 bytes long; HMAC secrets should be at least 32 random bytes"
    assert f"Security warnings:\n  - {warning}" in report
    assert weak.stderr == ""  # the warning is in the report, not repeated

    assert "Error: The app's JWT configuration is invalid: JWT_ALGORITHM must be one of" in refused(invalid)


def test_errors_are_messages(cli_env: dict[str, str]) -> None:
    no_store = {**cli_env, f"{ENV_PREFIX}JWT_REVOCATION_STORE": "null"}
    memory = {**cli_env, f"{ENV_PREFIX}JWT_REVOCATION_STORE": '"memory"'}
    weak = {**cli_env, f"{ENV_PREFIX}JWT_SECRET_KEY": "short-secret"}
    runs = in_parallel(
        (("revoke", "--identity", "alice"), no_store),
        (("revoke", "--identity", "alice"), memory),
        (("revoke", "--token", "a.b.c"), cli_env),
        (("create-token", "alice"), weak),
    )
    assert "Error: No revocation store: set JWT_REVOCATION_STORE" in refused(runs[0])
    assert 'JWT_REVOCATION_STORE is "memory"' in refused(runs[1])
    assert "Error: Token verification failed: Invalid header padding" in refused(runs[2])
    # Warnings go to stderr, the token alone to stdout.
    assert ok(runs[3]).count(".") == 2
    assert runs[3].stderr.startswith("Warning: JWT_SECRET_KEY is 12 bytes long")


# --------------------------------------------------------------------------- in process


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("2h", 7200), ("7d", 604800), ("900", 900), (" 1.5H ", 5400), ("0", 0)],
)
def test_lifetimes(text: str, seconds: int) -> None:
    assert parse_lifetime(text) == timedelta(seconds=seconds)


def test_lifetime_never_and_mistakes() -> None:
    assert parse_lifetime("never") is False
    assert parse_lifetime("Never") is False
    for text in ("", "5x", "-5", "m", "1e3", "15 minutes", "never!", "٣s", "9" * 400 + "d"):
        with pytest.raises(ValueError, match="lifetime"):
            parse_lifetime(text)


def test_claims() -> None:
    assert parse_claim("role=admin") == ("role", "admin")
    assert parse_claim("n=3") == ("n", 3)
    assert parse_claim("f=1.5") == ("f", 1.5)
    assert parse_claim("ok=false") == ("ok", False)
    assert parse_claim("none=null") == ("none", None)
    assert parse_claim('obj={"a": [1]}') == ("obj", {"a": [1]})
    assert parse_claim('s="3"') == ("s", "3")
    assert parse_claim("url=a=b") == ("url", "a=b")
    assert parse_claim("empty=") == ("empty", "")
    assert parse_claim("inf=Infinity") == ("inf", "Infinity")
    for text in ("novalue", "=x"):
        with pytest.raises(ValueError, match="KEY=VALUE"):
            parse_claim(text)


def test_create_token_expiry_and_claims_in_process(app: Flask, invoke: Callable[..., Result]) -> None:
    never = invoke("create-token", "dave", "--expires", "never")
    short = invoke("create-token", "dave", "--expires", "30s", "--refresh")
    # This app has a revocation store: a token that never expires would outlive any revocation.
    assert never.exit_code == 1 and "JWT_REVOCATION_STORE" in never.stderr and not never.stdout
    assert short.exit_code == 0, short.output
    refresh = claims_of(app, short.stdout.strip())
    assert refresh["type"] == "refresh" and refresh["exp"] - refresh["iat"] == 30
    twice = invoke("create-token", "dave", "--claim", "a=1", "--claim", "a=2")
    assert twice.exit_code == 2 and "the 'a' claim is given twice" in twice.stderr
    for claim, hint in (
        ("type=refresh", "--refresh"),
        ("exp=1", "--expires"),
        ("sid=x", "set by the library"),
    ):
        result = invoke("create-token", "dave", "--claim", claim)
        assert result.exit_code == 2 and hint in result.stderr


def test_header_format_follows_the_configuration(app: Flask, invoke: Callable[..., Result]) -> None:
    app.config.update(JWT_HEADER_NAME="X-Auth", JWT_HEADER_TYPE="")
    line = invoke("create-token", "erin", "--header-format")
    name, _, token = line.stdout.strip().partition(": ")
    assert name == "X-Auth" and claims_of(app, token)["sub"] == "erin"


def test_revoke_usage(invoke: Callable[..., Result]) -> None:
    cases = {
        (): "say what to revoke",
        ("--jti", "x"): "--jti needs --identity",
        ("--token", "t", "--session", "t"): "not --token and --session",
        ("--session", "t", "--identity", "bob"): "not --session and --identity",
    }
    for args, message in cases.items():
        result = invoke("revoke", *args)
        assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("text", "identity"),
    [
        ("42", 42),
        ("-1.5e2", -150.0),
        ("true", True),
        ("null", None),
        ('"42"', "42"),
        ('"al\\"ice"', 'al"ice'),
        ("alice", "alice"),
        ("", ""),
        ("[1]", "[1]"),
        ('{"id": 1}', '{"id": 1}'),
        ("NaN", "NaN"),
        ("1e999", "1e999"),
        ("0x2a", "0x2a"),
    ],
)
def test_parse_identity(text: str, identity: Any) -> None:
    assert parse_identity(text) == identity and type(parse_identity(text)) is type(identity)


def test_revoke_integer_identity(app: Flask, client: FlaskClient, invoke: Callable[..., Result]) -> None:
    """Regression: ``--identity 42`` revoked the string "42", so the tokens of user 42 still worked."""
    app.config["JWT_IDENTITY_CLAIM"] = "user_id"
    with app.app_context():
        number, text, other = create_access_token(42), create_access_token("42"), create_access_token(7)
    assert claims_of(app, number)["user_id"] == 42
    revoked = invoke("revoke", "--identity", "42")
    assert revoked.exit_code == 0, revoked.output
    assert "Revoked every token of 42 issued up to now." in revoked.stderr
    assert client.get("/protected", headers=bearer(number)).status_code == 401
    assert client.get("/protected", headers=bearer(text)).get_json()["user"] == "42"
    quoted = invoke("revoke", "--identity", '"42"')
    assert quoted.exit_code == 0 and "every token of '42'" in quoted.stderr
    assert client.get("/protected", headers=bearer(text)).status_code == 401
    with app.app_context():
        jti = decode_token(other)["jti"]
    by_jti = invoke("revoke", "--jti", jti, "--identity", "7")
    assert by_jti.exit_code == 0 and f"token {jti} of 7" in by_jti.stderr
    assert client.get("/protected", headers=bearer(other)).status_code == 401


def test_check_config_json_and_later_changes(app: Flask, invoke: Callable[..., Result]) -> None:
    app.config["JWT_REVOCATION_STORE"] = "redis://:hunter2@cache.internal:6379/0?password=hunter2"
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(minutes=5)
    result = invoke("check-config", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    settings = {row["key"]: row for row in report["settings"]}
    assert settings["JWT_ACCESS_TOKEN_EXPIRES"] == {
        "key": "JWT_ACCESS_TOKEN_EXPIRES",
        "value": 300.0,
        "source": "app config",  # defaulted by init_app, changed since
    }
    assert settings["JWT_REVOCATION_STORE"]["value"] == "redis://:***@cache.internal:6379/0?password=***"
    assert settings["JWT_SECRET_KEY"]["value"] == f"<hidden: {len(SECRET)} bytes>"
    assert report["warnings"] == [] and "hunter2" not in result.output

    app.config["JWT_DECODE_LEEWAY"] = -1
    invalid = invoke("check-config")
    assert invalid.exit_code == 1 and invalid.stdout == ""
    assert "Error: JWT_DECODE_LEEWAY must be a number of seconds" in invalid.stderr


def test_secrets_are_never_shown(app: Flask, invoke: Callable[..., Result]) -> None:
    flask_secret = "flask-secret-" + "s" * 32
    app.config.update(JWT_SECRET_KEY=None, SECRET_KEY=flask_secret)
    result = invoke("check-config")
    assert result.exit_code == 0 and flask_secret not in result.output
    assert re.search(r"^JWT_SECRET_KEY +app config \(SECRET_KEY signs\) +None$", result.stdout, re.M)

    k = "c2lnbmluZy1rZXktdGhhdC1pcy1sb25nLWVub3VnaC0wMTIzNDU2Nzg5"
    app.config.update(SECRET_KEY=None, JWT_SIGNING_KEYS={"keys": [{"kty": "oct", "k": k, "kid": "a"}]})
    result = invoke("check-config")
    assert k not in result.output
    if result.exit_code == 0:
        assert "<hidden: JWK Set of 1 keys>" in result.stdout


def test_mask_url() -> None:
    assert mask_url("postgresql://app:p%40ss@db/x") == "postgresql://app:***@db/x"
    assert mask_url("redis://:pw@host:6379/0") == "redis://:***@host:6379/0"
    assert mask_url("redis://user@host/0") == "redis://user@host/0"
    assert mask_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    assert mask_url("rediss://h/0?ssl=1&Password=x#f") == "rediss://h/0?ssl=1&Password=***#f"


def test_app_without_jwt_manager() -> None:
    bare = Flask("bare")
    result = CliRunner().invoke(jwt_cli, ["create-token", "x"], obj=ScriptInfo(create_app=lambda: bare))
    assert result.exit_code == 1 and "The app 'bare' has no JWTManager" in result.stderr


# --------------------------------------------------------------------------- keys (issue 11)


def test_keygen_rotate_jwks(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from flask_jwt_guard.cli import jwt_cli
    from flask_jwt_guard.keys import PRIVATE_MEMBERS, load_key_set

    runner = CliRunner()
    made = runner.invoke(jwt_cli, ["keygen", "--alg", "ES256", "--kid", "2026-11"])
    assert made.exit_code == 0, made.output
    path = tmp_path / "keys.json"
    path.write_text(made.stdout)
    assert [key.kid for key in load_key_set(path).keys] == ["2026-11"]

    rotated = runner.invoke(jwt_cli, ["rotate", str(path), "--alg", "EdDSA", "--kid", "2026-12"])
    assert rotated.exit_code == 0, rotated.output
    keys = load_key_set(path)
    assert [(key.kid, key.algorithm) for key in keys.keys] == [("2026-12", "EdDSA"), ("2026-11", "ES256")]
    again = runner.invoke(jwt_cli, ["rotate", str(path), "--kid", "2026-12"])
    assert again.exit_code == 1 and "already" in again.output

    public = runner.invoke(jwt_cli, ["jwks", str(path)])
    assert public.exit_code == 0
    served = json.loads(public.stdout)["keys"]
    assert [jwk["kid"] for jwk in served] == ["2026-12", "2026-11"]
    assert all(not PRIVATE_MEMBERS & set(jwk) for jwk in served)

    thumb = runner.invoke(jwt_cli, ["keygen", "--alg", "RS256"])
    assert json.loads(thumb.stdout)["keys"][0]["kid"]  # the RFC 7638 thumbprint when no --kid
    bad = runner.invoke(jwt_cli, ["keygen", "--alg", "HS256"])
    assert bad.exit_code == 2  # not a choice: HMAC secrets are random bytes, not JWKs


def test_migrate_command_runs_the_migration(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from flask_jwt_guard.cli import jwt_cli

    app_file = tmp_path / "app.py"
    app_file.write_text(
        "from flask_jwt_extended import jwt_optional  # keep me\n\n@jwt_optional\ndef view(): ...\n"
    )
    runner = CliRunner()
    assert runner.invoke(jwt_cli, ["migrate", "--check", str(tmp_path)]).exit_code == 1
    assert runner.invoke(jwt_cli, ["migrate", str(tmp_path)]).exit_code == 0
    assert app_file.read_text() == (
        "from flask_jwt_guard import jwt_required  # keep me\n\n"
        "@jwt_required(optional=True)\ndef view(): ...\n"
    )
    assert runner.invoke(jwt_cli, ["migrate", "--check", str(tmp_path)]).exit_code == 0
