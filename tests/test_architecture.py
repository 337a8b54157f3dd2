"""The package's shape: compatibility import paths, private names, the layer contract, docstrings.

The tables of names below are what Flask-JWT-Extended 4.7.4 exposes at each import path, written
out so that these tests read no peer internals; ``test_table_covers_the_peer`` and
``test_exception_table_matches_the_peer`` check them against the installed peer.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, ModuleType
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "flask_jwt_guard"
PACKAGE_DIR = ROOT / "src" / PACKAGE
PEER = "flask_jwt_extended"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

#: Each exception class in ``flask_jwt_extended.exceptions`` and its nearest base class there.
PEER_EXCEPTION_PARENTS: dict[str, str | None] = {
    "JWTExtendedException": None,
    "CSRFError": "JWTExtendedException",
    "FreshTokenRequired": "JWTExtendedException",
    "InvalidHeaderError": "JWTExtendedException",
    "InvalidQueryParamError": "JWTExtendedException",
    "JWTDecodeError": "JWTExtendedException",
    "NoAuthorizationError": "JWTExtendedException",
    "RevokedTokenError": "JWTExtendedException",
    "UserClaimsVerificationError": "JWTExtendedException",
    "UserLookupError": "JWTExtendedException",
    "WrongTokenError": "JWTExtendedException",
}

#: The public names at each of the peer's import paths that ours must offer too.
COMPAT_NAMES: dict[str, tuple[str, ...]] = {
    "jwt_manager": ("JWTManager",),
    "view_decorators": ("LocationType", "jwt_required", "verify_jwt_in_request"),
    "utils": (
        "create_access_token",
        "create_refresh_token",
        "current_user",
        "current_user_context_processor",
        "decode_token",
        "get_csrf_token",
        "get_current_user",
        "get_jti",
        "get_jwt",
        "get_jwt_header",
        "get_jwt_identity",
        "get_jwt_request_location",
        "get_unverified_jwt_headers",
        "set_access_cookies",
        "set_refresh_cookies",
        "unset_access_cookies",
        "unset_jwt_cookies",
        "unset_refresh_cookies",
    ),
    "typing": ("ExpiresDelta", "Fresh"),
    "exceptions": tuple(PEER_EXCEPTION_PARENTS),
}

COMPAT_PATHS = [(module, name) for module, names in COMPAT_NAMES.items() for name in names]


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test, or fail it in CI, where a missing test dependency is an error."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: failing instead of skipping)")
    pytest.skip(reason)


def ancestors(name: str) -> list[str]:
    """The peer exception classes that ``name`` subclasses, nearest first, per the table."""
    found: list[str] = []
    parent = PEER_EXCEPTION_PARENTS[name]
    while parent is not None:
        found.append(parent)
        parent = PEER_EXCEPTION_PARENTS[parent]
    return found


def import_peer(module: str) -> ModuleType:
    try:
        return importlib.import_module(f"{PEER}.{module}")
    except ImportError as err:
        skip_or_fail(f"{PEER} (a test dependency) cannot be imported: {err}")


def is_private(name: str) -> bool:
    """``_name`` and ``__name`` are private; dunders such as ``__version__`` are not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def has_own_doc(obj: object) -> bool | None:
    """Whether a class, function or module has its own docstring; ``None`` for other objects.

    Only the type is inspected, never the object: a ``LocalProxy`` such as ``current_user``
    would resolve itself (and fail outside a request) or answer with its class's docstring.
    """
    if not issubclass(type(obj), (type, FunctionType, BuiltinFunctionType, ModuleType)):
        return None
    return bool((getattr(obj, "__doc__", None) or "").strip())


# ---------------------------------------------------------------------------
# Compatibility import paths
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "name"), COMPAT_PATHS, ids=[f"{m}.{n}" for m, n in COMPAT_PATHS])
def test_compat_import_path(module: str, name: str) -> None:
    compat = importlib.import_module(f"{PACKAGE}.{module}")
    assert hasattr(compat, name), f"`from {PACKAGE}.{module} import {name}` fails"
    package = importlib.import_module(PACKAGE)
    if hasattr(package, name):
        assert getattr(compat, name) is getattr(package, name), (
            f"{PACKAGE}.{module}.{name} is not the object that {PACKAGE}.{name} is"
        )


@pytest.mark.parametrize("name", list(PEER_EXCEPTION_PARENTS))
def test_exception_hierarchy(name: str) -> None:
    exceptions = importlib.import_module(f"{PACKAGE}.exceptions")
    ours = getattr(exceptions, name, None)
    assert isinstance(ours, type) and issubclass(ours, Exception), (
        f"{PACKAGE}.exceptions.{name} is not an exception class"
    )
    for ancestor in ancestors(name):
        base = getattr(exceptions, ancestor, None)
        assert isinstance(base, type) and issubclass(ours, base), (
            f"{PACKAGE}.exceptions.{name} does not subclass {ancestor}, as the peer's does"
        )


def public_names_defined_in(module: ModuleType) -> set[str]:
    """The public names that ``module`` defines itself, rather than imports.

    Functions and classes by their ``__module__``; other objects (type aliases, ``current_user``)
    by the module-level assignments in its source.
    """
    names = {
        name
        for name, obj in vars(module).items()
        if issubclass(type(obj), (type, FunctionType)) and obj.__module__ == module.__name__
    }
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("module", list(COMPAT_NAMES))
def test_table_covers_the_peer(module: str) -> None:
    missing = public_names_defined_in(import_peer(module)) - set(COMPAT_NAMES[module])
    assert not missing, f"{PEER}.{module} defines {sorted(missing)}: add them to COMPAT_NAMES"


def test_exception_table_matches_the_peer() -> None:
    peer = import_peer("exceptions")
    classes = {
        name: obj
        for name, obj in vars(peer).items()
        if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == peer.__name__
    }
    assert set(classes) == set(PEER_EXCEPTION_PARENTS)
    for name, cls in classes.items():
        bases = {other for other, base in classes.items() if base is not cls and issubclass(cls, base)}
        assert set(ancestors(name)) == bases, f"PEER_EXCEPTION_PARENTS is wrong about {name}"


# ---------------------------------------------------------------------------
# No module reads another module's private names
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceModule:
    """A module of the package, found on disk (the package need not import)."""

    name: str  # dotted, e.g. "flask_jwt_guard.tokens"; a package's __init__ is the package
    path: Path
    package: str  # where its relative imports start

    def absolute(self, node: ast.ImportFrom) -> str:
        """The module that a ``from ... import`` in this module imports from."""
        if node.level == 0:
            return node.module or ""
        parts = self.package.split(".")
        parts = parts[: len(parts) - node.level + 1]
        return ".".join([*parts, node.module] if node.module else parts)


def find_modules() -> list[SourceModule]:
    modules = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
            package = ".".join(parts)
        else:
            package = ".".join(parts[:-1])
        modules.append(SourceModule(".".join(parts), path, package))
    return modules


MODULES = find_modules()
MODULE_NAMES = frozenset(module.name for module in MODULES)


def is_ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(f"{PACKAGE}.")


def private_reads(module: SourceModule) -> list[str]:
    """Each place where ``module`` reads a private name of another module of the package."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
    bound: dict[str, str] = {}  # local name -> the module of ours that an import bound it to
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_ours(alias.name):
                    local = alias.asname or alias.name.partition(".")[0]
                    bound[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom):
            source = module.absolute(node)
            if not is_ours(source) or source == module.name:
                continue
            for alias in node.names:
                if f"{source}.{alias.name}" in MODULE_NAMES:  # a submodule, private ones included
                    bound[alias.asname or alias.name] = f"{source}.{alias.name}"
                elif is_private(alias.name):
                    found.append(f"line {node.lineno}: from {source} import {alias.name}")

    def module_of(expr: ast.expr) -> str | None:
        """The module of ours that ``expr`` (``name`` or ``name.sub``) refers to, if any."""
        if isinstance(expr, ast.Name):
            return bound.get(expr.id)
        if isinstance(expr, ast.Attribute):
            parent = module_of(expr.value)
            if parent is not None and f"{parent}.{expr.attr}" in MODULE_NAMES:
                return f"{parent}.{expr.attr}"
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            owner = module_of(node.value)
            if owner is not None and owner != module.name:
                found.append(f"line {node.lineno}: {ast.unparse(node)} (a private name of {owner})")
    return found


@pytest.mark.parametrize("module", MODULES, ids=[str(m.path.relative_to(PACKAGE_DIR)) for m in MODULES])
def test_no_private_names_of_other_modules(module: SourceModule) -> None:
    found = private_reads(module)
    assert not found, f"{module.name} reads private names of other modules:\n" + "\n".join(found)


# ---------------------------------------------------------------------------
# The layer contract ([tool.importlinter] in pyproject.toml)
# ---------------------------------------------------------------------------


def test_layer_contract() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        skip_or_fail(f"lint-imports is not installed beside {sys.executable} (pip install -e '.[test]')")
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}\n{result.stderr}"


# ---------------------------------------------------------------------------
# Docstrings
# ---------------------------------------------------------------------------


@cache
def documented_assignments() -> frozenset[str]:
    """Names assigned at module level in the package with a docstring after them or ``#:`` before."""
    names: set[str] = set()
    for module in MODULES:
        source = module.path.read_text(encoding="utf-8")
        lines = source.splitlines()
        body = ast.parse(source).body
        for node, after in pairwise([*body, None]):  # each statement and the one after it
            if isinstance(node, ast.Assign):
                targets = [target.id for target in node.targets if isinstance(target, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            else:
                continue
            docstring = (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
                and bool(after.value.value.strip())
            )
            comment = node.lineno >= 2 and lines[node.lineno - 2].strip().startswith("#:")
            if docstring or comment:
                names.update(targets)
    return frozenset(names)


def test_public_names_have_docstrings() -> None:
    package = importlib.import_module(PACKAGE)
    undocumented = []
    for name in package.__all__:
        if name.startswith("_"):
            continue
        own = has_own_doc(getattr(package, name))
        if own is False or (own is None and name not in documented_assignments()):
            undocumented.append(name)
    assert not undocumented, f"public names without a docstring: {undocumented}"
