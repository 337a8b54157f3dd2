# Two set-up commands: `make demo` and `make test`. Both create .venv on first use; each has
# its own stamp, so `make demo` installs the demo extra only (the package and Flask).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO_STAMP := $(subst .stamp-,.stamp-demo-,$(STAMP))

.PHONY: demo test lint typecheck docs system-deps bench clean

$(PY):
	@$(PYTHON) -m venv $(VENV) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing python3-venv"; rm -rf $(VENV); \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
	      && $(PYTHON) -m venv $(VENV); \
	  else echo "python3 -m venv failed: install python3-venv" >&2; exit 1; fi; }
	$(PY) -m pip install -q -U pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	rm -f $(VENV)/.stamp-* && touch $@

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[demo]'
	rm -f $(VENV)/.stamp-demo-* && touch $@

# Debian packages the suite drives for real: redis-server, PostgreSQL and Chromium.
# Installed only when missing and when we are root (CI and fresh machines are).
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "warning: missing$$missing (not root: tests needing them are skipped, or fail when CI=true)"; \
	  fi; \
	fi

demo: $(DEMO_STAMP)
	$(PY) -m flask --app examples.demo.app run --host 127.0.0.1 --port 5000

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples bench
	$(VENV)/bin/ruff format --check src tests examples bench
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The documentation site (docs/), warnings being errors; open docs/_build/html/index.html.
docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

test: $(STAMP) system-deps lint typecheck docs
	$(PY) -m pytest -q

# The revocation rows start their own redis-server when there is one (make system-deps installs it).
bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench,redis]'
	$(PY) bench/run.py
	$(PY) bench/keys.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache docs/_build
