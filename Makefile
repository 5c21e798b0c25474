# dlnotes: two commands on a fresh machine with Python 3.11, 3.12 or 3.13.
#   make book   build the HTML book into _build/html, its Chinese edition into _build/html/zh
#               (creates .venv on first use)
#   make test   run every test: unit tests, notebook regression (nbval), built-book browser checks,
#               JupyterLab in a browser
# Readers: make lab  JupyterLab on the chapters;  make pdf  the whole book as one PDF.
# Authors: make notebooks  re-executes every chapter in place and stores the outputs.
#          make gettext    after editing English text: refresh the translation catalogues in locales/
# Release: make dist  builds the sdist and wheel into dist/ and checks them.
# Slow checks of a reader's paths, each in a fresh environment of its own (minutes):
#   make colab-check    a chapter runs from its set-up cell where only Colab's packages are present
#   make binder-check   every chapter passes nbval in an environment made from binder/requirements.txt

# The interpreter: empty means the first supported one tools/find-python finds; PYTHON=python3.13
# picks one (it must be 3.11, 3.12 or 3.13).
PYTHON ?=
VENV   ?= .venv
# PyTorch's CPU wheel index, used on Linux when it answers (tools/torch-index); empty: never.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2
# One BLAS/OpenMP thread per process: with two pytest workers on two cores, threaded BLAS
# oversubscribes the CPU and small matrix products become ~1000x slower.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
# The stored outputs are reproduced bit for bit on any x86-64 machine: NumPy's and OpenBLAS's
# kernels are held to AVX2 (x86-64-v3), so an AVX-512 machine rounds sums exactly as an AVX2 one.
# Without this, a training run that diverges amplifies a last-bit difference into a different
# printed number (seen: 8 cells of chapters 5-7). CONTRIBUTING.md, "Stored outputs", says more.
ifeq ($(shell uname -m),x86_64)
export OPENBLAS_CORETYPE ?= Haswell
export NPY_DISABLE_CPU_FEATURES ?= X86_V4 AVX512_ICL AVX512_SPR
endif

.PHONY: venv book gettext test unit notebooks bench lab pdf clean dist colab-check binder-check

venv: $(STAMP)
ifneq ($(strip $(PYTHON)),)
	@want=$$(tools/find-python $(PYTHON)) || exit 1; \
	want=$$("$$want" -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	have=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	if [ "$$want" != "$$have" ]; then \
	    echo "make: $(VENV) holds Python $$have, but PYTHON=$(PYTHON) is Python $$want."; \
	    echo "make: remove $(VENV) to rebuild it, or keep both with VENV=.venv-$$want"; exit 1; fi
endif

$(STAMP): requirements.txt pyproject.toml
	@set -e; if [ ! -x $(BIN)/python ]; then \
	    py=$$(tools/find-python $(PYTHON)); \
	    echo "==> Creating $(VENV) with $$py (Python $$("$$py" -c 'import platform; print(platform.python_version())'))"; \
	    "$$py" -m venv $(VENV); fi
	@echo "==> Installing requirements.txt into $(VENV) (first time: a few minutes; pip shows its progress)"
	$(BIN)/python -m pip install --progress-bar on \
	    $$(tools/torch-index $(BIN)/python "$(TORCH_CPU_INDEX)") -r requirements.txt
	@# the distribution was called "dlnotes" before 0.1.0: drop that older editable install
	@$(BIN)/python -m pip uninstall --yes --quiet dlnotes >/dev/null 2>&1 || true
	$(BIN)/python -m pip install --no-deps -e .
	@$(BIN)/python -c 'import platform, torch; print(f"==> $(VENV): Python {platform.python_version()}, PyTorch {torch.__version__}")'
	@touch $(STAMP)

book: venv
	@echo "==> Building the book (executes changed chapters through the cache) into _build/html"
	$(BIN)/jupyter-book build -W --keep-going .
	@echo "==> Building the Chinese edition from the same execution (the cache) into _build/html/zh"
	$(BIN)/python book/i18n.py html .
	@echo "==> Open _build/html/index.html (English) or _build/html/zh/index.html (Chinese)"

gettext: venv
	@echo "==> Extracting the English messages and updating locales/zh_CN/LC_MESSAGES (sphinx-intl)"
	$(BIN)/python book/i18n.py gettext .

test: venv
	@echo "==> Running unit tests, nbval on every chapter and the built-book browser tests"
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -v \
	    --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg --nbval-cell-timeout 600 \
	    tests chapters

unit: venv
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests --ignore=tests/book

notebooks: venv
	@for nb in chapters/*.ipynb; do \
	    echo "==> executing $$nb"; \
	    $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	        --ExecutePreprocessor.timeout=600 "$$nb" || exit 1; \
	done

# JupyterLab on the chapters, with the book's MyST markup rendered (jupyterlab-myst). As root (a
# container) JupyterLab needs --allow-root; LAB_IP=0.0.0.0 makes it reachable from outside a container
# (publish LAB_PORT), and the URL with its token is printed below the banner.
LAB_IP   ?= 127.0.0.1
LAB_PORT ?= 8888
lab: venv
	@echo "==> JupyterLab on chapters/ at http://$(LAB_IP):$(LAB_PORT)/lab (open the link with ?token=... printed below; Ctrl-C stops it)"
	$(BIN)/jupyter lab --notebook-dir=chapters --ip=$(LAB_IP) --port=$(LAB_PORT) $(if $(filter 0,$(shell id -u)),--allow-root)

# One PDF of the whole book, printed from the built HTML by headless Chromium (book/make_pdf.py).
pdf: book
	$(BIN)/python book/make_pdf.py

bench: venv
	@for b in benchmarks/bench_*.py; do echo "==> $$b"; $(BIN)/python "$$b" || exit 1; done

dist: venv
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m twine check --strict dist/*
	@echo "==> Installing the wheel into a fresh environment and running tests/smoke_installed.py there"
	DLNOTES_DIST=dist $(BIN)/python -m pytest -p no:cacheprovider -m fresh_env -v tests/test_packaging.py

colab-check: venv
	$(BIN)/python -m pytest -p no:cacheprovider -m fresh_env -v tests/test_setup_cell.py

binder-check: venv
	$(BIN)/python -m pytest -p no:cacheprovider -m fresh_env -v tests/test_binder.py

clean:
	rm -rf _build dist
