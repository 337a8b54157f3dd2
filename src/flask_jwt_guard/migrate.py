"""Rewrite a code base from Flask-JWT-Extended 3.x or 4.x to Flask-JWT-Guard.

``python -m flask_jwt_guard.migrate PATH... [--check] [--diff]`` (also ``flask jwt migrate``).

What is mechanical is rewritten in place, through a concrete syntax tree (LibCST), so that
formatting and comments outside the rewritten names stay as they were:

- import paths: ``flask_jwt_extended`` and its public modules (``view_decorators``, ``utils``,
  ``jwt_manager``, ``typing``, ``exceptions``) become ``flask_jwt_guard``'s;
- 3.x names become their 4.x equivalents: ``@jwt_optional`` is ``@jwt_required(optional=True)``,
  a bare ``@jwt_required`` is ``@jwt_required()``, ``verify_fresh_jwt_in_request()`` is
  ``verify_jwt_in_request(fresh=True)``, ``get_raw_jwt`` is ``get_jwt`` (see :data:`RENAMES`); the
  renamed loaders (:data:`RENAMED_LOADERS`); ``create_*_token(user_claims=..., headers=...)``
  keywords; the imported names follow, deduplicated;
- ``JWT_BLACKLIST_ENABLED`` and ``JWT_BLACKLIST_TOKEN_CHECKS`` settings are removed.

What needs a person (a callback whose arguments changed, a claim that moved, a setting that is
gone) is reported as a :class:`Finding`, with its file and line. A second run changes nothing.

Only references are rewritten: a name (or ``module.name``) whose every binding, per LibCST's scope
analysis, is an import from ``flask_jwt_extended`` (or ``flask_jwt_guard``), or a free name under
``from flask_jwt_extended import *``. A function, class, parameter, keyword or attribute of another
object that happens to share a 3.x name is left alone, and so is a use of a name that is bound by
such an import and by something else of the module (that use is reported). Should a rewritten file
still not parse, it is left as it was, reported as ``path:line: could not rewrite safely`` and the
exit status is 2.

``jwt_required`` is both 3.x's decorator and 4.x's decorator *factory*, so the uses of the bare
name are told apart thus:

- applied to a view, it is 3.x's and becomes ``jwt_required()``: a bare ``@jwt_required``, an item
  of a ``decorators = [...]`` (or ``method_decorators``) list of a view class, which Flask applies
  to the view the same way, and ``jwt_required(view)``;
- called with flags (``jwt_required()``, ``jwt_required(fresh=True)``), it is 4.x's: left alone;
- anywhere else it is a value (``partial(jwt_required, fresh=True)``, a default argument
  ``guard=jwt_required``): left alone in a 4.x file; in a 3.x file, reported and left alone, since
  what it should become depends on how it is used. A file is 3.x when it uses something that only
  3.x has: a 3.x name of the package (``jwt_optional``, ``get_raw_jwt``... imported or referred to,
  see :data:`RENAMES`), a 3.x loader (:data:`RENAMED_LOADERS`), or ``jwt_required`` applied to a
  view as above. The 3.x-only decorators (``jwt_optional``...) are rewritten wherever they are used,
  as ``jwt_required(optional=True)`` is exactly what they were.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import sys
import tokenize
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Literal, TextIO, TypeVar

try:
    import libcst as cst
    from libcst.metadata import (
        Access,
        ImportAssignment,
        ParentNodeProvider,
        PositionProvider,
        ScopeProvider,
    )
except ImportError as error:  # pragma: no cover - the extra is missing
    raise ImportError("the migration command needs LibCST: pip install 'flask-jwt-guard[migrate]'") from error

__all__ = [
    "Change",
    "Finding",
    "MigrationResult",
    "iter_python_files",
    "main",
    "migrate_file",
    "migrate_source",
    "project_findings",
    "run",
]

#: The package migrated from (Flask-JWT-Extended) and the one migrated to.
PEER = "flask_jwt_extended"
GUARD = "flask_jwt_guard"
#: The peer's modules that Flask-JWT-Guard offers under the same names.
COMPAT_MODULES = frozenset({"view_decorators", "utils", "jwt_manager", "typing", "exceptions"})
#: Directories never searched for ``*.py`` files.
SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__"})


@dataclass(frozen=True)
class Rename:
    """A 3.x name and what it becomes.

    :param new: the 4.x name.
    :param flag: for a decorator or ``verify_*`` function, the keyword (set to ``True``) that the
        4.x call needs, e.g. ``"optional"``.
    :param kind: ``"decorator"`` (every reference becomes a call), ``"verify"`` (a call gains the
        keyword) or ``"name"`` (a plain rename).
    :param note: why a person should look at each use, if they should.
    """

    new: str
    flag: str | None = None
    kind: Literal["decorator", "verify", "name"] = "name"
    note: str | None = None


#: Flask-JWT-Extended 3.x names (as imported from the package or its modules) and their 4.x form.
RENAMES: dict[str, Rename] = {
    "jwt_required": Rename("jwt_required", kind="decorator"),
    "jwt_optional": Rename("jwt_required", "optional", "decorator"),
    "fresh_jwt_required": Rename("jwt_required", "fresh", "decorator"),
    "jwt_refresh_token_required": Rename("jwt_required", "refresh", "decorator"),
    "verify_jwt_in_request_optional": Rename("verify_jwt_in_request", "optional", "verify"),
    "verify_fresh_jwt_in_request": Rename("verify_jwt_in_request", "fresh", "verify"),
    "verify_jwt_refresh_token_in_request": Rename("verify_jwt_in_request", "refresh", "verify"),
    "get_raw_jwt": Rename("get_jwt"),
    "get_raw_jwt_header": Rename("get_jwt_header"),
    "get_jwt_claims": Rename(
        "get_jwt",
        note="get_jwt_claims() (3.x) returned only the user claims; get_jwt() returns the whole"
        " payload, where the additional claims now sit at the top level: get_jwt()['role'] still"
        " works, but code that iterates, serialises or compares the dict sees sub, exp, jti... too",
    ),
    "UserLoadError": Rename("UserLookupError"),
}

_TOKEN_ARGS = ("jwt_header", "jwt_payload")
#: Each loader (the 4.x name) and the arguments its callback is called with.
LOADER_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "additional_claims_loader": ("identity",),
    "additional_headers_loader": ("identity",),
    "decode_key_loader": _TOKEN_ARGS,
    "encode_key_loader": ("identity",),
    "expired_token_loader": _TOKEN_ARGS,
    "invalid_token_loader": ("error_string",),
    "needs_fresh_token_loader": _TOKEN_ARGS,
    "revoked_token_loader": _TOKEN_ARGS,
    "token_in_blocklist_loader": _TOKEN_ARGS,
    "token_verification_failed_loader": _TOKEN_ARGS,
    "token_verification_loader": _TOKEN_ARGS,
    "unauthorized_loader": ("error_string",),
    "user_identity_loader": ("identity",),
    "user_lookup_error_loader": _TOKEN_ARGS,
    "user_lookup_loader": _TOKEN_ARGS,
}

#: 3.x ``JWTManager`` loaders and their 4.x names (renamed wherever an attribute has the name).
RENAMED_LOADERS: dict[str, str] = {
    "user_claims_loader": "additional_claims_loader",
    "user_loader_callback_loader": "user_lookup_loader",
    "user_loader_error_loader": "user_lookup_error_loader",
    "token_in_blacklist_loader": "token_in_blocklist_loader",
    "claims_verification_loader": "token_verification_loader",
    "claims_verification_failed_loader": "token_verification_failed_loader",
}

#: What a person should know about a callback whose arguments do not fit, by loader.
_LOADER_HINTS: dict[str, str] = {
    "user_lookup_loader": "3.x passed the identity; it is jwt_payload['sub'] now",
    "user_lookup_error_loader": "3.x passed the identity; it is jwt_payload['sub'] now",
    "token_in_blocklist_loader": "3.x passed the decoded token; it is jwt_payload now",
    "token_verification_loader": "3.x passed the user claims; they are at the top level of jwt_payload now",
    "decode_key_loader": "3.x passed (claims, headers): the order is reversed",
    "expired_token_loader": "3.x passed the expired token's claims, or nothing",
}

#: Notes on loaders that are renamed mechanically but whose behaviour changed.
_LOADER_NOTES: dict[str, str] = {
    "user_claims_loader": "user_claims_loader is now additional_claims_loader: its claims go at the"
    " top level of the payload (3.x nested them under 'user_claims', JWT_USER_CLAIMS) and into refresh"
    " tokens too (3.x: only with JWT_CLAIMS_IN_REFRESH_TOKEN); readers of ['user_claims'] must change",
}

#: 3.x settings that 4.x dropped: removed where they are set, reported everywhere.
REMOVED_SETTINGS: dict[str, str] = {
    "JWT_BLACKLIST_ENABLED": "JWT_BLACKLIST_ENABLED is gone (removed here): a token_in_blocklist_loader"
    " runs for every token as soon as it is registered; if this was False while a loader is registered,"
    " the loader now runs",
    "JWT_BLACKLIST_TOKEN_CHECKS": "JWT_BLACKLIST_TOKEN_CHECKS is gone (removed here): the"
    " token_in_blocklist_loader sees every token type; check jwt_payload['type'] in it to skip some",
}
#: 3.x settings that 4.x ignores; reported, left in place.
REPORTED_SETTINGS: dict[str, str] = {
    "JWT_USER_CLAIMS": "JWT_USER_CLAIMS is ignored by 4.x: additional claims sit at the top level of the"
    " payload; tokens issued by 3.x keep them under this key",
    "JWT_CLAIMS_IN_REFRESH_TOKEN": "JWT_CLAIMS_IN_REFRESH_TOKEN is ignored by 4.x: the"
    " additional_claims_loader's claims go into refresh tokens too",
}
_IDENTITY_SETTING = "JWT_IDENTITY_CLAIM"
_IDENTITY_NOTE = (
    "the identity claim is 'sub' since 4.0 (3.x: 'identity', JWT_IDENTITY_CLAIM): tokens issued before"
    " the upgrade, and services that decode these tokens, expect 'identity'; set"
    " JWT_IDENTITY_CLAIM = 'identity' to keep it"
)
_USER_CLAIMS_READ_NOTE = (
    "reads 'user_claims': 3.x nested the user claims there; 4.x puts them at the top level of the payload"
)
_IDENTITY_READ_NOTE = (
    "reads 'identity': if this is a token payload, the identity is under 'sub' since 4.0 (or use"
    " get_jwt_identity())"
)
_MERGED_CLAIMS_NOTE = (
    "user_claims is now additional_claims: 4.x adds these to the additional_claims_loader's claims"
    " (3.x used them instead of the loader's)"
)
#: Claims that ``user_claims`` could set without harm in 3.x (they were nested) but that override
#: the token's own at the top level in 4.x.
_RESERVED_CLAIMS = frozenset({"sub", "identity", "iat", "nbf", "exp", "jti", "type", "fresh", "csrf"})
#: ``create_*_token`` keywords of 3.x and their 4.x names.
_TOKEN_KEYWORDS = {"user_claims": "additional_claims", "headers": "additional_headers"}
_TOKEN_FUNCTIONS = frozenset({"create_access_token", "create_refresh_token"})
_PAYLOAD_FUNCTIONS = frozenset({"get_raw_jwt", "get_jwt", "decode_token", "get_jwt_claims"})
_PEER_PATH = re.compile(r"flask_jwt_extended(\.\w+)*")


@dataclass(frozen=True, order=True)
class Change:
    """One rewrite: ``before`` (source code) became ``after`` (``""`` when removed) at ``line``."""

    line: int
    before: str
    after: str


@dataclass(frozen=True, order=True)
class Finding:
    """A place that needs a person, with why.

    ``str(finding)`` is ``path:line: message``, the form compilers and linters print.
    """

    filename: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}: {self.message}"


@dataclass(frozen=True)
class MigrationResult:
    """What :func:`migrate_source` made of one file.

    :param filename: the name given, used in findings and diffs.
    :param source: the code before.
    :param code: the code after (equal to ``source`` when nothing changed).
    :param changes: the rewrites, by line of ``source``.
    :param findings: the places that need a person, whatever the rest of the code base.
    :param from_3x: whether the file used anything of Flask-JWT-Extended 3.x.
    :param identity_findings: the places that need a person if the code base comes from 3.x
        and keeps 4.x's identity claim, ``sub`` (where a ``JWTManager`` is made, where a payload's
        ``identity`` is read); :func:`project_findings` decides.
    :param sets_identity_claim: whether the file mentions ``JWT_IDENTITY_CLAIM``.
    :param encoding: the file's encoding, for writing it back.
    :param safe: ``False`` if the rewrite did not parse: then ``code`` is ``source``, and a finding
        says ``could not rewrite safely``.
    """

    filename: str
    source: str
    code: str
    changes: tuple[Change, ...] = ()
    findings: tuple[Finding, ...] = ()
    from_3x: bool = False
    identity_findings: tuple[Finding, ...] = ()
    sets_identity_claim: bool = False
    encoding: str = "utf-8"
    safe: bool = True

    @property
    def changed(self) -> bool:
        """Whether the code would change."""
        return self.code != self.source

    def diff(self) -> str:
        """The change as a unified diff (``""`` when there is none)."""
        relative = not os.path.isabs(self.filename)
        return "".join(
            difflib.unified_diff(
                self.source.splitlines(keepends=True),
                self.code.splitlines(keepends=True),
                fromfile=f"a/{self.filename}" if relative else self.filename,
                tofile=f"b/{self.filename}" if relative else self.filename,
            )
        )

    def line_after(self, line: int) -> int:
        """Where ``line`` of the source is in the new code (for a removed line: what took its place)."""
        before, after = self.source.splitlines(), self.code.splitlines()
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if i1 < line <= i2:
                if tag == "equal":
                    return j1 + line - i1
                return j1 + min(line - i1, max(j2 - j1, 1))
        return line


@cache
def _exports(module: str) -> frozenset[str]:
    """The public names of ``flask_jwt_guard`` (``module == ""``) or of a compatibility module.

    Read from the module's ``__all__`` without importing it, so the table cannot drift.
    """
    path = Path(__file__).with_name(f"{module or '__init__'}.py")
    for node in ast.parse(path.read_text("utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            assert isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def _dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of names, else ``None``."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


def _with_root(node: cst.Name | cst.Attribute, root: str) -> cst.Name | cst.Attribute:
    """``node`` with its leftmost name replaced, everything else (whitespace, parentheses) kept."""
    if isinstance(node, cst.Name):
        return node.with_changes(value=root)
    value = node.value
    assert isinstance(value, cst.Name | cst.Attribute)
    return node.with_changes(value=_with_root(value, root))


def _string_value(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _setting_key(node: cst.CSTNode) -> str | None:
    """The ``JWT_*`` key that a string or a name spells, if any."""
    value = node.value if isinstance(node, cst.Name) else _string_value(node)
    return value if value is not None and value.startswith("JWT_") else None


def _true_keyword(name: str) -> cst.Arg:
    no_space = cst.SimpleWhitespace("")
    return cst.Arg(
        keyword=cst.Name(name),
        value=cst.Name("True"),
        equal=cst.AssignEqual(whitespace_before=no_space, whitespace_after=no_space),
    )


_Item = TypeVar("_Item", cst.ImportAlias, cst.Arg, cst.BaseDictElement)


def _without(
    items: Sequence[_Item],
    drop: Sequence[bool],
    closing: cst.BaseParenthesizableWhitespace | None = None,
) -> tuple[list[_Item], cst.BaseParenthesizableWhitespace | None]:
    """``items`` less the dropped ones, and the whitespace before the closing bracket.

    ``closing`` is that whitespace where the bracket owns it (a dict's ``}``). When the last item
    goes, the new last one keeps its own trailing comment and takes the removed one's way of
    ending the list (a trailing comma or not, the line break before the bracket), not its comment.
    """
    kept = [item for item, dropped in zip(items, drop, strict=True) if not dropped]
    if not kept or not drop[-1]:
        return kept, closing
    last = kept[-1]
    comma, removed = last.comma, items[-1].comma
    if not (isinstance(comma, cst.Comma) and isinstance(removed, cst.Comma)):
        kept[-1] = last.with_changes(comma=removed)
        return kept, closing
    if closing is not None and not isinstance(removed.whitespace_after, cst.ParenthesizedWhitespace):
        kept[-1] = last.with_changes(comma=comma.with_changes(whitespace_after=removed.whitespace_after))
        return kept, _merge_gap(comma.whitespace_after, closing)
    merged = _merge_gap(comma.whitespace_after, removed.whitespace_after)
    kept[-1] = last.with_changes(comma=comma.with_changes(whitespace_after=merged))
    return kept, closing


def _merge_gap(
    mine: cst.BaseParenthesizableWhitespace, theirs: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """The whitespace after an item (``mine``) that now ends where ``theirs`` ended."""
    if isinstance(mine, cst.ParenthesizedWhitespace) and isinstance(theirs, cst.ParenthesizedWhitespace):
        return mine.with_changes(
            empty_lines=[*mine.empty_lines, *theirs.empty_lines],
            indent=theirs.indent,
            last_line=theirs.last_line,
        )
    return theirs


def _removable_setting(statement: cst.BaseSmallStatement, names: bool) -> tuple[str, cst.CSTNode] | None:
    """``(key, key node)`` when ``statement`` only sets a removed setting.

    ``x["KEY"] = v``, ``x.setdefault("KEY", v)`` and, where ``names`` (a module or class body: a
    config object), ``KEY = v`` and ``KEY: T = v``.
    """
    target: cst.BaseExpression | None = None
    if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
        target = statement.targets[0].target
    elif isinstance(statement, cst.AnnAssign) and statement.value is not None:
        target = statement.target
    key_node: cst.CSTNode | None = None
    if isinstance(target, cst.Name) and names:
        key_node = target
    elif isinstance(target, cst.Subscript) and len(target.slice) == 1:
        index = target.slice[0].slice
        key_node = index.value if isinstance(index, cst.Index) else None
    elif isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
        call = statement.value
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "setdefault" and call.args:
            key_node = call.args[0].value
    key = None if key_node is None else _setting_key(key_node)
    if key_node is None or key not in REMOVED_SETTINGS:
        return None
    return key, key_node


def _drop_removed_settings(
    body: Sequence[cst.BaseStatement], footer: Sequence[cst.EmptyLine], names: bool
) -> tuple[list[cst.BaseStatement], list[cst.EmptyLine]] | None:
    """``(body, footer)`` without the statements that only set a removed setting; ``None`` if none do.

    Comment lines above a removed statement move to the next one (or to the footer): nothing the
    user wrote goes but the setting itself. A body left empty gets ``pass``.
    """
    new_body: list[cst.BaseStatement] = []
    carried: list[cst.EmptyLine] = []
    touched = False
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            drop = [_removable_setting(small, names) is not None for small in statement.body]
            if any(drop):
                touched = True
                kept = [small for small, dropped in zip(statement.body, drop, strict=True) if not dropped]
                if not kept:
                    carried += [line for line in statement.leading_lines if line.comment is not None]
                    continue
                if drop[-1]:
                    kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                statement = statement.with_changes(body=kept)
        if carried and isinstance(statement, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            statement = statement.with_changes(leading_lines=[*carried, *statement.leading_lines])
            carried = []
        new_body.append(statement)
    if not touched:
        return None
    if not new_body:
        new_body.append(cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=carried))
        carried = []
    return new_body, [*carried, *footer]


def _arity_problem(params: cst.Parameters, count: int) -> str | None:
    """Why a callback with ``params`` cannot be called with ``count`` positional arguments."""
    positional = [*params.posonly_params, *params.params]
    required = [p for p in positional if p.default is None]
    if any(p.default is None for p in params.kwonly_params):
        return "has keyword-only parameters without defaults"
    if len(required) <= count and (isinstance(params.star_arg, cst.Param) or count <= len(positional)):
        return None
    names = ", ".join(p.name.value for p in positional)
    return f"takes ({names})" if positional else "takes no arguments"


class _Prescan(cst.CSTVisitor):
    """Facts needed before the rewrite: imports of the library, module-level functions, loaders."""

    def __init__(self) -> None:
        self.star_import = False
        self.imports_library = False
        self.functions: dict[str, cst.FunctionDef] = {}
        self.claims_loader = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.claims_loader |= node.attr.value in {"user_claims_loader", "additional_claims_loader"}

    def visit_Module(self, node: cst.Module) -> None:
        for statement in node.body:
            if isinstance(statement, cst.FunctionDef):
                self.functions[statement.name.value] = statement

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if (_dotted(alias.name) or "").split(".")[0] in {PEER, GUARD}:
                self.imports_library = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = None if node.module is None or node.relative else _dotted(node.module)
        root = None if module is None else module.split(".")[0]
        self.imports_library |= root in {PEER, GUARD}
        self.star_import |= root == PEER and isinstance(node.names, cst.ImportStar)


#: Where ``decorators = [...]`` lists the decorators that a view class applies to its view(s):
#: Flask's ``MethodView`` and Flask-RESTful's ``Resource``.
_DECORATOR_LISTS = frozenset({"decorators", "method_decorators"})
#: The names that only Flask-JWT-Extended 3.x has.
_3X_NAMES = frozenset(RENAMES) - {"jwt_required"}


def _root_name(node: cst.BaseExpression) -> cst.Name | None:
    """``a`` of ``a.b.c``."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return node if isinstance(node, cst.Name) else None


def _applied_in_list(node: cst.Assign | cst.AnnAssign) -> list[cst.BaseExpression]:
    """The items of ``decorators = [...]`` (or ``method_decorators``), which are applied to a view."""
    targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
    if not any(isinstance(t, cst.Name) and t.value in _DECORATOR_LISTS for t in targets):
        return []
    value = node.value
    if not isinstance(value, cst.List | cst.Tuple):
        return []
    return [e.value for e in value.elements if isinstance(e, cst.Element)]


class _References:
    """What the names of a module refer to, from LibCST's scope analysis."""

    def __init__(self, wrapper: cst.MetadataWrapper, star_import: bool) -> None:
        self.star_import = star_import
        scopes = {id(s): s for s in wrapper.resolve(ScopeProvider).values() if s is not None}
        #: The access of each loaded name, by ``id`` of the name node (for ``a.b`` accesses of a
        #: dotted import, also by the ``id`` of ``a``).
        self._accesses: dict[int, Access] = {}
        for scope in scopes.values():
            for access in scope.accesses:
                self._accesses[id(access.node)] = access
                if isinstance(access.node, cst.Attribute):
                    root = _root_name(access.node)
                    if root is not None:
                        self._accesses.setdefault(id(root), access)

    def _lookup(self, node: cst.CSTNode) -> tuple[str, Access] | None:
        """``(dotted name, access)`` if ``node`` is a name or ``name.attr...`` read from a binding."""
        dotted = _dotted(node) if isinstance(node, cst.BaseExpression) else None
        root = _root_name(node) if isinstance(node, cst.BaseExpression) else None
        access = None if root is None else self._accesses.get(id(root))
        return None if dotted is None or access is None else (dotted, access)

    @staticmethod
    def _library_names(dotted: str, access: Access) -> set[str] | None:
        """The qualified names of ``dotted`` if every binding it reads is an import of the library."""
        names: set[str] = set()
        for referent in access.referents:
            if not isinstance(referent, ImportAssignment):
                return None
            qualified = {q.name for q in referent.get_qualified_names_for(dotted)}
            if not qualified or any(q.split(".")[0] not in {PEER, GUARD} for q in qualified):
                return None
            names |= qualified
        return names

    def target(self, node: cst.CSTNode) -> str | None:
        """The name of the object of the peer (or ours) that ``node`` (an original node) refers to.

        ``"flask_jwt_extended"`` for the package itself; ``None`` if ``node`` is not a reference to
        the library: a definition, a parameter, a keyword, the attribute of another object, a name
        bound by something else (too), or not a name at all.
        """
        found = self._lookup(node)
        if found is None:
            return None
        dotted, access = found
        if not access.referents:
            # Bound by ``from flask_jwt_extended import *`` (or by nothing).
            name = node.value if isinstance(node, cst.Name) else None
            if self.star_import and name is not None and (name in RENAMES or name in _exports("")):
                return name
            return None
        names = self._library_names(dotted, access)
        if not names:
            return None
        targets = {name.split(".")[-1] for name in names}
        return targets.pop() if len(targets) == 1 else None

    def shadowed(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` reads a binding that is an import of the library and another that is not."""
        found = self._lookup(node)
        if found is None:
            return False
        referents = found[1].referents
        library = [
            r
            for r in referents
            if isinstance(r, ImportAssignment)
            and any(q.name.split(".")[0] in {PEER, GUARD} for q in r.get_qualified_names_for(found[0]))
        ]
        return bool(library) and len(library) < len(referents)


class _Legacy(cst.CSTVisitor):
    """Whether a module uses something that only Flask-JWT-Extended 3.x has (see the module's doc)."""

    def __init__(self, references: _References) -> None:
        super().__init__()
        self.references = references
        self.found = False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = None if node.module is None or node.relative else _dotted(node.module)
        if (module or "").split(".")[0] == PEER and not isinstance(node.names, cst.ImportStar):
            self.found |= any(isinstance(a.name, cst.Name) and a.name.value in _3X_NAMES for a in node.names)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.found |= self.references.target(node) in _3X_NAMES

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.found |= node.attr.value in RENAMED_LOADERS or self.references.target(node) in _3X_NAMES

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self.found |= self.references.target(node.decorator) == "jwt_required"

    def visit_Call(self, node: cst.Call) -> None:
        self.found |= self.references.target(node.func) == "jwt_required" and _is_3x_call(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.found |= any(self.references.target(v) == "jwt_required" for v in _applied_in_list(node))


def _is_3x_call(node: cst.Call) -> bool:
    """``jwt_required(view)``: 3.x's decorator applied by hand (4.x's first parameter is a flag)."""
    if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
        return False
    value = node.args[0].value
    return not (isinstance(value, cst.Name) and value.value in {"True", "False", "None"})


class _Migrator(cst.CSTTransformer):
    """The rewrite of one module. ``visit_*`` see the original nodes (and so their positions)."""

    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, wrapper: cst.MetadataWrapper, filename: str) -> None:
        super().__init__()
        self.module = module = wrapper.module
        self.filename = filename
        self.changes: list[Change] = []
        self.findings: list[Finding] = []
        self.from_3x = False
        self.identity_findings: list[Finding] = []
        self.sets_identity_claim = False
        prescan = _Prescan()
        module.visit(prescan)
        self.prescan = prescan
        self.references = _References(wrapper, prescan.star_import)
        legacy = _Legacy(self.references)
        module.visit(legacy)
        #: Whether the module uses something that only 3.x has (see the module's doc).
        self.legacy = legacy.found
        #: ``func`` nodes of calls that are 4.x ``jwt_required(...)`` calls, or ``verify_*()`` calls.
        self._called: set[int] = set()
        #: Bare ``jwt_required`` (and 3.x decorators) applied to a view: ``@x``, ``x(view)``,
        #: ``decorators = [x]``.
        self._applied: set[int] = set()
        #: Setting keys already reported as removed.
        self._handled: set[int] = set()
        #: ``(local name, target)`` bound by module-level imports from the package.
        self._module_bindings: set[tuple[str, str]] = set()

    # -- helpers ----------------------------------------------------------------------------------

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _find(self, node: cst.CSTNode, message: str) -> None:
        self.findings.append(Finding(self.filename, self._line(node), message))

    def _change(self, node: cst.CSTNode, after: cst.CSTNode | str, *, legacy: bool = True) -> None:
        text = after if isinstance(after, str) else self.module.code_for_node(after)
        self.changes.append(Change(self._line(node), self.module.code_for_node(node), text))
        self.from_3x |= legacy

    def _peer_target(self, node: cst.CSTNode) -> str | None:
        """The name of the object of the peer (or ours) that ``node`` (an original node) refers to.

        ``"flask_jwt_extended"`` for the package itself; ``None`` if ``node`` is not a reference to
        the library's (see :meth:`_References.target`). Ours too, so that a bare ``@jwt_required``
        left after an import swap by hand is mended.
        """
        return self.references.target(node)

    # -- imports ----------------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def _guard_module(self, node: cst.Name | cst.Attribute) -> cst.Name | cst.Attribute | None:
        """The ``flask_jwt_guard`` module for a peer module path; ``None`` (and a finding) if none."""
        dotted = _dotted(node) or ""
        parts = dotted.split(".")
        if parts[0] != PEER:
            return None
        if len(parts) > 2 or (len(parts) == 2 and parts[1] not in COMPAT_MODULES):
            self._find(
                node,
                f"{dotted} is internal to Flask-JWT-Extended: Flask-JWT-Guard has no such module;"
                f" use the public names of {GUARD}",
            )
            return None
        return _with_root(node, GUARD)

    def leave_Import(
        self, original_node: cst.Import, updated_node: cst.Import
    ) -> cst.BaseSmallStatement | cst.FlattenSentinel[cst.BaseSmallStatement] | cst.RemovalSentinel:
        # visit_Import returned False: the aliases are the original nodes.
        names = []
        for alias in original_node.names:
            new_name = self._guard_module(alias.name)
            if new_name is not None:
                self._change(alias.name, new_name, legacy=False)
                alias = alias.with_changes(name=new_name)
            names.append(alias)
        return updated_node.with_changes(names=names)

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.BaseSmallStatement | cst.FlattenSentinel[cst.BaseSmallStatement] | cst.RemovalSentinel:
        # visit_ImportFrom returned False: the children are the original nodes.
        module = original_node.module
        if module is None or original_node.relative:
            return updated_node
        new_module = self._guard_module(module)
        if new_module is None:
            return updated_node
        self._change(module, new_module, legacy=False)
        submodule = (_dotted(module) or "").partition(".")[2]
        updated_node = updated_node.with_changes(module=new_module)
        if isinstance(original_node.names, cst.ImportStar):
            return updated_node
        parent = self.get_metadata(ParentNodeProvider, original_node)
        at_module_level = isinstance(self.get_metadata(ParentNodeProvider, parent), cst.Module)
        available = _exports(submodule) | (COMPAT_MODULES if not submodule else frozenset())
        names: list[cst.ImportAlias] = []
        bindings: list[tuple[str, str]] = []
        renamed: list[bool] = []
        for alias in original_node.names:
            old = alias.name.value if isinstance(alias.name, cst.Name) else ""
            rename = RENAMES.get(old)
            new = rename.new if rename is not None else old
            if new != old:
                self._change(alias.name, new)
                alias = alias.with_changes(name=alias.name.with_changes(value=new))
            elif old not in available and not old.startswith("__"):
                self._find(alias.name, f"{old} is not offered by {_dotted(new_module)}: it has no equivalent")
            local = alias.asname.name if alias.asname is not None else None
            names.append(alias)
            bindings.append((local.value if isinstance(local, cst.Name) else new, new))
            renamed.append(new != old)
        # A renamed name that is bound already (``jwt_optional`` next to ``jwt_required``) goes:
        # bound by this statement, or by an earlier one at module level when this one is too.
        bound = {b for b, r in zip(bindings, renamed, strict=True) if not r}
        if at_module_level:
            bound |= self._module_bindings
        drop: list[bool] = []
        for binding, was_renamed in zip(bindings, renamed, strict=True):
            drop.append(was_renamed and binding in bound)
            bound.add(binding)
        if at_module_level:
            self._module_bindings |= bound
        kept, _ = _without(names, drop)
        if not kept:
            return cst.RemoveFromParent()
        return updated_node.with_changes(names=kept)

    # -- references ------------------------------------------------------------------------------

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self._applied.add(id(node.decorator))

    def visit_Assign(self, node: cst.Assign) -> None:
        self._applied.update(map(id, _applied_in_list(node)))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._applied.update(map(id, _applied_in_list(node)))

    def visit_Call(self, node: cst.Call) -> None:
        target = self._peer_target(node.func)
        rename = RENAMES.get(target or "")
        if rename is not None and rename.kind == "verify":
            self._called.add(id(node.func))
        elif target == "jwt_required" and _is_3x_call(node):
            self._applied.add(id(node.func))
        elif target == "jwt_required":
            self._called.add(id(node.func))
        elif target == "JWTManager":
            self.identity_findings.append(Finding(self.filename, self._line(node), _IDENTITY_NOTE))
        elif target in _TOKEN_FUNCTIONS:
            self._check_claims(node)
        self._check_registration(node)
        self._check_payload_read(node)
        self._report_removed_keywords(node)

    def _adapt(self, original: cst.Name | cst.Attribute, updated: cst.BaseExpression) -> cst.BaseExpression:
        """The 4.x form of a reference to a peer object (``updated`` already renamed)."""
        target = self._peer_target(original)
        rename = RENAMES.get(target or "")
        if rename is None:
            return updated
        if rename.kind == "verify" and id(original) not in self._called:
            self._find(
                original,
                f"{target} is used as a value: call verify_jwt_in_request({rename.flag}=True) instead"
                " (it returns the token's header and claims, so do not pass it to before_request)",
            )
            return original
        result = updated
        if rename.kind == "decorator" and (rename.flag is not None or id(original) in self._applied):
            result = cst.Call(func=updated, args=[_true_keyword(rename.flag)] if rename.flag else [])
        elif rename.kind == "decorator" and id(original) not in self._called and self.legacy:
            self._find(
                original,
                f"{target} is used as a value in a 3.x file: 3.x's jwt_required was the decorator, 4.x's"
                " is a decorator factory; where this applies it to a view, it should be jwt_required()"
                " (not rewritten: that depends on how it is used)",
            )
        if rename.note is not None:
            self._find(original, rename.note)
        code = self.module.code_for_node(result)
        if rename.kind != "verify" and code != self.module.code_for_node(original):
            self._change(original, code)
        return result

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        target = self._peer_target(original_node)
        if target is None:
            if original_node.value in RENAMES and self.references.shadowed(original_node):
                self._find(
                    original_node,
                    f"{original_node.value} is bound here both by an import from Flask-JWT-Extended and"
                    " otherwise: not rewritten, see which one this is",
                )
            return updated_node
        if target == PEER:
            if original_node.value == PEER:
                return updated_node.with_changes(value=GUARD)
            return updated_node
        rename = RENAMES.get(target)
        if rename is not None and original_node.value == target:
            updated_node = updated_node.with_changes(value=rename.new)
        return self._adapt(original_node, updated_node)

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        attr = updated_node.attr.value
        if attr in RENAMED_LOADERS:
            new_attr = updated_node.attr.with_changes(value=RENAMED_LOADERS[attr])
            self._change(original_node.attr, new_attr)
            if attr in _LOADER_NOTES:
                self._find(original_node, _LOADER_NOTES[attr])
            return updated_node.with_changes(attr=new_attr)
        rename = RENAMES.get(self._peer_target(original_node) or "")
        if rename is not None:
            updated_node = updated_node.with_changes(attr=updated_node.attr.with_changes(value=rename.new))
        return self._adapt(original_node, updated_node)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        target = self._peer_target(original_node.func)
        rename = RENAMES.get(target or "")
        if rename is not None and rename.kind == "verify" and rename.flag is not None:
            new_call = updated_node.with_changes(args=[*updated_node.args, _true_keyword(rename.flag)])
            self._change(original_node, new_call)
            return new_call
        args = list(updated_node.args)
        if target in _TOKEN_FUNCTIONS:
            for index, arg in enumerate(args):
                keyword = arg.keyword.value if arg.keyword is not None else ""
                if arg.keyword is not None and keyword in _TOKEN_KEYWORDS:
                    new_keyword = arg.keyword.with_changes(value=_TOKEN_KEYWORDS[keyword])
                    self._change(original_node.args[index].keyword or original_node, new_keyword)
                    args[index] = arg.with_changes(keyword=new_keyword)
        drop = [arg.keyword is not None and arg.keyword.value in REMOVED_SETTINGS for arg in args]
        return updated_node.with_changes(args=_without(args, drop)[0])

    # -- callbacks --------------------------------------------------------------------------------

    def _loader_of(self, expression: cst.BaseExpression) -> str | None:
        """The 4.x loader that ``jwt.<loader>`` names, if it is one."""
        if not isinstance(expression, cst.Attribute):
            return None
        attr = expression.attr.value
        loader = RENAMED_LOADERS.get(attr, attr)
        return loader if loader in LOADER_ARGUMENTS else None

    def _check_callback(self, where: cst.CSTNode, loader: str, name: str, params: cst.Parameters) -> None:
        expected = LOADER_ARGUMENTS[loader]
        problem = _arity_problem(params, len(expected))
        if problem is None and loader == "decode_key_loader":
            first = [*params.posonly_params, *params.params][:1]
            if first and ("claim" in first[0].name.value or "payload" in first[0].name.value):
                problem = f"takes ({', '.join(p.name.value for p in params.params)}), in 3.x's order"
        if problem is None:
            return
        hint = _LOADER_HINTS.get(loader)
        self._find(
            where,
            f"{loader} callback {name} {problem}, but is called with ({', '.join(expected)})"
            + (f": {hint}" if hint else ""),
        )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            loader = self._loader_of(decorator.decorator)
            if loader is not None:
                self._check_callback(decorator, loader, f"{node.name.value}()", node.params)

    def _check_registration(self, node: cst.Call) -> None:
        """``jwt.<loader>(callback)`` with a lambda or a function of this module."""
        loader = self._loader_of(node.func)
        if loader is None or len(node.args) != 1:
            return
        value = node.args[0].value
        if isinstance(value, cst.Lambda):
            self._check_callback(node, loader, "lambda", value.params)
        elif isinstance(value, cst.Name) and value.value in self.prescan.functions:
            function = self.prescan.functions[value.value]
            self._check_callback(node, loader, f"{value.value}()", function.params)

    # -- claims -----------------------------------------------------------------------------------

    def _check_claims(self, node: cst.Call) -> None:
        """``create_*_token(user_claims=...)``: claims that now mix with the loader's, or clash."""
        for arg in node.args:
            if arg.keyword is None or arg.keyword.value != "user_claims":
                continue
            if self.prescan.claims_loader:
                self._find(arg, _MERGED_CLAIMS_NOTE)
            if not isinstance(arg.value, cst.Dict):
                continue
            for element in arg.value.elements:
                key = _string_value(element.key) if isinstance(element, cst.DictElement) else None
                if key in _RESERVED_CLAIMS:
                    self._find(
                        element,
                        f"user claim {key!r} now sits at the top level of the payload, where it"
                        " overrides the token's own claim of that name: rename it",
                    )

    def _read_key(self, node: cst.Subscript | cst.Call) -> tuple[str, cst.BaseExpression] | None:
        """``(key, subject)`` for ``subject["key"]`` and ``subject.get("key", ...)``."""
        if isinstance(node, cst.Subscript):
            if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
                return None
            key = _string_value(node.slice[0].slice.value)
            return None if key is None else (key, node.value)
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "get" and node.args:
            key = _string_value(node.args[0].value)
            return None if key is None else (key, func.value)
        return None

    def _check_payload_read(self, node: cst.Subscript | cst.Call) -> None:
        read = self._read_key(node)
        if read is None:
            return
        key, subject = read
        if key == "user_claims":
            self._find(node, _USER_CLAIMS_READ_NOTE)
        elif key == "identity":
            reads_payload = (
                isinstance(subject, cst.Call) and self._peer_target(subject.func) in _PAYLOAD_FUNCTIONS
            )
            if reads_payload or (isinstance(subject, cst.Name) and self.prescan.imports_library):
                self.identity_findings.append(Finding(self.filename, self._line(node), _IDENTITY_READ_NOTE))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._check_payload_read(node)

    # -- settings ---------------------------------------------------------------------------------

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        """A line whose last statement went (a duplicate import) loses the ``;`` before it."""
        body = updated_node.body
        if (
            not body
            or len(body) == len(original_node.body)
            or body[-1].semicolon == cst.MaybeSentinel.DEFAULT
        ):
            return updated_node
        return updated_node.with_changes(
            body=[*body[:-1], body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)]
        )

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        block = self.get_metadata(ParentNodeProvider, node)
        names = isinstance(block, cst.Module | cst.IndentedBlock) and self._in_config_body(block)
        for statement in node.body:
            removable = _removable_setting(statement, names)
            if removable is not None:
                key, key_node = removable
                self._handled.add(id(key_node))
                self._find(statement, REMOVED_SETTINGS[key])
                self._change(statement, "")

    def _report_removed_keywords(self, node: cst.Call) -> None:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in REMOVED_SETTINGS:
                self._handled.add(id(arg.keyword))
                self._find(arg, REMOVED_SETTINGS[arg.keyword.value])
                self._change(arg, "")

    def visit_Dict(self, node: cst.Dict) -> None:
        for element in node.elements:
            key = _string_value(element.key) if isinstance(element, cst.DictElement) else None
            if key in REMOVED_SETTINGS:
                assert isinstance(element, cst.DictElement) and key is not None
                self._handled.add(id(element.key))
                self._find(element, REMOVED_SETTINGS[key])
                self._change(element, "")

    def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.BaseExpression:
        elements = list(updated_node.elements)
        drop = [
            isinstance(element, cst.DictElement) and _string_value(element.key) in REMOVED_SETTINGS
            for element in elements
        ]
        if not any(drop):
            return updated_node
        kept, closing = _without(elements, drop, updated_node.rbrace.whitespace_before)
        assert closing is not None
        return updated_node.with_changes(
            elements=kept, rbrace=updated_node.rbrace.with_changes(whitespace_before=closing)
        )

    def _report_setting(self, node: cst.Name | cst.SimpleString) -> None:
        key = _setting_key(node)
        if key is None or id(node) in self._handled:
            return
        if key == _IDENTITY_SETTING:
            self.sets_identity_claim = True
        elif key in REMOVED_SETTINGS:
            self.from_3x = True
            self._find(node, f"{key} is gone in 4.x and is not removed here: remove it by hand")
        elif key in REPORTED_SETTINGS:
            self.from_3x = True
            self._find(node, REPORTED_SETTINGS[key])

    def visit_Name(self, node: cst.Name) -> None:
        self._report_setting(node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self._report_setting(node)
        value = _string_value(node)
        if value is not None and _PEER_PATH.fullmatch(value):
            self._find(
                node,
                f"the string {value!r} names Flask-JWT-Extended (a mock.patch target? an import by"
                f" name?): point it at {GUARD} by hand, where the same object may live elsewhere",
            )

    # -- blocks -----------------------------------------------------------------------------------

    def _in_config_body(self, block: cst.Module | cst.IndentedBlock) -> bool:
        """Whether a ``KEY = value`` in ``block`` (an original node) may be a setting."""
        return isinstance(block, cst.Module) or isinstance(
            self.get_metadata(ParentNodeProvider, block), cst.ClassDef
        )

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.BaseSuite:
        dropped = _drop_removed_settings(
            updated_node.body, updated_node.footer, self._in_config_body(original_node)
        )
        if dropped is None:
            return updated_node
        return updated_node.with_changes(body=dropped[0], footer=dropped[1])

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        dropped = _drop_removed_settings(updated_node.body, updated_node.footer, True)
        if dropped is None:
            return updated_node
        return updated_node.with_changes(body=dropped[0], footer=dropped[1])


def migrate_source(code: str, filename: str = "<string>") -> MigrationResult:
    """Rewrite one module's code from Flask-JWT-Extended (3.x or 4.x) to Flask-JWT-Guard.

    :param code: the module's source.
    :param filename: the name to use in findings and diffs.
    :returns: the new code, the changes and the findings of this file. If the new code would not
        parse, the code is left as it was, with no change and a finding ``could not rewrite safely``
        (and ``safe`` false).
    :raises libcst.ParserSyntaxError: if ``code`` is not valid Python.
    """
    module = cst.parse_module(code)
    wrapper = cst.MetadataWrapper(module)
    migrator = _Migrator(wrapper, filename)
    new_module = wrapper.visit(migrator)
    result = MigrationResult(
        filename=filename,
        source=code,
        code=new_module.code,
        changes=tuple(sorted(set(migrator.changes))),
        findings=tuple(sorted(set(migrator.findings))),
        from_3x=migrator.from_3x,
        identity_findings=tuple(sorted(set(migrator.identity_findings))),
        sets_identity_claim=migrator.sets_identity_claim,
    )
    error = _parse_error(result) if result.changed else None
    if error is None:
        return result
    line, reason = error
    unsafe = Finding(filename, line, f"could not rewrite safely ({reason}): the file is left as it was")
    return replace(
        result,
        code=code,
        changes=(),
        findings=tuple(sorted({*result.findings, unsafe})),
        safe=False,
    )


def _parse_error(result: MigrationResult) -> tuple[int, str] | None:
    """``(line of the source, why)`` if the rewritten code does not parse; ``None`` if it does.

    Python's own parser first (stricter than LibCST: ``f() = 1``...), unless it cannot read the
    original either (newer syntax than this interpreter's): then LibCST's.
    """
    try:
        compile(result.source, result.filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError):
        try:
            cst.parse_module(result.code)
        except cst.ParserSyntaxError as error:
            return _source_line(result, error.raw_line), error.message
        return None
    try:
        compile(result.code, result.filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        return _source_line(result, error.lineno or 1), error.msg
    except ValueError as error:  # pragma: no cover - a null byte, which the source had not
        return 1, str(error)
    return None


def _source_line(result: MigrationResult, line: int) -> int:
    """The line of ``result.source`` that became ``line`` of ``result.code``."""
    return MigrationResult(result.filename, result.code, result.source).line_after(line)


def migrate_file(path: str | os.PathLike[str]) -> MigrationResult:
    """:func:`migrate_source` for a file, read in its declared encoding (PEP 263); nothing is written.

    :raises OSError: if it cannot be read.
    :raises SyntaxError: for an unknown encoding declaration.
    :raises UnicodeDecodeError: if it is not in its encoding.
    :raises libcst.ParserSyntaxError: if it is not valid Python.
    """
    data = Path(path).read_bytes()
    lines = iter(data.splitlines(keepends=True))
    encoding, _ = tokenize.detect_encoding(lambda: next(lines, b""))
    return replace(migrate_source(data.decode(encoding), os.fspath(path)), encoding=encoding)


def project_findings(results: Iterable[MigrationResult]) -> list[Finding]:
    """The findings that need the whole code base: the ``identity_findings`` of each file, when
    some file used 3.x and none sets ``JWT_IDENTITY_CLAIM`` (3.x tokens carry it in ``identity``).
    """
    results = list(results)
    if not any(r.from_3x for r in results) or any(r.sets_identity_claim for r in results):
        return []
    return [finding for r in results for finding in r.identity_findings]


def iter_python_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Each ``*.py`` file named or under a directory named, in order, skipping :data:`SKIPPED_DIRS`.

    :raises FileNotFoundError: for a path that does not exist.
    """
    for path in map(Path, paths):
        if path.is_file():
            yield path
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
                yield from (Path(root, name) for name in sorted(files) if name.endswith(".py"))
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")


def run(
    paths: Iterable[str | os.PathLike[str]],
    *,
    check: bool = False,
    diff: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Migrate files and directories: the command's body, for ``python -m`` and ``flask jwt migrate``.

    Files are rewritten in place unless ``check`` or ``diff`` is set. Findings go to ``err`` as
    ``path:line: message``, then a summary.

    :param paths: files and directories (searched for ``*.py``, see :func:`iter_python_files`).
    :param check: write nothing; exit status 1 if a file would change.
    :param diff: write nothing; print a unified diff of each change to ``out``.
    :param out: where the diffs and the list of files go (default: ``sys.stdout``).
    :param err: where the findings, errors and summary go (default: ``sys.stderr``).
    :returns: the exit status: 0, 1 (``check`` and something would change) or 2 (a path is
        missing, a file could not be parsed, or could not be rewritten safely: see
        :func:`migrate_source`; the other files are still done).
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    results: list[MigrationResult] = []
    errors = 0
    for top in paths:
        try:
            files = list(iter_python_files([top]))
        except FileNotFoundError as error:
            print(error, file=err)
            errors += 1
            continue
        for path in files:
            try:
                result = migrate_file(path)
            except (OSError, SyntaxError, UnicodeDecodeError, cst.ParserSyntaxError) as error:
                print(f"{path}: not migrated: {str(error).strip()}", file=err)
                errors += 1
                continue
            results.append(result)
            errors += not result.safe  # its finding says where
    changed = [r for r in results if r.changed]
    for result in changed:
        if diff:
            out.write(result.diff())
        elif check:
            print(f"would rewrite {result.filename}", file=out)
        else:
            Path(result.filename).write_bytes(result.code.encode(result.encoding))
            count = len(result.changes)
            print(f"rewrote {result.filename} ({count} change{'' if count == 1 else 's'})", file=out)
    findings = sorted({*(f for r in results for f in r.findings), *project_findings(results)})
    if not (check or diff):  # point into the files as they are now
        rewritten = {r.filename: r for r in changed}
        findings = sorted(
            replace(f, line=rewritten[f.filename].line_after(f.line)) if f.filename in rewritten else f
            for f in findings
        )
    for finding in findings:
        print(finding, file=err)
    verb = "rewritten" if not (check or diff) else "to rewrite"
    print(
        f"{len(changed)} of {len(results)} files {verb}; {len(findings)} places need a person"
        + (f"; {errors} errors" if errors else ""),
        file=err,
    )
    if errors:
        return 2
    return 1 if check and changed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m flask_jwt_guard.migrate PATH... [--check] [--diff]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m flask_jwt_guard.migrate",
        description="Rewrite code from Flask-JWT-Extended 3.x or 4.x to Flask-JWT-Guard, in place;"
        " places that need a person are listed on stderr as path:line: why.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a file, or a directory to search for *.py")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if something would change"
    )
    parser.add_argument("--diff", action="store_true", help="change nothing; print a unified diff instead")
    args = parser.parse_args(argv)
    return run(args.paths, check=args.check, diff=args.diff)


if __name__ == "__main__":
    sys.exit(main())
