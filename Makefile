# dlnotes: two commands on a fresh machine with Python 3.11.
#   make book   build the HTML book into _build/html, its Chinese edition into _build/html/zh
#               (creates .venv on first use)
#   make test   run every test: unit tests, notebook regression (nbval), built-book browser checks
# Authors: make notebooks  re-executes every chapter in place and stores the outputs.
#          make gettext    after editing English text: refresh the translation catalogues in locales/

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2
# One BLAS/OpenMP thread per process: with two pytest workers on two cores, threaded BLAS
# oversubscribes the CPU and small matrix products become ~1000x slower.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: venv book gettext test unit notebooks bench lab pdf clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@echo "==> Setting up $(VENV) (first time: a few minutes; pip shows its progress)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar on -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
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

clean:
	rm -rf _build
