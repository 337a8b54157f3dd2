"""``python -m flask_jwt_guard.migrate``: rewrites from Flask-JWT-Extended 3.x and 4.x.

Two kinds of test: the rules, one snippet at a time through :func:`migrate_source`; and the fixture
apps in ``tests/migration_fixtures/`` (a 3.x blog, a 4.x shop, each with its own tests), copied,
migrated by the command in a subprocess, then tested by their own tests in a pytest subprocess.
"""

from __future__ import annotations

import ast
import difflib
import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from flask_jwt_guard.migrate import (
    Finding,
    MigrationResult,
    iter_python_files,
    main,
    migrate_file,
    migrate_source,
    project_findings,
    run,
)

FIXTURES = Path(__file__).parent / "migration_fixtures"
PACKAGE_DIR = Path(__file__).parent.parent / "src" / "flask_jwt_guard"
MARKER = "# needs a person"
#: What the fixture apps' lines may differ in: a migrated line holds one of these before...
OLD_NAMES = re.compile(
    r"flask_jwt_extended|jwt_optional|fresh_jwt_required|jwt_refresh_token_required|@jwt_required$"
    r"|decorators = \[jwt_required\]|jwt_optional\(|get_raw_jwt|get_jwt_claims|verify_jwt_in_request_optional"
    r"|user_claims|JWT_BLACKLIST_|user_loader_callback_loader|user_loader_error_loader"
    r"|token_in_blacklist_loader|claims_verification(_failed)?_loader"
)
#: ... and one of these after.
NEW_NAMES = re.compile(
    r"flask_jwt_guard|jwt_required\(|get_jwt|verify_jwt_in_request|additional_claims"
    r"|user_lookup(_error)?_loader|token_in_blocklist_loader|token_verification(_failed)?_loader"
)


def migrated(code: str) -> str:
    return migrate_source(textwrap.dedent(code)).code


def findings_of(code: str) -> list[tuple[int, str]]:
    """The findings for ``code``, as the only file of a code base."""
    result = migrate_source(textwrap.dedent(code), "app.py")
    return [(f.line, f.message) for f in sorted([*result.findings, *project_findings([result])])]


def migrate_command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "flask_jwt_guard.migrate", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def run_tests_of(app_dir: Path) -> subprocess.CompletedProcess[str]:
    """The fixture app's own tests, in a pytest of their own (no ini file above ``app_dir``)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(app_dir)]
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_ADDOPTS", "PYTHONPATH"}}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the apps need no plugin; it starts faster
    return subprocess.run(
        command, cwd=app_dir, capture_output=True, text=True, timeout=120, check=False, env=env
    )


def copy_app(name: str, dest: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / name, dest / name, ignore=shutil.ignore_patterns("__pycache__")))


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*.py"))}


def reported(stderr: str) -> dict[str, set[int]]:
    """``{file name: lines}`` of the ``path:line: message`` lines the command printed."""
    found: dict[str, set[int]] = {}
    for match in re.finditer(r"^(.+?\.py):(\d+): ", stderr, re.MULTILINE):
        found.setdefault(Path(match[1]).name, set()).add(int(match[2]))
    return found


def marked(directory: Path) -> dict[str, set[int]]:
    """``{file name: lines}`` marked ``# needs a person`` in the fixture files."""
    found: dict[str, set[int]] = {}
    for path in sorted(directory.glob("*.py")):
        lines = {n for n, line in enumerate(path.read_text().splitlines(), 1) if MARKER in line}
        if lines:
            found[path.name] = lines
    return found


# ---------------------------------------------------------------------------
# The rules, one by one
# ---------------------------------------------------------------------------

REWRITES: dict[str, tuple[str, str]] = {
    "import paths": (
        """\
        import flask_jwt_extended
        import flask_jwt_extended as fje
        from flask_jwt_extended import JWTManager  # the manager
        from flask_jwt_extended.view_decorators import jwt_required
        from flask_jwt_extended.utils import get_jwt
        from flask_jwt_extended.jwt_manager import JWTManager as M
        from flask_jwt_extended.typing import Fresh
        from flask_jwt_extended.exceptions import NoAuthorizationError
        from flask_jwt_extended import utils

        flask_jwt_extended.get_jwt(); fje.get_jwt(); utils.get_jwt()
        """,
        """\
        import flask_jwt_guard
        import flask_jwt_guard as fje
        from flask_jwt_guard import JWTManager  # the manager
        from flask_jwt_guard.view_decorators import jwt_required
        from flask_jwt_guard.utils import get_jwt
        from flask_jwt_guard.jwt_manager import JWTManager as M
        from flask_jwt_guard.typing import Fresh
        from flask_jwt_guard.exceptions import NoAuthorizationError
        from flask_jwt_guard import utils

        flask_jwt_guard.get_jwt(); fje.get_jwt(); utils.get_jwt()
        """,
    ),
    "dotted import": (
        """\
        import flask_jwt_extended.utils
        flask_jwt_extended.utils.get_raw_jwt()
        """,
        """\
        import flask_jwt_guard.utils
        flask_jwt_guard.utils.get_jwt()
        """,
    ),
    "3.x decorators": (
        """\
        from flask_jwt_extended import fresh_jwt_required, jwt_optional
        from flask_jwt_extended import jwt_refresh_token_required, jwt_required

        @jwt_required
        def a(): ...

        @jwt_optional
        def b(): ...

        @jwt_refresh_token_required
        def c(): ...

        @fresh_jwt_required
        def d(): ...
        """,
        """\
        from flask_jwt_guard import jwt_required
        from flask_jwt_guard import jwt_required

        @jwt_required()
        def a(): ...

        @jwt_required(optional=True)
        def b(): ...

        @jwt_required(refresh=True)
        def c(): ...

        @jwt_required(fresh=True)
        def d(): ...
        """,
    ),
    "3.x decorators as values": (
        """\
        from flask_jwt_extended import jwt_optional, jwt_required

        class View(MethodView):
            decorators = [jwt_required, jwt_optional]

        app.add_url_rule("/a", view_func=jwt_required(view))
        app.add_url_rule("/b", view_func=jwt_optional(view))
        """,
        """\
        from flask_jwt_guard import jwt_required

        class View(MethodView):
            decorators = [jwt_required(), jwt_required(optional=True)]

        app.add_url_rule("/a", view_func=jwt_required()(view))
        app.add_url_rule("/b", view_func=jwt_required(optional=True)(view))
        """,
    ),
    "aliases and module attributes": (
        """\
        import flask_jwt_extended as fje
        from flask_jwt_extended import jwt_optional as maybe_logged_in, get_raw_jwt as raw

        @maybe_logged_in
        def a():
            return raw()

        @fje.fresh_jwt_required
        def b():
            return fje.get_raw_jwt_header()
        """,
        """\
        import flask_jwt_guard as fje
        from flask_jwt_guard import jwt_required as maybe_logged_in, get_jwt as raw

        @maybe_logged_in(optional=True)
        def a():
            return raw()

        @fje.jwt_required(fresh=True)
        def b():
            return fje.get_jwt_header()
        """,
    ),
    "verify functions": (
        """\
        from flask_jwt_extended import (
            verify_fresh_jwt_in_request,
            verify_jwt_in_request,
            verify_jwt_in_request_optional,
            verify_jwt_refresh_token_in_request,
        )

        verify_jwt_in_request()
        verify_jwt_in_request_optional()
        verify_fresh_jwt_in_request()
        verify_jwt_refresh_token_in_request()
        """,
        """\
        from flask_jwt_guard import (
            verify_jwt_in_request,
        )

        verify_jwt_in_request()
        verify_jwt_in_request(optional=True)
        verify_jwt_in_request(fresh=True)
        verify_jwt_in_request(refresh=True)
        """,
    ),
    "renamed functions and exception": (
        """\
        from flask_jwt_extended import get_jwt_claims, get_raw_jwt, get_raw_jwt_header
        from flask_jwt_extended.exceptions import UserLoadError

        claims, header = get_raw_jwt(), get_raw_jwt_header()
        role = get_jwt_claims()["role"]
        app.register_error_handler(UserLoadError, handler)
        """,
        """\
        from flask_jwt_guard import get_jwt, get_jwt_header
        from flask_jwt_guard.exceptions import UserLookupError

        claims, header = get_jwt(), get_jwt_header()
        role = get_jwt()["role"]
        app.register_error_handler(UserLookupError, handler)
        """,
    ),
    "token keywords": (
        """\
        from flask_jwt_extended import create_access_token, create_refresh_token

        create_access_token(identity="a", user_claims={"role": "x"}, headers={"kid": "1"})
        create_refresh_token("a", None, {"role": "x"})
        other(user_claims={})
        """,
        """\
        from flask_jwt_guard import create_access_token, create_refresh_token

        create_access_token(identity="a", additional_claims={"role": "x"}, additional_headers={"kid": "1"})
        create_refresh_token("a", None, {"role": "x"})
        other(user_claims={})
        """,
    ),
    "loaders": (
        """\
        @jwt.user_claims_loader
        def claims(identity): ...

        jwt.token_in_blacklist_loader(check)
        jwt.user_loader_callback_loader(load)
        jwt.user_loader_error_loader(missing)
        jwt.claims_verification_loader(verify)
        jwt.claims_verification_failed_loader(failed)
        jwt.user_identity_loader(identity)
        """,
        """\
        @jwt.additional_claims_loader
        def claims(identity): ...

        jwt.token_in_blocklist_loader(check)
        jwt.user_lookup_loader(load)
        jwt.user_lookup_error_loader(missing)
        jwt.token_verification_loader(verify)
        jwt.token_verification_failed_loader(failed)
        jwt.user_identity_loader(identity)
        """,
    ),
    "blacklist settings": (
        """\
        app.config["JWT_SECRET_KEY"] = "x"
        # the blacklist
        app.config["JWT_BLACKLIST_ENABLED"] = True  # on
        app.config["JWT_BLACKLIST_TOKEN_CHECKS"] = ["access"]

        app.config.update(JWT_BLACKLIST_ENABLED=True, JWT_X=1)
        app.config.setdefault("JWT_BLACKLIST_ENABLED", False)
        settings = {
            "JWT_X": 1,
            "JWT_BLACKLIST_TOKEN_CHECKS": ["refresh"],  # refresh only
        }
        more = {
            "JWT_X": 1,  # kept
            # the blacklist
            "JWT_BLACKLIST_ENABLED": True,  # removed
            # the end
        }
        inline = {"JWT_BLACKLIST_ENABLED": True, "JWT_X": 2}
        x = 1; app.config["JWT_BLACKLIST_ENABLED"] = True

        class Config:
            JWT_BLACKLIST_ENABLED = True

        class OtherConfig:
            JWT_X = 1
            JWT_BLACKLIST_ENABLED = True
        """,
        """\
        app.config["JWT_SECRET_KEY"] = "x"
        # the blacklist

        app.config.update(JWT_X=1)
        settings = {
            "JWT_X": 1,
        }
        more = {
            "JWT_X": 1,  # kept
            # the blacklist
            # the end
        }
        inline = {"JWT_X": 2}
        x = 1

        class Config:
            pass

        class OtherConfig:
            JWT_X = 1
        """,
    ),
    "deduplicated imports": (
        """\
        from flask_jwt_extended import jwt_required
        from flask_jwt_extended import jwt_optional
        from flask_jwt_extended import (
            get_jwt,
            get_jwt_claims,
            get_raw_jwt,
        )
        from flask_jwt_extended import get_raw_jwt_header as header, get_jwt_header as header
        from flask_jwt_extended import get_jwt; from flask_jwt_extended import get_raw_jwt

        def view():
            from flask_jwt_extended import jwt_optional
        """,
        """\
        from flask_jwt_guard import jwt_required
        from flask_jwt_guard import (
            get_jwt,
        )
        from flask_jwt_guard import get_jwt_header as header
        from flask_jwt_guard import get_jwt

        def view():
            from flask_jwt_guard import jwt_required
        """,
    ),
    "a bare jwt_required left after swapping the import by hand": (
        """\
        from flask_jwt_guard import jwt_required

        @jwt_required
        def a(): ...
        """,
        """\
        from flask_jwt_guard import jwt_required

        @jwt_required()
        def a(): ...
        """,
    ),
    "a local name that shadows a 3.x name": (
        """\
        from flask_jwt_extended import get_jwt

        def get_raw_jwt():
            return get_jwt()

        get_raw_jwt()
        """,
        """\
        from flask_jwt_guard import get_jwt

        def get_raw_jwt():
            return get_jwt()

        get_raw_jwt()
        """,
    ),
    "only references to the library are rewritten, not definitions or other objects' names": (
        """\
        from flask_jwt_extended import get_raw_jwt, jwt_optional

        @jwt_optional
        def a(): ...

        def jwt_optional(fn):
            return fn

        class get_raw_jwt:
            def jwt_optional(self, get_raw_jwt=None):
                return self.jwt_optional, other.get_raw_jwt(get_raw_jwt=get_raw_jwt)

        def view(jwt_optional):
            return jwt_optional(lambda get_raw_jwt: get_raw_jwt)

        @jwt_optional
        def b(): ...
        """,
        """\
        from flask_jwt_guard import get_jwt, jwt_required

        @jwt_required(optional=True)
        def a(): ...

        def jwt_optional(fn):
            return fn

        class get_raw_jwt:
            def jwt_optional(self, get_raw_jwt=None):
                return self.jwt_optional, other.get_raw_jwt(get_raw_jwt=get_raw_jwt)

        def view(jwt_optional):
            return jwt_optional(lambda get_raw_jwt: get_raw_jwt)

        @jwt_optional
        def b(): ...
        """,
    ),
    "4.x's jwt_required as a value (a decorator factory)": (
        """\
        from functools import partial
        from flask_jwt_extended import jwt_required

        fresh_required = partial(jwt_required, fresh=True)
        guards = {"any": jwt_required, "fresh": fresh_required}

        def protect(view, guard=jwt_required, *, optional=False):
            return guard(optional=optional)(view)

        @jwt_required()
        def a(): ...
        """,
        """\
        from functools import partial
        from flask_jwt_guard import jwt_required

        fresh_required = partial(jwt_required, fresh=True)
        guards = {"any": jwt_required, "fresh": fresh_required}

        def protect(view, guard=jwt_required, *, optional=False):
            return guard(optional=optional)(view)

        @jwt_required()
        def a(): ...
        """,
    ),
    "3.x decorators in view classes": (
        """\
        import flask_jwt_extended as fje

        class Orders(MethodView):
            decorators = (fje.jwt_required,)

        class Items(Resource):
            method_decorators: list = [fje.jwt_required, cache]
        """,
        """\
        import flask_jwt_guard as fje

        class Orders(MethodView):
            decorators = (fje.jwt_required(),)

        class Items(Resource):
            method_decorators: list = [fje.jwt_required(), cache]
        """,
    ),
    "star import": (
        """\
        from flask_jwt_extended import *

        @jwt_optional
        def a():
            return get_raw_jwt()
        """,
        """\
        from flask_jwt_guard import *

        @jwt_required(optional=True)
        def a():
            return get_jwt()
        """,
    ),
}

UNCHANGED: dict[str, str] = {
    "4.x code": """\
        from flask_jwt_guard import jwt_required, get_jwt

        @jwt_required()
        def a(): ...

        @jwt_required(optional=True, fresh=True)
        def b(): ...

        jwt_required(True)(view)
        jwt_required(False)
        """,
    "names of other libraries": """\
        from other_library import jwt_required, jwt_optional, get_raw_jwt

        @jwt_required
        def a():
            return get_raw_jwt()
        """,
    "a star import, and names that are not its": """\
        from flask_jwt_guard import *

        def jwt_optional(fn):
            return fn

        @jwt_optional
        def a(request, get_raw_jwt=None):
            return request.get_raw_jwt(jwt_optional=get_raw_jwt)
        """,
    "4.x settings and loaders": """\
        settings = {"JWT_SECRET_KEY": "x"}
        jwt.expired_token_loader(handler)
        """,
}


@pytest.mark.parametrize("name", REWRITES)
def test_rewrite(name: str) -> None:
    before, after = REWRITES[name]
    assert migrated(before) == textwrap.dedent(after)


@pytest.mark.parametrize("name", REWRITES)
def test_rewrite_is_idempotent(name: str) -> None:
    once = migrated(REWRITES[name][0])
    again = migrate_source(once)
    assert again.code == once
    assert not again.changes


@pytest.mark.parametrize("name", UNCHANGED)
def test_unchanged(name: str) -> None:
    code = textwrap.dedent(UNCHANGED[name])
    result = migrate_source(code)
    assert result.code == code
    assert not result.changed and not result.changes and not result.findings


def test_changes_name_their_lines() -> None:
    result = migrate_source("from flask_jwt_extended import jwt_optional\n\n@jwt_optional\ndef a(): ...\n")
    assert [(c.line, c.before, c.after) for c in result.changes] == [
        (1, "flask_jwt_extended", "flask_jwt_guard"),
        (1, "jwt_optional", "jwt_required"),
        (3, "jwt_optional", "jwt_required(optional=True)"),
    ]
    assert result.from_3x


def test_a_4x_file_is_not_from_3x() -> None:
    result = migrate_source("from flask_jwt_extended import jwt_required\n")
    assert result.changed and not result.from_3x


def test_a_module_defining_a_3x_name_stays_valid_python() -> None:
    """Regression: ``def jwt_optional(fn)`` by the import became ``def jwt_required(optional=True)(fn):``."""
    code = "from flask_jwt_extended import jwt_optional\n\ndef jwt_optional(fn):\n    return fn\n"
    result = migrate_source(code)
    assert result.code == "from flask_jwt_guard import jwt_required\n\ndef jwt_optional(fn):\n    return fn\n"
    assert result.safe and not result.findings
    compile(result.code, "app.py", "exec")


def test_a_name_bound_by_the_library_and_by_the_module_is_reported() -> None:
    code = """\
    from flask_jwt_extended import jwt_optional

    if DEBUG:
        def jwt_optional(fn):
            return fn

    @jwt_optional
    def a(): ...
    """
    result = migrate_source(textwrap.dedent(code), "app.py")
    assert "@jwt_optional\ndef a()" in result.code
    assert [(f.line, "both by an import" in f.message) for f in result.findings] == [(7, True)]


def test_jwt_required_as_a_value_in_a_3x_file_is_reported_not_rewritten() -> None:
    code = """\
    from functools import partial
    from flask_jwt_extended import get_raw_jwt, jwt_required

    guard = partial(jwt_required)

    def protect(view, guard=jwt_required):
        return guard(view)

    @jwt_required
    def a():
        return get_raw_jwt()
    """
    result = migrate_source(textwrap.dedent(code), "app.py")
    assert "guard = partial(jwt_required)\n" in result.code
    assert "def protect(view, guard=jwt_required):" in result.code
    assert "@jwt_required()\ndef a():" in result.code
    assert [f.line for f in result.findings] == [4, 6]
    assert all("used as a value in a 3.x file" in f.message for f in result.findings)


@pytest.mark.parametrize(
    "code",
    [
        "from flask_jwt_extended import jwt_required\n\n@jwt_required\ndef a(): ...\n",
        "import flask_jwt_extended as f\nf.jwt_required(view)\n",
        "from flask_jwt_extended import jwt_required\nclass V:\n    decorators = [jwt_required]\n",
        "from flask_jwt_extended import get_raw_jwt\n",
        "from flask_jwt_extended import *\nx = jwt_optional\n",
        "jwt.user_loader_callback_loader(load)\n",
    ],
)
def test_what_makes_a_3x_file(code: str) -> None:
    value = "\nfrom flask_jwt_extended import jwt_required as r\nimport functools\np = functools.partial(r)\n"
    found = migrate_source(code + value).findings
    assert [f.message for f in found if "used as a value" in f.message]
    assert not migrate_source("import flask_jwt_extended" + value).findings  # a 4.x file


def test_a_rewrite_that_does_not_parse_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net: were a rewrite to break the code, the file stays as it was, and status 2."""
    from flask_jwt_guard import migrate

    def careless(self: object, node: object) -> str | None:  # the bug once fixed: any name matches
        name = getattr(node, "value", None)
        return name if isinstance(name, str) and name in migrate.RENAMES else None

    monkeypatch.setattr(migrate._References, "target", careless)
    code = "from flask_jwt_extended import get_raw_jwt\n\ndef jwt_optional(fn):\n    return fn\n"
    result = migrate_source(code, "app.py")
    assert not result.safe and not result.changed and not result.changes
    unsafe = [str(f) for f in result.findings if "safely" in f.message]
    assert len(unsafe) == 1 and unsafe[0].startswith("app.py:3: could not rewrite safely (")
    assert unsafe[0].endswith("): the file is left as it was")
    path, good = tmp_path / "app.py", tmp_path / "good.py"
    path.write_text(code)
    good.write_text("from flask_jwt_extended import get_jwt\n")
    out, err = io.StringIO(), io.StringIO()
    assert run([tmp_path], out=out, err=err) == 2
    assert path.read_text() == code
    assert good.read_text() == "from flask_jwt_guard import get_jwt\n"  # the other files are done
    assert f"{path}:3: could not rewrite safely" in err.getvalue()
    assert f"rewrote {path}" not in out.getvalue()
    assert run([path], check=True, out=io.StringIO(), err=io.StringIO()) == 2


def test_syntax_error_raises() -> None:
    import libcst

    with pytest.raises(libcst.ParserSyntaxError):
        migrate_source("def (:\n")


# ---------------------------------------------------------------------------
# What is reported
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loader", "params"),
    [
        ("expired_token_loader", "expired_token"),
        ("expired_token_loader", ""),
        ("revoked_token_loader", ""),
        ("needs_fresh_token_loader", ""),
        ("user_loader_callback_loader", "identity"),
        ("user_loader_error_loader", "identity"),
        ("token_in_blacklist_loader", "decrypted_token"),
        ("claims_verification_loader", "user_claims"),
        ("claims_verification_failed_loader", ""),
        ("invalid_token_loader", ""),
        ("additional_claims_loader", "a, b"),
        ("user_lookup_loader", "jwt_header, jwt_payload, *, extra"),
    ],
)
def test_callback_that_does_not_fit_is_reported(loader: str, params: str) -> None:
    code = f"x = 1\n@jwt.{loader}\ndef callback({params}):\n    pass\n"
    found = findings_of(code)
    assert len(found) == 1 and found[0][0] == 2
    assert "callback()" in found[0][1] and "is called with (" in found[0][1]


@pytest.mark.parametrize(
    ("loader", "params"),
    [
        ("expired_token_loader", "jwt_header, jwt_payload"),
        ("user_lookup_loader", "_header, payload"),
        ("token_in_blocklist_loader", "*args"),
        ("revoked_token_loader", "jwt_header, jwt_payload, extra=None"),
        ("unauthorized_loader", "reason"),
        ("user_identity_loader", "user"),
        ("additional_claims_loader", "identity"),
        ("decode_key_loader", "jwt_header, jwt_payload"),
    ],
)
def test_callback_that_fits_is_not_reported(loader: str, params: str) -> None:
    assert findings_of(f"@jwt.{loader}\ndef callback({params}):\n    pass\n") == []


def test_callbacks_registered_by_call() -> None:
    code = """\
    def on_revoked():
        pass

    jwt.revoked_token_loader(on_revoked)
    jwt.decode_key_loader(lambda claims, headers: "k")
    jwt.decode_key_loader(lambda jwt_header, jwt_payload: "k")
    jwt.expired_token_loader(handlers.expired)
    """
    found = findings_of(code)
    assert [line for line, _ in found] == [4, 5]
    assert "on_revoked()" in found[0][1]
    assert "3.x's order" in found[1][1]


def test_3x_semantics_are_reported() -> None:
    code = """\
    from flask_jwt_extended import create_access_token, get_jwt_claims, get_raw_jwt
    from flask_jwt_extended import verify_fresh_jwt_in_request as v
    from flask_jwt_extended.config import config

    @jwt.user_claims_loader
    def claims(identity):
        return {}

    a = get_jwt_claims()
    b = get_raw_jwt()["identity"]
    c = get_raw_jwt().get("user_claims")
    d = create_access_token("a", user_claims={"type": "admin", "role": "x"})
    app.before_request(v)
    app.config["JWT_USER_CLAIMS"] = "c"
    app.config["JWT_CLAIMS_IN_REFRESH_TOKEN"] = True
    enabled = app.config["JWT_BLACKLIST_ENABLED"]
    patch("flask_jwt_extended.utils.get_jwt")
    """
    found: dict[int, str] = {}
    for line, message in findings_of(code):
        found[line] = f"{found.get(line, '')} | {message}"
    assert sorted(found) == [3, 5, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    assert "internal to Flask-JWT-Extended" in found[3]
    assert "additional_claims_loader" in found[5] and "refresh tokens" in found[5]
    assert "returned only the user claims" in found[9]
    assert "'sub'" in found[10]
    assert "'user_claims'" in found[11]
    assert "'type'" in found[12] and "overrides" in found[12] and "instead of the loader's" in found[12]
    assert "used as a value" in found[13]
    assert "JWT_USER_CLAIMS" in found[14]
    assert "JWT_CLAIMS_IN_REFRESH_TOKEN" in found[15]
    assert "remove it by hand" in found[16]
    assert "mock.patch" in found[17]


def test_user_claims_next_to_a_claims_loader() -> None:
    code = """\
    from flask_jwt_extended import create_access_token
    jwt.user_claims_loader(lambda identity: {})
    create_access_token("a", user_claims={"scope": "read"})
    """
    assert [line for line, message in findings_of(code) if "instead of the loader's" in message] == [3]


def test_removed_settings_are_reported_where_they_were() -> None:
    code = (
        'x = 1\napp.config["JWT_BLACKLIST_ENABLED"] = True\nsettings = dict(JWT_BLACKLIST_TOKEN_CHECKS=[])\n'
    )
    found = findings_of(code)
    assert [line for line, _ in found] == [2, 3]
    assert all("is gone (removed here)" in message for _, message in found)


def test_identity_claim_is_reported_for_the_whole_code_base() -> None:
    manager = migrate_source("from flask_jwt_extended import JWTManager\njwt = JWTManager()\n", "ext.py")
    views = migrate_source("from flask_jwt_extended import jwt_optional\n", "views.py")
    helpers = migrate_source(
        "import flask_jwt_extended as f\nx = claims['identity']\ny = f.get_jwt()['identity']\n", "h.py"
    )
    assert not manager.from_3x and views.from_3x and not helpers.from_3x
    assert not manager.findings and not helpers.findings
    found = project_findings([manager, views, helpers])
    assert [(f.filename, f.line) for f in found] == [("ext.py", 2), ("h.py", 2), ("h.py", 3)]
    assert "JWT_IDENTITY_CLAIM" in found[0].message and "'sub'" in found[1].message
    configured = migrate_source('app.config["JWT_IDENTITY_CLAIM"] = "identity"\n', "config.py")
    assert project_findings([manager, views, configured]) == []
    assert project_findings([manager, helpers]) == []  # a 4.x code base


def test_finding_format() -> None:
    assert str(Finding("app.py", 3, "why")) == "app.py:3: why"


def test_line_after() -> None:
    source = "a\nb\nremoved\nc\nold\nd\n"
    result = MigrationResult("f.py", source, "a\nb\nc\nnew\nd\n")
    assert [result.line_after(n) for n in range(1, 7)] == [1, 2, 3, 3, 4, 5]


# ---------------------------------------------------------------------------
# Files, directories and the command's options (in process)
# ---------------------------------------------------------------------------


def test_files_keep_encoding_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    source = "# -*- coding: latin-1 -*-\r\nfrom flask_jwt_extended import get_raw_jwt\r\nname = 'été'\r\n"
    path.write_bytes(source.encode("latin-1"))
    assert run([path], out=io.StringIO(), err=io.StringIO()) == 0
    assert path.read_bytes() == source.replace("flask_jwt_extended", "flask_jwt_guard").replace(
        "get_raw_jwt", "get_jwt"
    ).encode("latin-1")
    assert migrate_file(path).encoding == "iso-8859-1"


def test_directories_are_searched_except_environments(tmp_path: Path) -> None:
    for name in [
        "app.py",
        "pkg/views.py",
        "notes.txt",
        ".venv/lib.py",
        "venv/x.py",
        "node_modules/y.py",
        ".git/z.py",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("from flask_jwt_extended import get_jwt\n")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_python_files([tmp_path])]
    assert found == ["app.py", "pkg/views.py"]
    assert list(iter_python_files([tmp_path / "app.py"])) == [tmp_path / "app.py"]


def test_run_reports_and_continues_past_bad_files(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text("from flask_jwt_extended import get_raw_jwt\n")
    bad.write_text("def (:\n")
    out, err = io.StringIO(), io.StringIO()
    assert run([tmp_path, tmp_path / "missing"], out=out, err=err) == 2
    assert good.read_text() == "from flask_jwt_guard import get_jwt\n"
    assert f"rewrote {good}" in out.getvalue()
    assert f"{bad}: not migrated" in err.getvalue()
    assert "missing: no such file or directory" in err.getvalue()


def test_run_check_and_diff(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text("from flask_jwt_extended import jwt_required\n\n@jwt_required\ndef a(): ...\n")
    out, err = io.StringIO(), io.StringIO()
    assert run([path], check=True, out=out, err=err) == 1
    assert out.getvalue() == f"would rewrite {path}\n"
    out = io.StringIO()
    assert run([path], diff=True, out=out, err=err) == 0
    assert "-@jwt_required\n+@jwt_required()\n" in out.getvalue()
    assert path.read_text().startswith("from flask_jwt_extended")
    assert main([str(path)]) == 0
    assert main(["--check", str(path)]) == 0


def test_migrate_is_top_of_the_package() -> None:
    """Only the CLI may import the migration (L5); the migration needs no Flask."""

    def imports(path: Path) -> set[str]:
        """The modules ``path`` imports, relative ones as ``.name`` (``from . import x`` as ``.x``)."""
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                found.add(module)
                found |= {f"{module}.{alias.name}".replace("..", ".") for alias in node.names}
        return found

    for path in PACKAGE_DIR.rglob("*.py"):
        if path.stem not in {"migrate", "cli"}:
            assert not imports(path) & {".migrate", "flask_jwt_guard.migrate"}, path
    forbidden = {
        m for m in imports(PACKAGE_DIR / "migrate.py") if m.split(".")[0] in {"", "flask", "werkzeug"}
    }
    assert not forbidden


# ---------------------------------------------------------------------------
# The fixture apps, migrated by the command
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    before: Path
    after: Path
    command: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module", params=["v3", "v4"])
def migration(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Migration:
    """A fixture app copied and migrated by ``python -m flask_jwt_guard.migrate <dir>`` (read-only)."""
    root = tmp_path_factory.mktemp(request.param)
    after = copy_app(request.param, root)
    command = migrate_command(after)
    assert command.returncode == 0, command.stderr
    return Migration(FIXTURES / request.param, after, command)


def test_4x_app_passes_against_the_peer_as_written(tmp_path: Path) -> None:
    result = run_tests_of(copy_app("v4", tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_migrated_app_passes_against_flask_jwt_guard(migration: Migration) -> None:
    for path in migration.after.glob("*.py"):
        # What still names the peer is what was reported (its private modules).
        lines = [line for line in path.read_text().splitlines() if "flask_jwt_extended" in line]
        assert all(MARKER in line for line in lines), (path, lines)
    result = run_tests_of(migration.after)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\d+ passed", result.stdout) and "failed" not in result.stdout


def test_only_rewritten_lines_differ(migration: Migration) -> None:
    changed_lines = 0
    for before in sorted(migration.before.glob("*.py")):
        old = before.read_text().splitlines()
        new = (migration.after / before.name).read_text().splitlines()
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            assert tag in {"replace", "delete"}, (before.name, new[j1:j2])
            for line in old[i1:i2]:
                assert OLD_NAMES.search(line), f"{before.name}: {line!r} changed"
            for line in new[j1:j2]:
                assert NEW_NAMES.search(line), f"{before.name}: {line!r} appeared"
            if tag == "replace":
                # A line keeps its place, indentation and comment; only names in it change.
                for old_line, new_line in zip(old[i1:i2], new[j1:j2], strict=False):
                    assert old_line.split("#")[1:] == new_line.split("#")[1:] or not new_line.strip()
            changed_lines += i2 - i1
    assert changed_lines > 0


def test_second_run_changes_nothing(migration: Migration, tmp_path: Path) -> None:
    check = migrate_command("--check", migration.after)
    assert check.returncode == 0, check.stderr
    assert check.stdout == ""
    # And in place, on a copy (the migrated app is shared by the tests of this module).
    again = Path(shutil.copytree(migration.after, tmp_path / "again"))
    before = snapshot(again)
    out = io.StringIO()
    assert run([again], out=out, err=io.StringIO()) == 0
    assert out.getvalue() == ""
    assert snapshot(again) == before


@pytest.mark.parametrize("app", ["v3", "v4"])
def test_check_and_diff_change_nothing(app: str, tmp_path: Path) -> None:
    """``--check --diff`` before the migration: status 1, a diff, nothing written, the findings."""
    copy = copy_app(app, tmp_path)
    before = snapshot(copy)
    result = migrate_command("--check", "--diff", copy)
    assert result.returncode == 1, result.stderr
    assert snapshot(copy) == before
    assert re.search(r"^--- .*\.py\n\+\+\+ .*\.py\n@@ ", result.stdout, re.MULTILINE)
    assert "\n-from flask_jwt_extended import (\n+from flask_jwt_guard import (\n" in result.stdout
    # Nothing rewritten: the lines reported are exactly those marked in the fixture files.
    assert reported(result.stderr) == marked(copy)
    assert result.stderr.endswith(f"{sum(map(len, marked(copy).values()))} places need a person\n")
    if app == "v3":
        assert marked(copy)["legacy_callbacks.py"] >= set(range(30, 66, 5))  # the eight callbacks


def test_findings_point_into_the_rewritten_files(migration: Migration) -> None:
    """After a rewrite, the reported lines are those of the new files (markers on kept lines)."""
    assert all(
        reported(migration.command.stderr)[name] >= lines for name, lines in marked(migration.after).items()
    )
    if migration.before.name == "v4":
        assert reported(migration.command.stderr) == {}
        assert migration.command.stderr.endswith("0 places need a person\n")
