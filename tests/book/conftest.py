"""Fixtures of the browser tests: build the book once per pytest worker, serve it on 127.0.0.1 and
open Debian Chromium. See `pagekit.py` for what is built and for the page helpers."""

import os
import re
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
import yaml

from pagekit import BOOK_SOURCES, FIXTURE, ROOT, SKIP_COPY, QuietHandler, write_fixture_notebook

# ----------------------------------------------------------------------------- build and serve


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """Build the book (plus the fixture page) and return the directory of its HTML."""
    out = Path(os.environ.get("BOOK_TEST_OUTPUT") or tmp_path_factory.mktemp("book"))
    src = out / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for name in BOOK_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns(*SKIP_COPY))
        else:
            shutil.copy2(ROOT / name, src / name)
    config = yaml.safe_load((src / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["execute_notebooks"] = "off"
    (src / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    toc = yaml.safe_load((src / "_toc.yml").read_text(encoding="utf-8"))
    toc["parts"].append({"caption": "Test fixtures", "chapters": [{"file": FIXTURE}]})
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    write_fixture_notebook(src / f"{FIXTURE}.ipynb")

    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    run_build("book", [str(jupyter_book), "build", "-W", "--keep-going", "--path-output", str(out), str(src)])
    # The Chinese edition at html/zh/, as `make book` builds it (every page links to it).
    run_build("Chinese edition", [sys.executable, str(src / "book" / "i18n.py"), "html", str(src),
                                  "--path-output", str(out)])
    html = out / "_build" / "html"
    (html / "screenshots").mkdir(exist_ok=True)
    return html


def run_build(what, command):
    build = subprocess.run(command, capture_output=True, text=True)
    if build.returncode:
        lines = (build.stdout + build.stderr).splitlines()
        problems = [line for line in lines if re.search(r"WARNING|ERROR|Error", line)]
        pytest.fail(f"{what} build failed:\n" + "\n".join(problems or lines[-60:]))


@pytest.fixture(scope="session")
def server(site):
    """Serve the built site on 127.0.0.1 and return its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    thread.join()




@pytest.fixture(scope="session")
def fetch(server):
    """fetch(url) -> (status, text), cached: the internal link check asks for many pages twice."""
    cache = {}

    def get(url):
        if url not in cache:
            try:
                with urlopen(url) as response:
                    cache[url] = (response.status, response.read().decode("utf-8", "replace"))
            except HTTPError as error:
                cache[url] = (error.code, "")
        return cache[url]

    return get
