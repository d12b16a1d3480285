# The front door. `make report` sets everything up and runs the main job on the demo data;
# `make test` runs the test suite. Either works first on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := data/demo
CYCLES := 2016-17 2017-18 2018-19
CYCLE  := 2018-19

.PHONY: report thematic validate test lint lab demo-data bench lock clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv is unavailable (Debian's python3-venv is not installed); using virtualenv"; \
	  rm -rf $(VENV); \
	  $(PYTHON) -m pip install --user --quiet virtualenv 2>/dev/null || \
	    $(PYTHON) -m pip install --user --quiet --break-system-packages virtualenv; \
	  $(PYTHON) -m virtualenv --quiet $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	@# setuptools says, for any editable install of a package with a mapped folder (the
	@# notebooks), that folders named like the package may shadow it: information only.
	PYTHONWARNINGS='ignore:Editable installation' \
	  $(BIN)/python -m pip install --quiet --no-deps -e '.[dev,lab]'
	@# the package's bytecode, written once: where PYTHONDONTWRITEBYTECODE is set (as on CI),
	@# every notebook kernel of every run would compile the package from source again
	$(BIN)/python -m compileall -q audit_analysis bench
	@touch $(STAMP)

# Exit status 3 is "outputs written, but the data had problems" (docs/operator.md): the
# demo's 2018-19 has rejected rows and files on purpose, so 3 is a success here.
report: $(STAMP)
	@$(BIN)/audit-analysis run --data $(DEMO) --cycle $(CYCLE) --out outputs; \
	  status=$$?; [ $$status -eq 0 ] || [ $$status -eq 3 ]

# The second demo partnership (docs/thematic-audits.md): thematic audits on Ofsted's grades,
# the small one alone and the front door audit (on a changed scale) against both earlier.
THEMATIC := data/demo-thematic
thematic: $(STAMP)
	@$(BIN)/audit-analysis run --data $(THEMATIC) --cycle 2019-11-domestic-abuse \
	  --out outputs/thematic --quiet; status=$$?; [ $$status -eq 0 ] || [ $$status -eq 3 ]
	@$(BIN)/audit-analysis run --data $(THEMATIC) --cycle 2020-03-front-door \
	  --compare 2019-06-neglect 2019-11-domestic-abuse --out outputs/thematic --quiet; \
	  status=$$?; [ $$status -eq 0 ] || [ $$status -eq 3 ]

validate: $(STAMP)
	@for c in $(CYCLES); do \
	  $(BIN)/audit-analysis validate $(DEMO) --cycle $$c || exit $$?; \
	done

# The suite in parallel, one worker per core (pytest-xdist): each test module stays on one
# worker (--dist loadscope), taken in the order collected, which puts the slow ones first
# (tests/conftest.py); the study and its annual run are made once for all workers.
# `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check audit_analysis tests tools
	$(BIN)/ruff format --check audit_analysis tests tools
	$(BIN)/lint-imports
	$(BIN)/python tools/notebooks_clean.py notebooks

bench: $(STAMP)
	$(BIN)/python -m bench

# JupyterLab on a working copy of the notebooks in lab/ (git-ignored; made once, your
# edits kept), so autosave never touches notebooks/, which the annual run executes.
# `make lab PORT=8890` picks the port. JupyterLab refuses to start as root unless told:
# allow it only when running as root.
PORT ?= 8888
LAB  := lab
lab: $(STAMP)
	@$(BIN)/audit-analysis notebooks --out $(LAB) >/dev/null
	@echo "JupyterLab on http://localhost:$(PORT)/ serving $(LAB)/, working copies of notebooks/."
	@echo "Stop it with Ctrl+C in this terminal (then y), or: $(BIN)/jupyter server stop $(PORT)"
	$(BIN)/jupyter lab $(LAB)/ --port=$(PORT) --ServerApp.port_retries=0 \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# requirements.lock: every package, pinned, that pyproject.toml resolves to (dev and lab
# extras included), for any platform; make report, make test and CI install from it.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra lab --universal \
	  --python-version 3.11 --quiet -o requirements.lock

demo-data: $(STAMP)
	$(BIN)/audit-analysis demo-data --out $(DEMO)

clean:
	rm -rf $(VENV) outputs/*/ outputs/.[0-9]* .pytest_cache
