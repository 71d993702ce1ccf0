# `make run` and `make test` set up everything on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
TOOLS  ?= .venv-tools
LOCKS  := requirements.lock requirements-nodeps.lock
STAMP  := $(VENV)/.installed-$(shell cat $(LOCKS) Makefile | cksum | cut -d' ' -f1)
# `make lock` resolves requirements*.txt (the editable sources) into these, with every file's hash
UV_COMPILE = $(TOOLS)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 --no-header
# llama.cpp is compiled on install: a portable AVX2 build (a -march=native build can use AMX/AVX-512
# paths that crash on some virtual machines). pip caches the wheel, so this happens once per machine.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

.PHONY: run dev test lint setup store bench clean-store lock audit worker serve-team

# The room-ready server: .streamlit/config.toml turns the file watcher off (no hot reload).
run: store
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port 8501 --browser.gatherUsageStats false

# For developing: the same server, reloading when a file changes.
dev: store
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port 8501 --browser.gatherUsageStats false --server.fileWatcherType auto --server.runOnSave true

test: store lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The code checks of pyproject.toml: ruff (defaults, line length, import order, bugbear) and mypy over the core and
# the store. Part of `make test`.
lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

setup: $(STAMP)

# Installs exactly the lock: every package, transitive ones included, pinned and hash-checked.
$(STAMP): $(LOCKS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --require-hashes -r requirements.lock
	$(PY) -m pip install --require-hashes --no-deps -r requirements-nodeps.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

$(TOOLS)/.installed: requirements-tools.lock
	test -x $(TOOLS)/bin/python || python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --require-hashes -r requirements-tools.lock
	touch $@

# Re-resolve the locks after editing requirements*.txt (needs the package index)
lock: $(TOOLS)/.installed
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) --no-deps requirements-nodeps.txt -o requirements-nodeps.lock
	$(UV_COMPILE) requirements-tools.txt -o requirements-tools.lock

# Known vulnerabilities in the locked packages. --strict: a package the service cannot look up fails the
# audit (without it, pip-audit passes having audited nothing). AUDIT_SERVICE picks another service.
AUDIT_SERVICE ?=
audit: $(TOOLS)/.installed
	$(TOOLS)/bin/pip-audit --strict --require-hashes --disable-pip --progress-spinner off $(AUDIT_SERVICE) -r requirements.lock

# A job worker for a team's PostgreSQL store (BR_DATABASE_URL); run one or more, on any machine
worker: setup
	$(PY) -m blindrefusal worker

# N replicas behind haproxy, a worker and PostgreSQL, on loopback (deploy/team.py; README: Team server)
REPLICAS ?= 2
serve-team: setup
	$(PY) deploy/team.py --replicas $(REPLICAS)

# Imports the paper into the store when it is empty; without the release the app shows the shipped summary.
store: setup
	$(PY) -m blindrefusal ensure-store

bench: setup
	$(PY) benchmarks/run.py --json

clean-store:
	rm -f db/blindrefusal.sqlite db/blindrefusal.sqlite-wal db/blindrefusal.sqlite-shm
