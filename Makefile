# proofsmith: `make demo` and `make test` install everything they need first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# the last three libraries are for tests: HoTT and UniMath (their own Coq flags), MathComp-Analysis (module names)
DEB_PKGS := coq libcoq-stdlib libcoq-mathcomp-ssreflect libcoq-coquelicot libcoq-hammer libcoq-interval eprover z3 cvc4 coinor-csdp \
  libcoq-hott libcoq-unimath libcoq-mathcomp-analysis
STAMP := $(VENV)/.installed

.PHONY: setup deps venv test lint demo data docs bench bench-env bench-start bench-load bench-reliability bench-serve bench-trace-corpus clean

setup: deps $(STAMP)

deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "Missing Debian packages:$$missing"; \
	    echo "Run as root:  sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	@test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q torch==2.13.0
	$(VPY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

test: setup lint
	$(VPY) -m pytest -q -p no:cacheprovider tests

# Quality gates (also run by `make test`, so by CI): lint, format and types.
lint: setup
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VPY) -m mypy

demo: setup
	$(VENV)/bin/proofsmith demo

# The best measured prover (docs/benchmarks.md): traced competition libraries, k-NN, premise corpus;
# `proofsmith prove` then uses it by default. ~15 min on 2 cores; a rerun reuses what was built.
prover: setup
	$(VPY) scripts/build_prover.py --out runs/prover --data runs/data/math

# The Coq corpus (docs/corpus.md): every library package Debian ships for this Coq, installed if missing,
# traced and merged with the random / novel_premises / novel_packages splits and a card (DATASET.md).
# Resumable: after a kill, run it again. PACKAGES=coquelicot,flocq for a part.
DATA_OUT ?= runs/data/coq-debian
PACKAGES ?= all
# Exit status 1 from `corpus` means the corpus was written but some files could not be replayed (DATASET.md
# counts them per package): `make data` still succeeds then; bad input (2) or a crash fails it.
data: setup
	$(VENV)/bin/proofsmith corpus --packages $(PACKAGES) --out $(DATA_OUT) || [ $$? -eq 1 ]

docs: setup
	$(VENV)/bin/mkdocs build --strict --site-dir build/site

bench: bench-env

bench-env: setup
	$(VPY) scripts/bench_env.py --out bench_results/bench_env.json

# Start rate of traced theorems (docs/benchmarks.md): every theorem of a split of a traced dataset
# (`make prover` or `make data` trace one), failures by reason. START_SAMPLE=N for a seeded sample.
START_DATA ?= runs/data/math
START_SPLIT ?= random/test
START_SAMPLE ?= 0
bench-start: setup
	$(VPY) scripts/bench_start.py --data $(START_DATA) --split $(START_SPLIT) --sample $(START_SAMPLE) \
	    --out bench_results/bench_start

# Time and peak memory to load a traced dataset's splits, premise corpus and BM25 lookup (docs/corpus.md).
LOAD_DATA ?= runs/data/coq-debian
bench-load: setup
	$(VPY) scripts/bench_load.py --data $(LOAD_DATA) --out bench_results/bench_load

# The prover-learns table: half B of miniF2F-rocq valid (never tuned on), 2 workers, 20 s per theorem.
bench-search: setup
	$(VPY) scripts/bench_search.py --bench examples/minif2f-rocq-valid --half B --workers 2 --theorem-timeout 20 \
	    --generators auto ensemble:auto+actions --out bench_results/bench_search.json

# In-actor vs served generation (docs/serving.md): tiny model, 1 and 2 workers; a few minutes on 2 cores.
# The whole Debian corpus traced from nothing on this machine (docs/corpus.md): wall, CPU, peak memory.
bench-trace-corpus: setup
	$(VPY) scripts/bench_trace.py --corpus all --data runs/bench_trace_corpus --out bench_results/bench_trace_corpus.json

bench-serve: setup
	$(VPY) scripts/bench_serve.py --out bench_results/bench_serve.json

bench-reliability: setup
	$(VPY) scripts/bench_reliability.py --out bench_results/bench_reliability.json

clean:
	rm -rf $(VENV) build *.egg-info bench_results
