# SMS-portalen: `make run` startar portalen, `make test` kör alla tester.
# Variabler från miljön och från .env gäller; HOST och PORT styr var portalen lyssnar.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# HOST och PORT (standard 127.0.0.1:8000) läses av `manage.py runportal` från miljön eller .env.

.PHONY: run test install install-dev browser bench check check-tools clean

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

## Debians chromium för webbläsartesterna (Playwrights egen nedladdning fungerar inte här),
## Node.js (JavaScript-räknaren testas mot samma testvektorer som Python-räknaren), nginx
## (tests/deploy kör den levererade nginx-siten framför två daphne-processer) och age
## (krypterade säkerhetskopior provas i tests/deploy).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
	  && test -x /usr/sbin/nginx && command -v age >/dev/null 2>&1 || { \
	  echo "Installerar chromium, nodejs, npm, nginx och age från Debian..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium fonts-dejavu-core age $$(command -v node >/dev/null || echo nodejs) $$(command -v npm >/dev/null || echo npm) \
	    $$(test -x /usr/sbin/nginx || echo nginx-light) >/dev/null; }

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

## Debians shellcheck (skalskripten) och Node.js (node --check på JavaScript-filerna) för make check.
check-tools:
	@command -v shellcheck >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || { \
	  echo "Installerar shellcheck och nodejs från Debian..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    shellcheck $$(command -v node >/dev/null || echo nodejs) >/dev/null; }

## Snabba kontroller före testerna: Djangos driftkontroll (scripts/deploy_check.py), ruff (regler
## och formatering) och mypy med django-stubs (pyproject.toml), bash -n och shellcheck på
## skalskripten, node --check på JavaScript-filerna. mypy läser in inställningarna: DEBUG=true och
## ingen .env, så att kontrollen inte beror på maskinens nycklar (cachen i .mypy_cache).
check: install-dev check-tools
	$(PY) scripts/deploy_check.py
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true ENV_FILE= $(VENV)/bin/mypy
	@for script in deploy/*.sh .ci/run; do bash -n "$$script" || exit 1; done
	shellcheck -x deploy/*.sh .ci/run
	@for script in static/js/*.js; do node --check "$$script" || exit 1; done
	@echo "make check: allt gick igenom."

## Prestandamätningar (körs aldrig i make test).
bench: install-dev
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .hypothesis .mypy_cache
