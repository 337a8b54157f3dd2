"""The documentation (``docs/``): its code runs, its site builds without a warning, its links resolve.

Every fenced code block of a page names its language. The ``python`` blocks of a page run in
order, in one namespace (as a reader would paste them), so a snippet that stops working fails
here. Two conventions, for the few blocks that cannot run as they stand:

* a first line ``# file: NAME.py`` makes the block a file: the page's files are written to a
  temporary directory and, when some are named ``test_*.py``, run there with pytest;
* a first line ``# not run: <why>`` skips the block (kept rare: see ``MAX_NOT_RUN``).

Pages that show configuration fragments of a larger app get a few lines first, from
:data:`PREAMBLES`.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from markdown_it import MarkdownIt

import flask_jwt_guard
from flask_jwt_guard import JWTGuardSecurityWarning, JWTManager
from flask_jwt_guard.cli import jwt_cli
from flask_jwt_guard.keys import generate_jwk
from flask_jwt_guard.settings import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
#: Languages of blocks that are not run (Pygments names: ``sphinx-build -W`` rejects unknown ones).
OTHER_LANGUAGES = frozenset({"sh", "console", "javascript", "html", "html+jinja", "json", "text", "diff"})
#: How many ``# not run:`` blocks the whole site may have.
MAX_NOT_RUN = 3
NOT_RUN = re.compile(r"#\s*not run:\s*\S")
FILE = re.compile(r"#\s*file:\s*(\S+\.py)\s*$")
#: Lines run before a page's blocks, for pages that show fragments of an app.
PREAMBLES = {
    "revocation.md": """
from flask import Flask
from flask_jwt_guard import JWTManager
app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = "a-secret-of-32-bytes-or-more-for-the-docs"
jwt = JWTManager(app)
""",
    "security.md": """
import os
from flask import Flask
from flask_jwt_guard import JWTManager
app = Flask(__name__)
""",
}


md = MarkdownIt("commonmark")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  #: 1-based line of the block's first code line in the page
    language: str
    code: str

    @property
    def first_line(self) -> str:
        return self.code.split("\n", 1)[0]

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def fences(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, directives (```` ```{toctree} ````) included."""
    tokens = md.parse(page.read_text(encoding="utf-8"))
    return [
        Block(page, token.map[0] + 2, token.info.strip(), token.content)
        for token in tokens
        if token.type == "fence" and token.map is not None
    ]


def python_blocks(page: Path) -> list[Block]:
    return [block for block in fences(page) if block.language == "python"]


def runnable_pages() -> list[Path]:
    return [page for page in PAGES if python_blocks(page)]


def load_jwt_config() -> ModuleType:
    """``docs/_ext/jwt_config.py``, the Sphinx extension behind the configuration reference."""
    spec = importlib.util.spec_from_file_location("jwt_config", DOCS / "_ext" / "jwt_config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- code blocks


@pytest.mark.parametrize("page", runnable_pages(), ids=lambda page: page.name)
def test_python_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # What the pages read from the environment, as an app in production would.
    monkeypatch.setenv("JWT_SECRET_KEY", "a-secret-of-32-bytes-or-more-from-the-environment")
    monkeypatch.setenv("JWT_SIGNING_KEYS", json.dumps({"keys": [generate_jwk("ES256", "docs-key")]}))
    # A module of its own, as a reader's file would be (dataclasses and pickle look it up).
    module = ModuleType(f"docs_{page.stem}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    files: list[str] = []
    with warnings.catch_warnings():
        # The docs show configurations that start without a security warning.
        warnings.simplefilter("error", JWTGuardSecurityWarning)
        exec(compile(PREAMBLES.get(page.name, ""), f"<preamble of {page.name}>", "exec"), namespace)
        for block in python_blocks(page):
            if NOT_RUN.match(block.first_line):
                continue
            file = FILE.match(block.first_line)
            if file:
                (tmp_path / file.group(1)).write_text(block.code, encoding="utf-8")
                files.append(file.group(1))
                continue
            # Blank lines first, so that a traceback gives the line in the page.
            exec(compile("\n" * (block.line - 1) + block.code, str(page), "exec"), namespace)
    tests = [name for name in files if name.startswith("test_")]
    if tests:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_block_names_its_language() -> None:
    problems = []
    for page in PAGES:
        for block in fences(page):
            if block.language.startswith("{"):
                if block.language.startswith(("{code", "{literalinclude")):
                    problems.append(f"{block}: use a plain fence (```python) so that the block is run")
            elif block.language != "python" and block.language not in OTHER_LANGUAGES:
                problems.append(f"{block}: language {block.language!r} (add it to OTHER_LANGUAGES?)")
    assert problems == []


def test_blocks_not_run_are_few() -> None:
    skipped = [block for page in PAGES for block in python_blocks(page) if NOT_RUN.match(block.first_line)]
    assert len(skipped) <= MAX_NOT_RUN, [str(block) for block in skipped]
    misspelled = [
        str(block)
        for page in PAGES
        for block in python_blocks(page)
        if re.match(r"#\s*(not[ -]?run|file)\b", block.first_line, re.IGNORECASE)
        and not (NOT_RUN.match(block.first_line) or FILE.match(block.first_line))
    ]
    assert misspelled == []


def test_rst_pages_hold_no_code() -> None:
    """Code goes in Markdown pages, where the blocks are run."""
    for page in DOCS.glob("*.rst"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"^\s*\.\. (code-block|code|sourcecode|literalinclude)::", text, re.MULTILINE)
        assert not re.search(r"::\s*$", text, re.MULTILINE), f"{page.name}: a literal block"


# --------------------------------------------------------------------------- completeness


def test_configuration_reference_covers_every_setting() -> None:
    jwt_config = load_jwt_config()
    assert jwt_config.problems() == []
    assert sorted(jwt_config.described_keys()) == sorted(DEFAULTS)


def test_configuration_page_is_current() -> None:
    jwt_config = load_jwt_config()
    assert jwt_config.is_current(jwt_config.PAGE.read_text(encoding="utf-8")), (
        "docs/configuration.md is stale: run python docs/_ext/jwt_config.py"
    )


def test_api_reference_covers_the_public_api() -> None:
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. (?:auto\w+|py:\w+):: (\S+)", text, re.MULTILINE))
    missing = [name for name in flask_jwt_guard.__all__ if f"flask_jwt_guard.{name}" not in documented]
    assert missing == []
    for module in ("flask_jwt_guard.exceptions", "flask_jwt_guard.testing"):
        assert module in documented
    assert "flask_jwt_guard.typing.RevocationStore" in documented


def test_responses_page_lists_every_loader() -> None:
    text = (DOCS / "responses.md").read_text(encoding="utf-8")
    loaders = [name for name, _ in inspect.getmembers(JWTManager) if name.endswith("_loader")]
    assert len(loaders) >= 16
    assert [name for name in loaders if f"`{name}`" not in text] == []


def test_cli_page_shows_every_command() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert [name for name in jwt_cli.commands if f"jwt {name}" not in text] == []


# --------------------------------------------------------------------------- links


def slug(heading: str) -> str:
    """The anchor GitHub (and MyST, with ``myst_heading_anchors``) gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    tokens = md.parse(page.read_text(encoding="utf-8"))
    return {slug(tokens[i + 1].content) for i, token in enumerate(tokens) if token.type == "heading_open"}


def links(page: Path) -> list[str]:
    found = []
    for token in md.parse(page.read_text(encoding="utf-8")):
        for child in token.children or ():
            if child.type == "link_open":
                found.append(str(child.attrs["href"]))
            elif child.type == "image":
                found.append(str(child.attrs["src"]))
    return found


@pytest.mark.parametrize(
    "page", [*PAGES, ROOT / "README.md", ROOT / "ARCHITECTURE.md"], ids=lambda page: page.name
)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for href in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", href):  # https:, mailto:, ...
            continue
        path, _, fragment = href.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(href)
        elif fragment and target.suffix == ".md" and fragment not in anchors(target):
            broken.append(href)
    assert broken == []


# --------------------------------------------------------------------------- the site


@pytest.mark.docs
def test_site_builds_without_warnings(tmp_path: Path) -> None:
    """What ``make docs`` runs, warnings being errors; in a few seconds."""
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    configuration = (tmp_path / "html" / "configuration.html").read_text(encoding="utf-8")
    assert [key for key in DEFAULTS if key not in configuration] == []
