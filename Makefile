# SMS-portalen: `make run` startar portalen, `make test` kör alla tester.
# Variabler från miljön och från .env gäller; HOST och PORT styr var portalen lyssnar.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# HOST och PORT (standard 127.0.0.1:8000) läses av `manage.py runportal` från miljön eller .env.

.PHONY: run test install install-dev browser bench check clean

## Installera körmiljön i .venv (görs om när requirements ändras).
$(VENV)/.stamp-base: requirements/base.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-base requirements/dev.txt
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

install: $(VENV)/.stamp-base
install-dev: $(VENV)/.stamp-dev

## Debians chromium för webbläsartesterna (Playwrights egen nedladdning fungerar inte här)
## och Node.js (JavaScript-räknaren testas mot samma testvektorer som Python-räknaren).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  echo "Installerar chromium, nodejs och npm från Debian..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium fonts-dejavu-core $$(command -v node >/dev/null || echo nodejs) $$(command -v npm >/dev/null || echo npm) >/dev/null; }

## axe-core för tillgänglighetstesterna, låst i package-lock.json (portalen själv använder inget från npm).
node_modules/axe-core/axe.min.js: package.json package-lock.json | browser
	npm ci --no-audit --no-fund
	touch $@

## Starta portalen: .env för utveckling, migrering (med mallarna), admin, statiska filer, daphne + qcluster.
run: install
	$(PY) scripts/dev_env.py
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py runportal

## Kör hela testsviten (SQLite som standard; DATABASE_URL och REDIS_URL byter till PostgreSQL/Redis).
test: install-dev browser node_modules/axe-core/axe.min.js
	$(PY) -m pytest

## Prestandamätningar (körs aldrig i make test).
bench: install-dev
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .hypothesis
