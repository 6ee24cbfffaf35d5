# oppscan: `make run` starts the embedded service, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
UV     := $(VENV)/bin/uv
UV_VERSION := 0.13.8
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install browser run test test-unit lint format bench eval calibrate openapi clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "uv==$(UV_VERSION)"

# The lock is the truth: a fresh machine gets exactly the versions in uv.lock. Bytecode is
# compiled at install: with PYTHONDONTWRITEBYTECODE set, every process would otherwise recompile
# scipy, pandas and statsmodels at start (seconds per process, times every API worker).
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --inexact --all-extras --compile-bytecode --python $(VENV)/bin/python --quiet
	touch $@

install: $(VENV)/.installed
	$(VENV)/bin/python -m compileall -q src

run: install
	$(VENV)/bin/oppscan serve --host $(HOST) --port $(PORT) --print-demo-token

# Forward tests on held-out seeds: writes docs/signal-quality.md (+ .json and the plots).
eval: install
	$(VENV)/bin/python -m benchmarks.signal_quality

# Refit the confidence calibration (src/oppscan/strategies/calibration.json) on training seeds.
calibrate: install
	$(VENV)/bin/python -m oppscan.evaluation.calibrate

# The browser tests (tests/e2e) drive Debian's chromium; Playwright's own browser download is
# never used.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# Every test, with coverage of src/oppscan and its floor ([tool.coverage.*] in pyproject.toml).
test: install browser
	$(VENV)/bin/pytest --cov

# The fast, pure layer (under a minute): no Redis, no oppscan processes, no browser, no coverage.
test-unit: install
	$(VENV)/bin/pytest -m "not redis and not processes and not browser" tests/unit tests/contract

# The same commands run as pre-commit hooks (.pre-commit-config.yaml).
lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

# docs/openapi.json: the served OpenAPI document, committed (tests/unit/api/test_openapi.py
# keeps it equal to what the app serves).
openapi: install
	$(VENV)/bin/python -m oppscan.api.openapi docs/openapi.json

bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(VENV)/bin/python -m benchmarks.run --out docs/benchmarks.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
