"""The ``flask jwt`` commands: create, decode and revoke tokens, and check the configuration.

Each command loads the app named by ``flask --app`` and works with that app's own
configuration, keys, loaders and revocation store. The group is registered through
Flask's ``flask.commands`` entry point, so every app with a
:class:`~flask_jwt_guard.JWTManager` has it without registering anything; outside the
``flask`` command (``app.test_cli_runner()``), add it with ``app.cli.add_command(jwt_cli)``.

Fit for scripts: standard output carries only the token or the JSON asked for, so that
``TOKEN=$(flask --app app jwt create-token alice)`` works; messages, warnings and errors go to
standard error, and an error exits with a non-zero status and no traceback.

.. versionadded:: 0.2
"""

from __future__ import annotations

import functools
import json
import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

from . import tokens
from .context import current_state
from .exceptions import ConfigurationError, ExpiredSignatureError, JWTExtendedException, UnusableKeyError
from .issuing import create_access_token, create_refresh_token
from .keys import (
    GENERATED_ALGORITHMS,
    generate_jwk,
    is_hmac,
    load_key_set,
    public_key_set,
)
from .sessions import revoke_all_tokens, revoke_session, revoke_token
from .settings import DEFAULTS, JWTGuardSecurityWarning, build_settings
from .state import GENERATION_CLAIM, SESSION_CLAIM, JWTState

P = ParamSpec("P")
R = TypeVar("R")

#: A lifetime as ``--expires`` takes it: a timedelta, or ``False`` for "never expires".
Lifetime = timedelta | Literal[False]

#: Errors that are the user's (a bad value, a bad token, a bad configuration): a message, no traceback.
USER_ERRORS: tuple[type[Exception], ...] = (ConfigurationError, JWTExtendedException, ValueError)

#: Settings whose values are never printed: these, and any whose name says it holds a secret.
SECRET_SETTINGS = frozenset({"JWT_SECRET_KEY", "JWT_PRIVATE_KEY", "JWT_SIGNING_KEYS"})
_SECRET_WORDS = ("SECRET", "PRIVATE", "SIGNING_KEY", "PASSWORD")

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_LIFETIME = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- values


def parse_lifetime(text: str) -> Lifetime:
    """A token lifetime from ``30s``, ``15m``, ``2h``, ``7d``, a number of seconds, or ``never``.

    :returns: a :class:`~datetime.timedelta`, or ``False`` for ``never``.
    :raises ValueError: anything else (a negative number included).
    """
    value = text.strip().lower()
    if value == "never":
        return False
    match = _LIFETIME.fullmatch(value)
    if match is None:
        raise ValueError(f"{text!r} is not a lifetime: use e.g. 30s, 15m, 2h, 7d, 900 (seconds) or never")
    number, unit = match.groups()
    try:
        return timedelta(seconds=float(number) * _UNITS[unit])
    except OverflowError:
        raise ValueError(f"{text!r} is too long a lifetime") from None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's json would accept them


def parse_claim(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` as a claim; VALUE is read as JSON when it is JSON (``3``, ``true``, ``["a"]``).

    Otherwise (``admin``, ``NaN``) VALUE is taken as a string.

    :raises ValueError: no ``=``, or an empty KEY.
    """
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise ValueError(f"{text!r} is not KEY=VALUE")
    try:
        value = json.loads(raw, parse_constant=_not_json)
    except ValueError:
        value = raw
    return name, value


def parse_identity(text: str) -> Any:
    """``revoke --identity``: a JSON number, ``true``, ``false``, ``null`` or a JSON string in quotes
    is read as JSON (``42`` is the number, ``"42"`` the string); anything else (``alice``, ``[1]``,
    ``NaN``) is the text itself.
    """
    try:
        value = json.loads(text, parse_constant=_not_json)
    except ValueError:
        return text
    if isinstance(value, list | dict) or (isinstance(value, float) and not math.isfinite(value)):
        return text  # 1e999 is inf
    return value


if TYPE_CHECKING:
    _ParamType = click.ParamType[Any]
else:  # generic from click 8.5 on; Flask takes click 8.1 too
    _ParamType = click.ParamType


class _Parsed(_ParamType):
    """A click parameter type from one of the parsers above; their ``ValueError`` is a usage error."""

    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # already converted (a default, or a value passed by a program)
        try:
            return self.parse(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


LIFETIME = _Parsed("lifetime", parse_lifetime)
CLAIM = _Parsed("claim", parse_claim)


def utc_time(value: Any) -> str | None:
    """A NumericDate as an ISO 8601 UTC time (``2026-12-01T10:15:00Z``); ``None`` if it is not one."""
    seconds = tokens.numeric_date(value)
    if seconds is None:
        return None
    return (_EPOCH + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _times(claims: Mapping[str, Any]) -> dict[str, str]:
    names = ("iat", "nbf", "exp", "fresh")  # "fresh" only when it is a time ("fresh until")
    shown = {name: utc_time(claims.get(name)) for name in names}
    return {name: time for name, time in shown.items() if time is not None}


def mask_url(url: str) -> str:
    """``url`` with the password of its user part and any ``password=`` query value replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if sep:
        netloc_end = len(rest)
        for stop in "/?#":
            found = rest.find(stop)
            if found != -1:
                netloc_end = min(netloc_end, found)
        netloc = rest[:netloc_end]
        userinfo, at, host = netloc.rpartition("@")
        if at and ":" in userinfo:
            user = userinfo.partition(":")[0]
            rest = f"{user}:***@{host}{rest[netloc_end:]}"
        url = f"{scheme}{sep}{rest}"
    return re.sub(r"([?&](?:password|passwd|pwd)=)[^&#]*", r"\1***", url, flags=re.IGNORECASE)


def _shown(key: str, value: Any) -> Any:
    """A setting's value as the report shows it: secrets hidden, passwords in URLs masked."""
    if value and (key in SECRET_SETTINGS or any(word in key for word in _SECRET_WORDS)):
        if isinstance(value, str | bytes):
            size = len(value.encode() if isinstance(value, str) else value)
            return f"<hidden: {size} bytes>"
        if isinstance(value, Mapping) and isinstance(value.get("keys"), list):
            return f"<hidden: JWK Set of {len(value['keys'])} keys>"
        return f"<hidden: {type(value).__name__}>"
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and "\n" in value:  # a PEM public key: its first line and its size
        return f"{value.strip().splitlines()[0]} ... ({len(value.encode())} bytes)"
    return value


def _text(value: Any) -> str:
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, str) and value.startswith("<hidden"):
        return value
    return repr(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return repr(value)


# --------------------------------------------------------------------------- the app


def _load_app(ctx: click.Context) -> tuple[Flask, list[str]]:
    """The app named by ``flask --app``, and the security warnings it gave while it was built."""
    with warnings.catch_warnings(record=True) as caught:
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except ConfigurationError as err:
            raise click.ClickException(f"The app's JWT configuration is invalid: {err}") from err
    ours = []
    for warning in caught:
        if issubclass(warning.category, JWTGuardSecurityWarning):
            ours.append(str(warning.message))
        else:  # not ours: shown as it would have been
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    return app, ours


def _in_app(*, echo_warnings: bool = True) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a command in the app's context (as :func:`flask.cli.with_appcontext` does).

    The app's errors that are the user's (``USER_ERRORS``) become a message on
    standard error and exit status 1, without a traceback.

    :param echo_warnings: print the app's security warnings on standard error.
    """

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            ctx = click.get_current_context()
            if not current_app:
                app, security_warnings = _load_app(ctx)
                if echo_warnings:
                    for message in security_warnings:
                        click.echo(f"Warning: {message}", err=True)
                ctx.with_resource(app.app_context())
            try:
                return command(*args, **kwargs)
            except USER_ERRORS as err:
                message, cause = str(err), err.__cause__
                if cause is not None and str(cause) not in message:  # e.g. why the store did not answer
                    message = f"{message} ({type(cause).__name__}: {cause})"
                raise click.ClickException(message) from err

        return run

    return decorate


def _state() -> JWTState:
    try:
        return current_state()
    except RuntimeError:
        raise click.ClickException(
            f"The app {current_app.name!r} has no JWTManager: these commands use the configuration "
            "of Flask-JWT-Guard (JWTManager(app) or jwt.init_app(app))"
        ) from None


# --------------------------------------------------------------------------- commands


@click.group("jwt")
def jwt_cli() -> None:
    """JSON Web Tokens with this app's configuration: create, decode, revoke, check-config."""


#: Claims that ``create-token`` sets itself, and the option (or argument) that says what they are.
_SET_BY_COMMAND = {
    "type": "--refresh",
    "fresh": "--fresh",
    "exp": "--expires",
    "iat": None,
    "nbf": None,
    "jti": None,
    "csrf": None,
    SESSION_CLAIM: None,
    GENERATION_CLAIM: None,
}


def _additional_claims(claims: Iterable[tuple[str, Any]], identity_claim: str) -> dict[str, Any]:
    reserved: dict[str, str | None] = {**_SET_BY_COMMAND, identity_claim: "IDENTITY"}
    extra: dict[str, Any] = {}
    for name, value in claims:
        if name in reserved:
            via = reserved[name]
            hint = f"use {via}" if via else "it is set by the library"
            raise click.BadParameter(
                f"the {name!r} claim cannot be set this way: {hint}", param_hint="--claim"
            )
        if name in extra:
            raise click.BadParameter(f"the {name!r} claim is given twice", param_hint="--claim")
        extra[name] = value
    return extra


@jwt_cli.command("create-token")
@click.argument("identity")
@click.option("--refresh", is_flag=True, help="Make a refresh token instead of an access token.")
@click.option("--fresh", is_flag=True, help="Mark the access token fresh.")
@click.option(
    "--expires",
    type=LIFETIME,
    default=None,
    metavar="LIFETIME",
    help="Lifetime: 30s, 15m, 2h, 7d, a number of seconds, or never. "
    "Default: JWT_ACCESS_TOKEN_EXPIRES or JWT_REFRESH_TOKEN_EXPIRES.",
)
@click.option(
    "--claim",
    "claims",
    type=CLAIM,
    multiple=True,
    metavar="KEY=VALUE",
    help='An additional claim, repeatable. VALUE is read as JSON when it is JSON (3, true, ["a","b"], '
    '"7" for a string of digits), else taken as a string.',
)
@click.option(
    "--header-format",
    is_flag=True,
    help="Print the whole header line, e.g. 'Authorization: Bearer <token>' "
    "(JWT_HEADER_NAME and JWT_HEADER_TYPE).",
)
@_in_app()
def create_token(
    identity: str,
    refresh: bool,
    fresh: bool,
    expires: Lifetime | None,
    claims: tuple[tuple[str, Any], ...],
    header_format: bool,
) -> None:
    """Print a new signed token for IDENTITY (as create_access_token would make it).

    Signed with the app's key; its loaders (user_identity_loader,
    additional_claims_loader, ...) apply, IDENTITY being passed as a string.
    Each token starts a new session.
    """
    state = _state()
    settings = state.settings
    if refresh and fresh:
        raise click.UsageError("--fresh is for access tokens: refresh tokens are never fresh")
    extra = _additional_claims(claims, settings.identity_claim)
    if refresh:
        token = create_refresh_token(identity, expires_delta=expires, additional_claims=extra)
    else:
        token = create_access_token(identity, fresh=fresh, expires_delta=expires, additional_claims=extra)
    if header_format:
        prefix = f"{settings.header_type} " if settings.header_type else ""  # JWT_HEADER_TYPE "": bare
        token = f"{settings.header_name}: {prefix}{token}"
    click.echo(token)


@jwt_cli.command("decode")
@click.argument("token")
@click.option(
    "--no-verify",
    is_flag=True,
    help="Print the content of a token that does not verify (forged, expired, another app's).",
)
@_in_app()
def decode(token: str, no_verify: bool) -> None:
    """Verify TOKEN with the app's keys and options and print it as JSON.

    The output is {"header": ..., "claims": ..., "times": ..., "verified": ...}:
    "times" gives exp, iat, nbf (and a "fresh until" time) as UTC ISO 8601 times.
    Verified means what a protected route checks: signature, algorithm, times,
    audience, issuer, and revocation (the JWT_REVOCATION_STORE and
    token_in_blocklist_loader). When it fails, the reason goes to standard
    error and the exit status is 1, unless --no-verify is given. A token that
    cannot even be parsed always exits 1.
    """
    state = _state()
    settings = state.settings
    token = token.strip()
    try:
        parsed = tokens.parse(token, settings.decode_options.max_size)
        claims = tokens.unverified_payload(parsed)
    except JWTExtendedException as err:
        raise click.ClickException(f"The token cannot be parsed: {err}") from None
    if not no_verify:
        _verify(state, token, claims)
    document = {"header": parsed.header, "claims": claims, "times": _times(claims), "verified": not no_verify}
    click.echo(json.dumps(document, indent=2))


def _verify(state: JWTState, token: str, raw_claims: Mapping[str, Any]) -> None:
    settings = state.settings
    try:
        header, claims = state.verify_token(token, settings)
    except ExpiredSignatureError as err:
        expired = utc_time(raw_claims.get("exp"))
        raise click.ClickException(f"Token verification failed: {err} (at {expired})") from None
    except JWTExtendedException as err:
        raise click.ClickException(f"Token verification failed: {err}") from None
    revoked = settings.revocation.store is not None and state.check_revocation(claims, settings).revoked
    blocklist = state.loaders.token_in_blocklist
    if revoked or (blocklist is not None and blocklist(header, claims)):
        raise click.ClickException("Token verification failed: Token has been revoked")


@jwt_cli.command("revoke")
@click.option("--token", metavar="TOKEN", help="Revoke this token (an expired one too).")
@click.option(
    "--session",
    "session_token",
    metavar="TOKEN",
    help="Log out: revoke every access and refresh token of this token's session.",
)
@click.option("--jti", metavar="JTI", help="Revoke the token with this jti; needs --identity.")
@click.option(
    "--identity",
    metavar="IDENTITY",
    help="Alone: log out everywhere, revoking every token of IDENTITY issued up to now. "
    "With --jti: whose token it is. A JSON number, true, false or null is read as JSON (42 is "
    "the number); so is a JSON string in quotes ('\"42\"' is the string); anything else is a string.",
)
@_in_app()
def revoke(token: str | None, session_token: str | None, jti: str | None, identity: str | None) -> None:
    """Revoke a token, a session, or every token of an identity, in the JWT_REVOCATION_STORE.

    Every process of the app that shares the store refuses the tokens from its
    next request on. A TOKEN given is verified first (a forged one cannot
    revoke anything). By --jti, the token's expiry is unknown, so its
    revocation is kept for good: prefer --token when you have the token.
    IDENTITY is what create-token takes (user_identity_loader applies).
    """
    given = (("--token", token), ("--session", session_token), ("--jti", jti), ("--identity", identity))
    chosen = [name for name, value in given if value is not None]
    if not chosen:
        raise click.UsageError("say what to revoke: --token, --session, --jti with --identity, or --identity")
    if chosen == ["--jti"]:
        raise click.UsageError("--jti needs --identity: revocations are kept by identity")
    if len(chosen) > 1 and chosen != ["--jti", "--identity"]:
        raise click.UsageError(
            f"choose one of --token, --session, --jti or --identity, not {' and '.join(chosen)}"
        )
    state = _state()
    settings = state.settings
    store = settings.revocation.store
    if store is None:
        raise click.ClickException(
            "No revocation store: set JWT_REVOCATION_STORE (a Redis or SQL URL) to revoke tokens"
        )
    if isinstance(store, str) and store == "memory":
        raise click.ClickException(
            'JWT_REVOCATION_STORE is "memory": a revocation made here would live in this process only. '
            "Use a store that the app's processes share (Redis, SQL), or revoke from the app"
        )
    identity_claim = settings.identity_claim
    encoded = token if token is not None else session_token
    if encoded is not None:
        try:  # verified, so that a forged token cannot end somebody's session; expired is fine
            claims = state.verify_token(encoded.strip(), settings, allow_expired=True)[1]
        except JWTExtendedException as err:
            raise click.ClickException(f"Token verification failed: {err}") from None
        owner = claims.get(identity_claim)
        if token is not None:
            revoke_token(claims)
            done = f"token {claims.get('jti')} of {owner!r}"
        else:
            revoke_session(claims)
            done = f"session {claims.get(SESSION_CLAIM)} of {owner!r} (its access and refresh tokens)"
    elif jti is not None:
        subject = parse_identity(identity or "")
        revoke_token({"jti": jti, identity_claim: state.identity_claim_value(subject)})
        done = f"token {jti} of {subject!r}"
    else:
        subject = parse_identity(identity or "")
        revoke_all_tokens(subject)
        done = f"every token of {subject!r} issued up to now"
    click.echo(f"Revoked {done}.", err=True)


@jwt_cli.command("check-config")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_in_app(echo_warnings=False)
def check_config(as_json: bool) -> None:
    """List every JWT_* setting in effect, where it comes from, and the security warnings.

    SOURCE is "default" (init_app filled it in) or "app config". Secrets and
    private keys are hidden; passwords in a JWT_REVOCATION_STORE URL are
    masked. Exits 1, with the reason on standard error, when the
    configuration is invalid (or refused by JWT_STRICT).
    """
    state = _state()
    config = current_app.config
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JWTGuardSecurityWarning)
        built = build_settings(config)
    problems = [str(w.message) for w in caught if issubclass(w.category, JWTGuardSecurityWarning)]
    rows = []
    for key, default in DEFAULTS.items():
        value = config.get(key, default)
        source = "default" if key in state.defaulted_keys and value == default else "app config"
        if key == "JWT_SECRET_KEY" and not value and config.get("SECRET_KEY") and is_hmac(built.algorithm):
            source += " (SECRET_KEY signs)"
        rows.append((key, _shown(key, value), source))
    if as_json:
        report = {
            "settings": [{"key": key, "value": value, "source": source} for key, value, source in rows],
            "warnings": problems,
        }
        click.echo(json.dumps(report, indent=2, default=_json_default))
        return
    width = max(len(key) for key, _, _ in rows)
    source_width = max(len(source) for _, _, source in rows)
    click.echo(f"{'SETTING':<{width}}  {'SOURCE':<{source_width}}  VALUE")
    for key, value, source in rows:
        click.echo(f"{key:<{width}}  {source:<{source_width}}  {_text(value)}")
    click.echo()
    if problems:
        click.echo("Security warnings:")
        for problem in problems:
            click.echo(f"  - {problem}")
    else:
        click.echo("Security warnings: none")


# --------------------------------------------------------------------------- keys


def _key_errors(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except UnusableKeyError as err:
            raise click.ClickException(str(err)) from None

    return wrapper


_ALG_OPTION = click.option(
    "--alg",
    "algorithm",
    type=click.Choice(GENERATED_ALGORITHMS),
    default="ES256",
    show_default=True,
    help="The new key's algorithm.",
)


@jwt_cli.command("keygen")
@_ALG_OPTION
@click.option("--kid", help="The key id (default: the key's RFC 7638 thumbprint).")
@_key_errors
def keygen(algorithm: str, kid: str | None) -> None:
    """Print a new private JWK Set of one key, for JWT_SIGNING_KEYS.

    Keep it secret: it holds the private key.
    """
    click.echo(json.dumps({"keys": [generate_jwk(algorithm, kid)]}, indent=2))


@jwt_cli.command("rotate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@_ALG_OPTION
@click.option("--kid", help="The new key's id (default: its thumbprint).")
@_key_errors
def rotate(path: str, algorithm: str, kid: str | None) -> None:
    """Put a new key first in the JWK Set at PATH (it signs from now on; the others still verify).

    Drop the old key once the tokens it signed have expired.
    """
    current = load_key_set(path)  # a set this library accepts, before anything is written
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    new = generate_jwk(algorithm, kid)
    if new["kid"] in current.by_kid:
        raise click.ClickException(f"kid {new['kid']!r} is already in {path}")
    data["keys"].insert(0, new)
    load_key_set(data)
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    click.echo(f"{path}: {new['kid']} ({algorithm}) now signs; {len(data['keys'])} keys verify", err=True)


@jwt_cli.command("jwks")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@_key_errors
def jwks(path: str) -> None:
    """Print the public JWK Set of the private set at PATH (what JWT_JWKS_URL_RULE serves)."""
    click.echo(json.dumps(public_key_set(path), indent=2))


# --------------------------------------------------------------------------- migration


@jwt_cli.command("migrate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--check", is_flag=True, help="Change nothing; exit 1 when something would change.")
@click.option("--diff", is_flag=True, help="Print the change as a unified diff instead of writing it.")
def migrate_command(paths: tuple[str, ...], check: bool, diff: bool) -> None:
    """Rewrite a code base from Flask-JWT-Extended (3.x or 4.x) to Flask-JWT-Guard, in place.

    Import paths and the 3.x names whose change is mechanical are rewritten;
    every place that needs a person is listed as file:line with why. Version
    control is the undo. Needs the [migrate] extra (LibCST).
    """
    try:
        from .migrate import run
    except ImportError as err:
        raise click.ClickException(f"{err}: pip install 'flask-jwt-guard[migrate]'") from None
    raise SystemExit(run(list(paths), check=check, diff=diff))
