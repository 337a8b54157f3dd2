"""Swagger UI of the flask-smorest example in Chromium: its "Authorize" dialog offers the JWT schemes.

The example (``examples/integrations/smorest_app.py``) loads Swagger UI from a CDN; here,
with no network, ``OPENAPI_SWAGGER_UI_URL`` points at a route of the app serving the copy
of ``swagger-ui-dist`` that Flask-RESTX ships (a test dependency), and the page may reach
nothing but the app.

docs/swagger.png is this test's artifact reduced to a small palette PNG:
``Image.open("artifacts/swagger.png").quantize(64).save("docs/swagger.png", optimize=True)``.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, send_from_directory
from werkzeug.serving import make_server

from examples.integrations.smorest_app import create_app
from tests.browser.helpers import ROOT

pytestmark = pytest.mark.browser


def swagger_ui_dist() -> Path:
    """The directory of Flask-RESTX's copy of swagger-ui-dist (``swagger-ui-bundle.js``, ...)."""
    flask_restx = pytest.importorskip("flask_restx")
    static = Path(flask_restx.__file__).parent / "static"
    if not (static / "swagger-ui-bundle.js").is_file():
        pytest.fail(f"no swagger-ui-bundle.js in {static}")
    return static


def swagger_app() -> Flask:
    """The smorest example, its Swagger UI assets served by the app itself."""
    app = create_app(
        {
            "TESTING": True,
            "OPENAPI_SWAGGER_UI_URL": "/swagger-ui-dist/",
            # No "valid" badge: it would ask validator.swagger.io about the document.
            "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None, "persistAuthorization": False},
        }
    )
    assets = swagger_ui_dist()

    @app.get("/swagger-ui-dist/<path:filename>")
    def swagger_ui_asset(filename: str) -> Response:
        return send_from_directory(assets, filename)

    return app


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` behind a threaded werkzeug server on a free loopback port; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="swagger")
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def swagger_page(browser: Any) -> Iterator[tuple[Any, str, list[str]]]:
    """A fresh page on the example's Swagger UI; the third item lists requests that left the app."""
    with serving(swagger_app()) as url:
        context = browser.new_context(viewport={"width": 1000, "height": 1200})  # the whole dialog
        outside: list[str] = []

        def block(route: Any) -> None:
            outside.append(route.request.url)
            route.abort()

        context.route(lambda request_url: not request_url.startswith(url), block)
        try:
            page = context.new_page()
            page.set_default_timeout(10_000)
            yield page, url, outside
        finally:
            context.close()


def test_authorize_dialog_lists_the_jwt_schemes(
    swagger_page: tuple[Any, str, list[str]], tmp_path: Path
) -> None:
    page, url, outside = swagger_page
    page.goto(url + "/docs")
    page.locator(".opblock").first.wait_for()

    # Each protected operation shows a lock; the login does not.
    operations = page.locator(".opblock")
    assert operations.count() == 4
    locks = {
        operations.nth(i).locator(".opblock-summary-path").inner_text().strip()
        + " "
        + operations.nth(i).locator(".opblock-summary-method").inner_text().strip(): operations.nth(i)
        .locator(".authorization__btn")
        .count()
        for i in range(operations.count())
    }
    assert locks == {"/auth/login POST": 0, "/pets/ GET": 1, "/pets/ POST": 1, "/pets/public GET": 1}

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.wait_for()
    titles = [title.strip() for title in dialog.locator(".auth-container h4").all_inner_texts()]
    assert [title.split()[0] for title in titles] == ["jwt_header", "jwt_cookie", "jwt_csrf", "jwt_query"]
    assert "(http, Bearer)" in titles[0]
    text = dialog.inner_text()
    for name in ("access_token_cookie", "X-CSRF-TOKEN", "jwt"):
        assert name in text
    assert "JWT" in text  # bearerFormat

    # The Bearer field takes a token (left empty in the picture).
    assert dialog.locator(".auth-container").first.locator("input").count() == 1

    # For the picture: the whole dialog, not Swagger UI's 540 px scrolling box, and no focus ring.
    page.add_style_tag(content=".swagger-ui .dialog-ux .modal-ux-content { max-height: none; }")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    shot = tmp_path / "swagger.png"
    page.screenshot(path=str(shot))
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copyfile(shot, artifacts / "swagger.png")
    assert outside == []  # Swagger UI ran from the app's own copy


def test_try_it_out_with_a_token(swagger_page: tuple[Any, str, list[str]]) -> None:
    """Authorize with a token from /auth/login, then "Try it out" on GET /pets/ sends it as Bearer."""
    page, url, _ = swagger_page
    token = json.loads(page.request.post(url + "/auth/login").text())["access_token"]
    page.context.clear_cookies()  # the login's cookie would authenticate on its own
    page.goto(url + "/docs")
    page.locator(".opblock").first.wait_for()

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".dialog-ux .modal-ux")
    bearer = dialog.locator(".auth-container").first
    bearer.locator("input").fill(token)
    bearer.get_by_role("button", name="Authorize").click()
    dialog.get_by_role("button", name="Close").first.click()

    operation = page.locator(".opblock-get", has_text="/pets/").first
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    body = operation.locator(".live-responses-table .response-col_description pre").first
    body.wait_for()
    assert json.loads(body.inner_text()) == [{"name": "Rex"}, {"name": "Tom"}]
    assert f"Authorization: Bearer {token}" in operation.locator(".curl").inner_text()
