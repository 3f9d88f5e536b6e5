# Two entry points on a fresh machine (see README): `make demo` and `make test`.
# Each creates the virtualenv, installs everything (system packages too, where it can) and runs.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo test test-fast multihost clean-venv

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@# trdg 1.8.0 pins a yanked arabic-reshaper: install it without deps; requirements.txt holds what it imports.
	$(PY) -m pip install -q --disable-pip-version-check --no-deps trdg==1.8.0
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

# Tesseract is the independent reader used by the evaluations; best effort (needs root or sudo).
system-deps:
	@bash scripts/install_system_deps.sh

demo: setup system-deps
	$(PY) -m launch.demo

test: setup system-deps
	$(PY) -m pytest -n 2 --dist loadfile tests

test-fast: setup
	$(PY) -m pytest -x -q tests

# Two JAX processes x 2 CPU devices on this machine (jax.distributed, as on a pod) against one
# process with the same 4 devices: the weights agree to float tolerance (docs/training.md).
MULTIHOST_FLAGS := --config=configs/toy_regression.py --config.optimizer.name=sgd
multihost: setup
	rm -rf out/multihost
	$(PY) scripts/multihost_local.py --num_processes=2 --devices_per_process=2 -- \
	    $(MULTIHOST_FLAGS) --workdir=out/multihost/two
	JAX_PLATFORMS=cpu XLA_FLAGS=--xla_force_host_platform_device_count=4 \
	    $(PY) -m launch.train $(MULTIHOST_FLAGS) --workdir=out/multihost/one
	$(PY) scripts/multihost_local.py compare out/multihost/one out/multihost/two

clean-venv:
	rm -rf $(VENV)
