"""Fixtures and hooks for the whole suite; plain helpers live in ``tests/helpers.py``.

In CI (``CI=true``) a test that would be skipped because a component is
missing (redis-server, Chromium, ...) fails instead: a green CI must mean the
test ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import LIBS, Env, Routes, make_app

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Fixtures that start real servers (Redis, a Redis Cluster, PostgreSQL) and the
# revocation stores on them; each module owns its server.
pytest_plugins = ["tests.servers.redis_fixtures", "tests.servers.sql_fixtures"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None]:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true turns skips into failures): {report.longrepr}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API keeps an event loop running in the main thread while
    its session fixture is open, which would break async views (asyncio.run)
    in any test that ran after it.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


# ---------------------------------------------------------------------------
# Core-library fixtures (tests/test_*.py): differential harness
# ---------------------------------------------------------------------------
# Every core test runs against each library in LIBS (see tests/helpers.py and
# JWT_TEST_IMPL).  Every fixture is function-scoped and builds fresh objects.


@pytest.fixture(params=LIBS, ids=[m.__name__ for m in LIBS])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    """Each library in turn."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def make_env(lib: ModuleType) -> Callable[..., Env]:
    """Factory: ``make_env(JWT_X=..., routes=True, setup=fn)`` -> ``make_app(lib, ...)``."""

    def factory(routes: Routes = True, setup: Callable[[Any], None] | None = None, **config: Any) -> Env:
        return make_app(lib, config, routes=routes, setup=setup)

    return factory


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    """Default app (headers only) for ``lib``."""
    return make_env()


@pytest.fixture
def differential() -> Callable[..., Any]:
    """``differential(scenario, config=None, setup=None, routes=True)``.

    Builds the same app with every library, runs ``scenario(env)`` on each and
    asserts that all libraries give the same result.  Returns that result so the
    test can also pin the documented value.
    """

    def run(
        scenario: Callable[[Env], Any],
        config: dict[str, Any] | None = None,
        setup: Callable[[Any], None] | None = None,
        routes: Routes = True,
    ) -> Any:
        results: dict[str, Any] = {}
        for lib_module in LIBS:
            env = make_app(lib_module, config, routes=routes, setup=setup)
            results[lib_module.__name__] = scenario(env)
        values = list(results.values())
        for name, value in results.items():
            assert value == values[-1], (
                f"{name} differs from flask_jwt_extended:\n  {name}: {value!r}\n"
                f"  flask_jwt_extended: {values[-1]!r}"
            )
        return values[-1]

    return run


@pytest.fixture(
    params=[(w, r) for w in LIBS for r in LIBS if w is not r] or [None],
    ids=[f"{w.__name__}->{r.__name__}" for w in LIBS for r in LIBS if w is not r] or ["none"],
)
def lib_pair(request: pytest.FixtureRequest) -> tuple[ModuleType, ModuleType]:
    """(writer, reader): two different libraries, for interoperability tests."""
    if request.param is None:
        pytest.skip("only one library selected (JWT_TEST_IMPL)")
    return request.param  # type: ignore[no-any-return]
