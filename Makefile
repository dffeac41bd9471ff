# The two commands: `make run` (everything, on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format check-deploy bench demo lock clean

# Installs the versions in constraints.txt, the set the suite last passed with: a fresh clone
# installs what was tested, not whatever was released since. `make lock` refreshes it.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python scripts/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-deploy: install
	DJANGO_SETTINGS_MODULE=registry.settings.production SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	REGISTRY_MASTER_KEYS=ci:$$($(BIN)/python -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode())') \
	REGISTRY_HOST=registry.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

test: install lint check-deploy
	$(BIN)/python manage.py makemigrations --check --dry-run --settings registry.settings.test
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/resolve.py

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo_data

# The newest releases pyproject.toml allows, resolved in a throwaway venv and written to
# constraints.txt; then `make test` tells whether they work.
LOCK_VENV := .lock-venv
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet '.[dev]'
	{ echo '# Versions the suite passed with: make install uses them as pip constraints.'; \
	  echo '# Regenerate with `make lock` (newest releases pyproject.toml allows), then `make test`.'; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude ip-identity-registry; } > constraints.txt
	rm -rf $(LOCK_VENV) build

clean:
	rm -rf $(VENV) var staticfiles
