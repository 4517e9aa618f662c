# Two commands for users: `make lab` and `make test`. Both set everything up
# first (R from Debian's packages, a .venv with the package and the rpy2
# release that fits that R); `make setup` is idempotent and fast when nothing
# changed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
# Debian packages: R itself, headers for rpy2, and the R packages that the
# tests and notebooks use.
R_DEBS := r-base-core r-base-dev r-cran-ggplot2 r-cran-lattice r-cran-rlang r-cran-r6 r-cran-tibble r-cran-matrix r-cran-bit64 \
  r-cran-globals r-cran-askpass r-cran-progress r-cran-cli
# Jupyter-aware R packages (IRdisplay, repr, htmlwidgets and two widgets),
# installed where the Debian release has them (Debian testing has no plotly
# now); the tests that need one skip, saying so, where it is missing.
R_JUPYTER_DEBS := r-cran-irdisplay r-cran-repr r-cran-htmlwidgets r-cran-plotly r-cran-dt
UNAVAILABLE := .setup-unavailable-debs
# Headless Chromium and its WebDriver for tests/test_browser.py (JupyterLab in a
# real browser); selenium uses these and never downloads a browser or driver.
BROWSER_DEBS := chromium chromium-driver
# Java for Spark (pyspark's tests of R functions in applyInPandas).
ENGINE_DEBS := default-jre-headless
# Debian's own python3 needs these for a venv and for building rpy2's cffi
# module; a Python that already has them (pyenv, python.org) needs nothing.
PY_DEBS := $(shell $(PYTHON) -c 'import ensurepip' 2>/dev/null || echo python3-venv) \
  $(shell $(PYTHON) -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("include"), "Python.h")))' 2>/dev/null || echo python3-dev)
LAB_PORT ?= 8888

LABEXT := rmagic_ext/labextension

.PHONY: setup r lab test test-matrix bench fuzz kernel clean labextension check-labextension lint check-wheel docs

setup: r $(STAMP)

# Install whatever of R_DEBS, R_JUPYTER_DEBS, BROWSER_DEBS, ENGINE_DEBS and PY_DEBS is
# missing; never touches apt when all is there (or known to be unavailable,
# in $(UNAVAILABLE)), and runs `apt-get update` at most once.
r:
	@installed() { dpkg-query -W -f='$${Status}\n' $$1 2>/dev/null | grep -q '^install ok installed'; }; \
	missing=$$(for p in $(R_DEBS) $(BROWSER_DEBS) $(ENGINE_DEBS) $(PY_DEBS); do installed $$p || echo $$p; done); \
	optional=$$(for p in $(R_JUPYTER_DEBS); do installed $$p || grep -qx $$p $(UNAVAILABLE) 2>/dev/null || echo $$p; done); \
	if [ -n "$$missing$$optional" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq; \
	    for p in $$optional; do \
	      if apt-cache policy $$p 2>/dev/null | grep -q 'Candidate: [^(]'; then missing="$$missing $$p"; \
	      else echo "note: this Debian release has no $$p; the tests that need it skip" >&2; echo $$p >> $(UNAVAILABLE); fi; \
	    done; \
	    if [ -n "$${missing// /}" ]; then \
	      echo "Installing from Debian:" $$missing; \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	    fi; \
	  elif ! command -v R >/dev/null; then \
	    echo "R is not installed and cannot be installed here (needs apt-get as root)." >&2; \
	    echo "Install R >= 4.2 (https://cloud.r-project.org, or your distribution's r-base package) with ggplot2, then rerun make." >&2; \
	    exit 1; \
	  else \
	    echo "warning: Debian packages missing and apt-get unavailable: $$missing $$optional" >&2; \
	  fi; \
	fi

$(STAMP): pyproject.toml Makefile rmagic_ext/rsetup.py $(LABEXT)/prebuilt/sources.sha256
	@$(VPY) -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q --config-settings editable_mode=compat -e '.[test,lab,arrow,xarray,dask,ray,spark,dev,docs]' "$$($(VPY) rmagic_ext/rsetup.py)"
	$(VPY) -m rmagic_ext install-kernel --sys-prefix >/dev/null
	@# pip installs the prebuilt JupyterLab extension as data files, which an
	@# editable install leaves out (setuptools): link it where pip would put it.
	mkdir -p $(VENV)/share/jupyter/labextensions && ln -sfn $(CURDIR)/$(LABEXT)/prebuilt $(VENV)/share/jupyter/labextensions/rmagic-ext
	@touch $@

# The "Python 3 + R" kernel loads the extension at start; new notebooks use it.
lab: setup
	$(VPY) -m rmagic_ext install-kernel --sys-prefix
	cd notebooks && ../$(VPY) -m jupyter lab --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) \
	  --MappingKernelManager.default_kernel_name=python3-r \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# PACKAGE=source (the default) runs the suite against this checkout (the
# editable install in .venv); PACKAGE=wheel, as CI does, against the package
# as users get it: built, checked and installed into .venv-wheel by
# check-wheel, and imported from there (PYTHONSAFEPATH keeps the checkout off
# sys.path, in every process the tests start; conftest.py fails the run when
# rmagic_ext is not the installed one).
PACKAGE ?= source
test: setup
ifeq ($(PACKAGE),wheel)
	$(MAKE) --no-print-directory check-wheel
	PYTHONSAFEPATH=1 RMAGIC_EXT_TEST_PACKAGE=installed $(WHEEL_VENV)/bin/python -m pytest
else ifeq ($(PACKAGE),source)
	$(VPY) -m pytest
else
	@echo "PACKAGE must be source or wheel, not '$(PACKAGE)'" >&2; exit 2
endif

# ruff (pyflakes and pycodestyle's errors, and the format), mypy (the modules
# pyproject.toml names) and lintr on the R files (Debian's r-cran-lintr,
# installed here when missing). .lintr keeps lintr's defaults (the tidyverse
# style) but for three rules: lines up to 120 characters, as for the Python;
# constants may be UPPERCASE; no object_usage_linter, because the R files
# share one environment ("rmagic_ext", where each Python module loads its R
# file), so what one file defines is "no visible global function" to a
# linter reading another. Cyclomatic complexity is left to review.
lint: setup
	$(VPY) -m ruff check rmagic_ext tests benchmarks docs .ci
	$(VPY) -m ruff format --check rmagic_ext tests benchmarks docs .ci
	$(VPY) -m mypy
	@dpkg-query -W -f='$${Status}\n' r-cran-lintr 2>/dev/null | grep -q '^install ok installed' || \
	  { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-cran-lintr >/dev/null; } || \
	  Rscript -e 'library(lintr)' 2>/dev/null || { echo "lint: needs R's lintr (Debian: apt-get install r-cran-lintr)" >&2; exit 1; }
	Rscript -e 'found <- lintr::lint_dir("rmagic_ext/R"); print(found); cat("lintr:", length(found), "lints\n"); quit(status = length(found) > 0)'

# The package as users get it: build the sdist and the wheel, check them with
# twine, install the wheel with every extra (and what they depend on) into a
# fresh venv, and run .ci/wheel_smoke.py there, away from the source tree.
# `make test PACKAGE=wheel` then runs the whole suite in that venv.
WHEEL_VENV := .venv-wheel
WHEEL_EXTRAS := test,lab,arrow,xarray,dask,ray,spark,docs
# It builds from a copy of the files git would commit (tracked or new, as
# they are now): never from leftovers of the editable install (its
# rmagic_ext.egg-info lists every file it once shipped, and setuptools would
# ship them again).
check-wheel: setup
	rm -rf dist $(WHEEL_VENV)
	@tree=$$(mktemp -d) && trap 'rm -rf "$$tree"' EXIT && \
	  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done \
	    | tar --null -T - -cf - | tar -xf - -C "$$tree" && \
	  echo "$(VPY) -m build -o dist (a copy of the tree without ignored files)" && \
	  $(VPY) -m build -o $(CURDIR)/dist "$$tree" >/dev/null
	$(VPY) -m twine check dist/*
	$(PYTHON) -m venv $(WHEEL_VENV) 2>/dev/null || $(VPY) -m venv --without-pip $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip --version >/dev/null 2>&1 || $(VPY) -m pip --python $(WHEEL_VENV)/bin/python install -q pip
	$(WHEEL_VENV)/bin/python -m pip install -q "$$(ls dist/*.whl)[$(WHEEL_EXTRAS)]" "$$($(VPY) rmagic_ext/rsetup.py)"
	cd $(WHEEL_VENV) && bin/python -m rmagic_ext install-kernel --sys-prefix >/dev/null
	cd $(WHEEL_VENV) && bin/python $(CURDIR)/.ci/wheel_smoke.py $(CURDIR)

# `make test` again in fresh clones inside Debian 13 and testing chroots (root).
test-matrix:
	.ci/matrix

# The fuzzer's long profile: over 5,000 generated cases (magic lines, cells,
# R code, names, values), a summary of how they ended by kind, and a failure
# listing the first case of each finding (`make test` runs a short profile).
fuzz: setup
	RMAGIC_EXT_FUZZ=long $(VPY) -m pytest tests/test_fuzz.py -p no:cacheprovider

# The documentation site in docs/_build/html: the pages of docs/ (MyST
# markdown), the API reference from the docstrings, the notebooks of
# notebooks/ executed, the speed chart from benchmarks/results/transfer.json
# (which `make bench` writes). Any warning fails the build (-W, nitpicky -n:
# broken references too); nothing touches the network.
docs: setup
	$(VPY) -m sphinx -W --keep-going -n -b html docs docs/_build/html

bench: setup
	$(VPY) benchmarks/transfer.py
	$(VPY) benchmarks/remote.py
	$(VPY) benchmarks/environment.py
	$(VPY) benchmarks/cache.py

# The JupyterLab extension's JavaScript is prebuilt and committed (see
# ARCHITECTURE.md): rebuild it after editing $(LABEXT)/src (needs Node.js >= 18
# and npm, with the npm registry reachable), then commit $(LABEXT)/prebuilt.
labextension: setup
	cd $(LABEXT) && npm ci --no-audit --no-fund --loglevel=error && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npm run build
	$(VPY) -c 'from rmagic_ext.labextension import write_build_files; write_build_files()'

# Rebuild in a temporary copy and compare with what is committed: byte for
# byte, except the module ids in the container entry (remoteEntry.*.js, and
# so its name in package.json), which depend on the folder built in.
check-labextension: setup
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  cp -r $(LABEXT)/package.json $(LABEXT)/package-lock.json $(LABEXT)/src $(LABEXT)/style "$$tmp"/ && \
	  (cd "$$tmp" && npm ci --no-audit --no-fund --loglevel=error && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npm run build >/dev/null) && \
	  diff -r --exclude='remoteEntry.*.js' --exclude=package.json --exclude=install.json --exclude=sources.sha256 \
	    "$$tmp/prebuilt" $(LABEXT)/prebuilt && \
	  diff <(grep -v '"load"' "$$tmp/prebuilt/package.json") <(grep -v '"load"' $(LABEXT)/prebuilt/package.json) && \
	  echo "check-labextension: $(LABEXT)/prebuilt is what its sources build"

clean:
	rm -rf $(VENV) $(WHEEL_VENV) dist .pytest_cache .hypothesis $(UNAVAILABLE) $(LABEXT)/node_modules
