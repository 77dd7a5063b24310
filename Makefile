# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8765
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: run test install install-dev lint format clean image stack stack-down messages

$(VENV)/.created:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed; set PYTHON=python3.X") if sys.version_info < (3, 11) else None'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(PY) -m pip install --quiet -e .
	@touch $@

# The app and the tools in one install (one resolution), which also counts as the app's.
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.created
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Run the app on SQLite with a django-q2 worker and the local Scripe sandbox.
## Ctrl-C or SIGTERM stops everything. Set SCRIPE_API_BASE_URL to talk to another Scripe instead.
## scripts/run.py migrates, adds the demo data, and starts and stops the processes; it names a
## port already in use (and PORT=… SANDBOX_PORT=… that are free) before it starts anything.
run: export SCRIPE_API_BASE_URL ?= http://127.0.0.1:$(SANDBOX_PORT)/v1
run: $(VENV)/.installed
	@mkdir -p var
	$(PY) scripts/run.py --host $(HOST) --port $(PORT) --sandbox-port $(SANDBOX_PORT)

## Lint, check formatting and the architecture's contracts, and run the whole test suite in
## parallel (TEST_WORKERS processes), printing the 20 slowest tests.
TEST_WORKERS ?= 6
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=20

## The production image and the compose stack with podman, on machines without Docker or a
## registry (scripts/stack.sh; README "Deployment"). `make stack` builds what is missing and
## serves the stack on 127.0.0.1:$(STACK_PORT) with the demo logins; `make stack-down` stops it.
STACK_PORT ?= 8088
image: $(VENV)/.installed-dev
	scripts/stack.sh image

stack: $(VENV)/.installed-dev
	STACK_PORT=$(STACK_PORT) scripts/stack.sh up

stack-down:
	scripts/stack.sh down

## After changing a user-facing string: update the German catalogues (locale/, and the Scripe
## sandbox's scripe_integration/locale), translate what is new, then compile the .mo files
## (committed, so a machine without GNU gettext still runs the app in German).
## tests/test_locale.py runs the same makemessages and fails while a catalogue is behind.
MESSAGES_FLAGS := -l de --no-location --no-obsolete -i tests -i bench -i scripts -i docs -i var -i docker
messages: $(VENV)/.installed-dev
	$(PY) manage.py makemessages $(MESSAGES_FLAGS)
	$(PY) manage.py makemessages -d djangojs $(MESSAGES_FLAGS)
	$(PY) manage.py compilemessages --ignore .venv

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var/*.sqlite3* var/static
