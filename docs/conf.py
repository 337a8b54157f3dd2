"""Sphinx configuration of the Flask-JWT-Guard documentation (``make docs``)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))  # jwt_config: the generated configuration reference

import flask_jwt_guard  # noqa: E402 - installed in the venv (pip install -e .)

project = "Flask-JWT-Guard"
author = "The Flask-JWT-Guard authors"
copyright = "the Flask-JWT-Guard authors"  # noqa: A001 - Sphinx's name
release = version = flask_jwt_guard.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "jwt_config",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext"]

# MyST: "#anchor" links to headings (the pages link to each other's sections).
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True

html_theme = "furo"
html_title = f"Flask-JWT-Guard {release}"
html_static_path: list[str] = []
