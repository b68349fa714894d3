# Everything a fresh clone needs is installed here; nothing beyond Python 3.11, make and the package registries.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared/data
RUNS ?= runs

.PHONY: install test test-unit test-integration bench demo default-model clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip

# torch first, from the pinned CPU wheel, so no resolver can reach for a CUDA build.
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Browser tests drive the distribution's headless Chromium (never a downloaded one); installed when root.
install: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq chromium; \
	    else echo "note: chromium is not installed (not root, or no apt-get); browser tests will be skipped" \
	         "(install it with: sudo apt-get install chromium)"; fi; }

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-unit: install
	$(BIN)/python -m pytest -q -m "not integration"

bench: install
	$(BIN)/python -m benchmarks.run_all

demo: install
	$(BIN)/finsentry demo

# Rebuild the default student from ../shared/data (see README for timings). The two teachers train side by side,
# one thread each (the same work in less wall time on 2 cores than one after the other with two threads).
LABELLED = $(SHARED)/fpb_train.csv $(SHARED)/fin_tweets.csv $(SHARED)/tfns_train.csv
TEACHER_THREADS ?= 1

# A teacher is done when its summary is written (the last file fine-tuning writes); delete runs/ to retrain.
$(RUNS)/teacher/teacher_summary.json: | install
	OMP_NUM_THREADS=$(TEACHER_THREADS) $(BIN)/finsentry train-teacher --data $(LABELLED) --out $(RUNS)/teacher

$(RUNS)/teacher2/teacher_summary.json: | install
	OMP_NUM_THREADS=$(TEACHER_THREADS) $(BIN)/finsentry train-teacher --data $(LABELLED) --out $(RUNS)/teacher2 \
	    --train-seed 29

TEACHERS = $(RUNS)/teacher/teacher_summary.json $(RUNS)/teacher2/teacher_summary.json

default-model: install
	$(MAKE) -j2 $(TEACHERS)
	$(BIN)/finsentry distill --teacher $(RUNS)/teacher $(RUNS)/teacher2 --data $(LABELLED) \
	    --unlabeled $(SHARED)/news_stream.csv --unlabeled-text-col headline --student bilstm \
	    --out models/default --cache-dir $(RUNS)/cache

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
