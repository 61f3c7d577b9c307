# VNeID registration assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SHELLFLAGS := -eu -o pipefail -c

VENV      := .venv
RVENV     := .venv-rasa
APP_PY    := $(VENV)/bin/python
RASA_PY   := $(RVENV)/bin/python
# Rasa imports our components (nlu/) from the project root.
RASA      := PYTHONPATH=$(CURDIR) $(RVENV)/bin/rasa
APP_STAMP := $(VENV)/.installed
RASA_STAMP:= $(RVENV)/.installed
DATA      := data/nlu data/rules
BASELINE  := tests/eval/config_rasa_default.yml
FILE      ?= tests/eval/questions.yml
RUNS      ?= 3
PIP_FLAGS := --quiet --disable-pip-version-check
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false

.PHONY: help install run test test-unit test-nlu test-e2e eval compare crossval validate \
        test-stories tune lint format types bench bench-load bench-phoatis bench-train nlu-data \
        model db env lock \
        clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# --- environments -----------------------------------------------------------
$(APP_STAMP): pyproject.toml requirements/app.lock
	@py=$$(scripts/find-python.sh 3.11+) && echo "App environment: $$py" && \
	  { [ -x $(APP_PY) ] || $$py -m venv $(VENV); }
	$(APP_PY) -m pip install $(PIP_FLAGS) -c requirements/app.lock -e ".[dev]"
	@touch $@

$(RASA_STAMP): requirements/rasa.in requirements/rasa.lock
	@py=$$(scripts/find-python.sh 3.10) && echo "Rasa environment: $$py" && \
	  { [ -x $(RASA_PY) ] || $$py -m venv $(RVENV); }
	@echo "Installing Rasa 3.6 (about two minutes the first time)..."
	@# from inside the venv: pip must not see the app's egg-info in the project root
	cd $(RVENV) && bin/python -m pip install $(PIP_FLAGS) \
	  -r $(CURDIR)/requirements/rasa.in -c $(CURDIR)/requirements/rasa.lock
	@touch $@

install: $(APP_STAMP) $(RASA_STAMP) ## Create both Python environments

# --- data, model, database ----------------------------------------------------
nlu-data: $(APP_STAMP) ## Regenerate data/nlu/faq.yml from data/faq/*.yml
	@$(APP_PY) -m bot export-nlu

model: install nlu-data ## Train the model if the training inputs changed (reuse it otherwise)
	@mkdir -p var/log
	@$(APP_PY) -m bot model > var/log/model.txt 2> var/log/train.log || \
	  { tail -30 var/log/train.log; echo "Training failed: see var/log/train.log"; exit 1; }
	@echo "Model: $$(tail -1 var/log/model.txt)"

env: $(APP_STAMP)
	@$(APP_PY) -m bot init-env

db: env ## Create or migrate the database and load the seed texts
	@$(APP_PY) -m bot init

# --- the two commands -------------------------------------------------------
run: install env nlu-data model db ## Set everything up and start the assistant on http://127.0.0.1:8000
	$(APP_PY) -m bot run

test: install nlu-data model ## Set up and run every test (lint, types, data, units, Rasa components, end-to-end)
	$(MAKE) --no-print-directory lint types validate test-nlu test-unit test-stories test-e2e

test-unit: $(APP_STAMP) ## App tests (no Rasa server)
	$(APP_PY) -m pytest tests --ignore=tests/nlu --ignore=tests/e2e -q

test-nlu: $(RASA_STAMP) ## Tests of the custom Rasa components (in the Rasa environment)
	$(RASA_PY) -m pytest tests/nlu -q -p no:cacheprovider -W ignore -o addopts="" -o asyncio_mode=strict

test-e2e: model ## End-to-end tests against a real trained Rasa server (and headless Chromium)
	@scripts/ensure-chromium.sh
	$(APP_PY) -m pytest tests/e2e -q

test-stories: model ## Rasa story tests with real user text (fail on any prediction error)
	@rm -rf var/stories
	$(RASA) test core --model "$$(tail -1 var/log/model.txt)" --stories tests/stories \
	  --endpoints tests/stories/endpoints.yml --fail-on-prediction-errors --out var/stories \
	  > var/log/test-stories.log 2>&1 || { tail -40 var/log/test-stories.log; \
	  cat var/stories/failed_test_stories.yml 2>/dev/null; exit 1; }
	@grep -hE "Correct:|Accuracy" var/log/test-stories.log | head -3 || true

# --- quality ------------------------------------------------------------------
eval: model ## Classify FILE (default tests/eval/questions.yml) with the trained model, and the scam guard's false alarms
	@$(APP_PY) scripts/guard_rate.py --file $(FILE)
	@$(RASA_PY) scripts/evaluate.py --model "$$(tail -1 var/log/model.txt)" --file $(FILE)

compare: model ## Evaluate our pipeline and Rasa's default pipeline on FILE, same data, same run
	@mkdir -p var/log
	@echo "Training Rasa's default pipeline on the same data (slow: it is the baseline)..."
	@start=$$(date +%s); \
	  $(APP_PY) -m bot model --config $(BASELINE) > var/log/baseline.txt 2> var/log/train-baseline.log; \
	  echo "Baseline model ready in $$(( $$(date +%s) - start )) s (reused when the data did not change)"
	@echo "== our pipeline (config.yml)"; \
	  $(RASA_PY) scripts/evaluate.py --model "$$(tail -1 var/log/model.txt)" --file $(FILE) \
	  | grep -E '^(Misses|\{)'
	@echo "== Rasa default pipeline ($(BASELINE))"; \
	  $(RASA_PY) scripts/evaluate.py --model "$$(tail -1 var/log/baseline.txt)" --file $(FILE) \
	  | grep -E '^(Misses|\{)'

crossval: install nlu-data ## 5-fold cross-validation of the NLU on the training data
	$(RASA) test nlu --config config.yml --nlu data/nlu --cross-validation --folds 5 --out var/crossval
	@echo "Reports in var/crossval"

tune: install nlu-data ## Pick fallback thresholds by k-fold on the training data [CONFIG=config.yml]
	@$(RASA_PY) scripts/tune_thresholds.py --folds 3 --config $(or $(CONFIG),config.yml) --save var/tune.json $(TUNE_ARGS)

validate: install nlu-data ## rasa data validate, and check data/nlu/faq.yml is current
	@$(APP_PY) -m bot export-nlu --check
	$(RASA) data validate --fail-on-warnings --domain domain.yml --data $(DATA) --config config.yml

lint: $(APP_STAMP) ## ruff lint and format check
	$(VENV)/bin/ruff check bot nlu tests scripts
	$(VENV)/bin/ruff format --check bot nlu tests scripts

format: $(APP_STAMP) ## Format the code
	$(VENV)/bin/ruff format bot nlu tests scripts
	$(VENV)/bin/ruff check --fix bot nlu tests scripts

types: $(APP_STAMP) ## mypy on the app
	$(VENV)/bin/mypy bot

# --- numbers ------------------------------------------------------------------
bench: model ## Latency of a chat turn through the web API (median of RUNS runs)
	$(APP_PY) scripts/bench_chat.py --runs $(RUNS)

# bench-load runs once unless RUNS is given (it takes minutes). APP=URL RASA=URL: a running
# stack (RASA given on the command line; otherwise RASA is the rasa command above).
LOAD_ARGS = --runs $(if $(filter file,$(origin RUNS)),1,$(RUNS)) $(if $(APP),--app $(APP)) \
  $(if $(filter command line,$(origin RASA)),--rasa $(RASA)) \
  $(if $(PHASES),--phases $(PHASES)) $(if $(TARGETS),--targets $(TARGETS)) \
  $(if $(DURATION),--duration $(DURATION)) $(if $(STEP),--step $(STEP)) \
  $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
  $(if $(REPLICAS),--rasa-replicas $(REPLICAS)) $(if $(WORKERS),--app-workers $(WORKERS)) \
  $(if $(PG),--postgres $(PG)) $(if $(REDIS),--redis $(REDIS))
# e.g. make bench-load RUNS=3; scaled: REPLICAS=2 WORKERS=2 REDIS=redis://127.0.0.1:6379/0
#   PG=postgresql://postgres@127.0.0.1:5432/test
bench-load: model ## Many citizens at once: app vs Rasa direct [APP= RASA= RUNS=1 DURATION= STEP= REPLICAS= WORKERS= PG= REDIS=]
	$(APP_PY) scripts/bench_load.py $(strip $(LOAD_ARGS))

bench-phoatis: install ## Intent accuracy on PhoATIS (DATA=<its syllable-level dir>; median of RUNS) [CONFIG=]
	@test -n "$(DATA)" || { echo "DATA=<dir>: PhoATIS/syllable-level of github.com/VinAIResearch/JointIDSF (research use only)"; exit 2; }
	$(APP_PY) scripts/bench_phoatis.py --data $(DATA) --runs $(RUNS) $(if $(CONFIG),--config $(CONFIG))

bench-train: install nlu-data ## Training time from scratch (median of RUNS runs)
	$(APP_PY) scripts/bench_train.py --runs $(RUNS)

lock: ## Re-pin both environments from what is installed
	@{ echo "# Pinned versions for the app environment (Python >= 3.11). Regenerate: make lock"; \
	  $(APP_PY) -m pip freeze --exclude-editable; } > requirements/app.lock
	@{ echo "# Pinned versions for the Rasa environment (Python 3.10). Regenerate: make lock"; \
	  $(RASA_PY) -m pip freeze --exclude-editable | grep -vE '^(pip|setuptools|wheel)=='; } > requirements/rasa.lock

clean: ## Remove environments, models and local data
	rm -rf $(VENV) $(RVENV) models var .env .pytest_cache
