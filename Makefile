# make train   set up .venv (first time) and train the default model on the embedded corpus
# make test    run the offline test suite
VENV ?= .venv
PYTHON ?= python3
# CPU wheels of torch 2.13; set TORCH=torch (or your CUDA build's spec) on a GPU machine.
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
ARGS ?=

.PHONY: setup train test lint ui clean

$(BIN)/wordlab-train: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

setup: $(BIN)/wordlab-train

train: setup
	$(BIN)/wordlab-train $(ARGS)

test: setup
	$(BIN)/pytest $(ARGS)

lint: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

ui: setup
	$(BIN)/mlflow ui --backend-store-uri sqlite:///outputs/mlflow.db

clean:
	rm -rf outputs .pytest_cache .ruff_cache .mypy_cache
