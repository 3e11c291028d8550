# Every target sets up .venv itself, so a fresh clone needs nothing but Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOAD_STAMP := $(VENV)/.load-installed
BENCH_STAMP := $(VENV)/.bench-installed
BENCH ?= $(wildcard benchmarks/*.py)

.PHONY: install run test lint format bench loadtest faults clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(LOAD_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,load]'
	touch $(LOAD_STAMP)

# The public data sets benchmarks/forecast_real.py backtests on (never needed at run time).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

install: $(STAMP)

# `make run` serves the example venue (bootstrap plan) and the demo world's venue with a plan the
# optimizer made from its forecast; the demo world and its plan are made once a day.
DEMO := .yieldgate/demo
VENUES := .yieldgate/venues
DEMO_PLAN := $(DEMO)/plan-$(shell date +%F).json

$(DEMO_PLAN): $(STAMP)
	rm -f $(DEMO)/plan-*.json
	$(BIN)/yieldgate demo-data --out $(DEMO)
	$(BIN)/yieldgate forecast --venue $(DEMO)/venue.toml --history $(DEMO)/history.csv \
		--calendar $(DEMO)/calendar.csv --start $(shell date -d tomorrow +%F) --days 60 \
		--out $(DEMO)/forecast.json
	$(BIN)/yieldgate optimize --venue $(DEMO)/venue.toml --forecast $(DEMO)/forecast.json --out $@
	mkdir -p $(VENUES)
	cp examples/venues/*.toml $(VENUES)/
	cp $(DEMO)/venue.toml $(VENUES)/demo-museum.toml

run: $(DEMO_PLAN)
	YIELDGATE_VENUES_DIR=$(VENUES) YIELDGATE_START_PLANS=$(DEMO_PLAN) $(BIN)/yieldgate serve $(ARGS)

# The tests need a real Redis: the local one is installed and started if none answers, unless
# YIELDGATE_TEST_REDIS_URL points elsewhere.
test: $(STAMP)
	@[ -n "$$YIELDGATE_TEST_REDIS_URL" ] || scripts/ensure-redis.sh
	$(BIN)/pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Speed and accuracy are measured here, never asserted in tests. The quote benchmarks start and
# stop their own service on loopback, on a Redis database of their own; ARGS passes options (see
# --help of each script).
bench: $(BENCH_STAMP)
	scripts/ensure-redis.sh
	@for script in $(BENCH); do echo "== $$script"; $(BIN)/python $$script $(ARGS) || exit 1; done

loadtest: $(LOAD_STAMP)
	scripts/ensure-redis.sh
	$(BIN)/python loadtests/run.py $(ARGS)

# Redis killed and restarted (on its append-only file, then empty) under a steady mix of quotes and
# sales on 2 workers; prints what was acknowledged, refused and lost (loadtests/faults.py).
faults: $(STAMP)
	scripts/ensure-redis.sh
	$(BIN)/python loadtests/faults.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
