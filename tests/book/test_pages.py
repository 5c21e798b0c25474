"""Browser test of the built book.

The book's sources (`_config.yml`, `_toc.yml`, `chapters/`, `book/`) are copied to a temporary
directory together with a small widget fixture notebook, built there with
`jupyter-book build -W --keep-going`, served by `http.server` on 127.0.0.1 and opened in headless
Debian Chromium driven by Playwright. The build uses `execute_notebooks: off`: the stored outputs are
what the site shows, and `pytest --nbval` already checks them against a fresh run (`make book`
re-executes through the cache instead).

Every page must: answer HTTP 200; log no JavaScript error; request nothing from outside 127.0.0.1
(the site works offline: MathJax, require.js and the widget manager are served from `_static`);
have its mathematics rendered by MathJax; load every image; link only to internal targets that
exist, anchors included; and render each embedded widget view. A full-page screenshot of each page
goes to `<build>/screenshots/` (set BOOK_TEST_OUTPUT=<dir> to keep the build somewhere else than
pytest's temporary directory).

To check a widget page in more detail, add a (page, CSS selector) pair to WIDGET_CHECKS; to check
that a widget reacts, write a test like `test_fixture_widgets_react` with `drag`, `visual_state` and
`wait_for_change`.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import unquote, urldefrag, urlsplit
from urllib.request import urlopen

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
BOOK_SOURCES = ["_config.yml", "_toc.yml", "chapters", "book"]
SKIP_COPY = [".ipynb_checkpoints", "__pycache__", "_build"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FIXTURE = "widget_fixture"  # docname of the widget fixture page in the test build

# (page, CSS selector): on each listed page the selector must match a visible element once the
# widgets have rendered. Chapters add their explorers here, e.g.
#   ("chapters/05_training.html", ".dlnotes-trajectory canvas"),
WIDGET_CHECKS = [
    (f"{FIXTURE}.html", ".widget-slider .noUi-handle"),
    (f"{FIXTURE}.html", ".widget-slider .widget-label mjx-container"),  # LaTeX label typeset
    (f"{FIXTURE}.html", "button.fixture-counter"),
    ("chapters/02_basics.html", '.dln-grad svg[data-role="grad-norms"]'),
    ("chapters/05_training.html", '.dln-opt svg[data-role="contour"]'),
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason=f"{CHROMIUM} not found (apt-get install chromium); CI installs it and never skips",
)


def toc_pages():
    """The HTML pages of the documents listed in _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                docs.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({key: value for key, value in toc.items() if key != "root"})
    return [f"{doc}.html" for doc in docs]


PAGES = [*toc_pages(), f"{FIXTURE}.html", "genindex.html", "search.html"]

# ----------------------------------------------------------------------------- the fixture page

COUNTER_ESM = """
function render({ model, el }) {
  const button = document.createElement("button");
  button.className = "fixture-counter";
  const show = () => { button.textContent = `clicked ${model.get("count")} times`; };
  button.addEventListener("click", () => model.set("count", model.get("count") + 1));
  model.on("change:count", show);
  show();
  el.appendChild(button);
}
export default { render };
"""

FIXTURE_CELLS = [
    ("markdown", "# Widget fixture\n\nA page of the test build only. Inline maths $x^2$ and\n\n"
                 "$$\\int_0^1 x \\, dx = \\tfrac{1}{2}.$$"),
    ("code", "import ipywidgets\n\nipywidgets.IntSlider(value=3, min=0, max=10, description=r'$\\alpha$')"),
    ("code", "import anywidget\nimport traitlets\n\n\nclass Counter(anywidget.AnyWidget):\n"
             f"    _esm = '''{COUNTER_ESM}'''\n    count = traitlets.Int(0).tag(sync=True)\n\n\nCounter()"),
]


def write_fixture_notebook(path):
    """Write and execute (storing widget state, as `make notebooks` does) the fixture notebook."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    new = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb.cells = [new[kind](source) for kind, source in FIXTURE_CELLS]
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)


# ----------------------------------------------------------------------------- build and serve


@pytest.fixture(scope="module")
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
    build = subprocess.run(
        [str(jupyter_book), "build", "-W", "--keep-going", "--path-output", str(out), str(src)],
        capture_output=True, text=True,
    )
    if build.returncode:
        lines = (build.stdout + build.stderr).splitlines()
        problems = [line for line in lines if re.search(r"WARNING|ERROR|Error", line)]
        pytest.fail("book build failed:\n" + "\n".join(problems or lines[-60:]))
    html = out / "_build" / "html"
    (html / "screenshots").mkdir(exist_ok=True)
    return html


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    """Serve the built site on 127.0.0.1 and return its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
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


class PageLog:
    """Console errors, uncaught exceptions and failed or off-site requests of one page."""

    def __init__(self, page, base):
        self.errors, self.offsite = [], []
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("requestfailed", self._check_failure)
        page.on("response", lambda res: res.status >= 400 and self.errors.append(f"HTTP {res.status}: {res.url}"))
        page.on("request", lambda req: self._check_host(req.url, base))

    def _check_failure(self, request):
        # net::ERR_ABORTED is Chromium cancelling a request (e.g. when a redirect leaves the page);
        # a missing file still shows as an HTTP error response above.
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"request failed: {request.url} ({request.failure})")

    def _check_host(self, url, base):
        if not url.startswith((base, "data:", "blob:", "about:")):
            self.offsite.append(url)


def open_page(browser, server, name, **context_options):
    """Open page `name` of the site; return (page, response, log) once MathJax and widgets settle."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
    page = context.new_page()
    log = PageLog(page, server)
    response = page.goto(server + name, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.evaluate(WAIT_FOR_MATHJAX)
    if page.locator(WIDGET_VIEW).count():
        page.wait_for_function(ALL_VIEWS_RENDERED, timeout=30_000)
    return page, response, log


WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'

WAIT_FOR_MATHJAX = """async () => {
  if (window.MathJax && window.MathJax.startup) { await window.MathJax.startup.promise; }
}"""

ALL_VIEWS_RENDERED = """() => Array.from(document.querySelectorAll('%s')).every(view => {
  const area = view.previousElementSibling;
  return area && area.classList.contains('widget-subarea') && area.childElementCount > 0
         && area.getBoundingClientRect().height > 0;
})""" % WIDGET_VIEW

UNRENDERED_MATH = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('.math')) {
    if (!el.querySelector('mjx-container')) bad.push(el.textContent.slice(0, 80));
  }
  for (const err of document.querySelectorAll('mjx-merror')) bad.push('MathJax error: ' + err.textContent);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const skip = 'PRE, CODE, SCRIPT, STYLE, TEXTAREA, MJX-CONTAINER, .highlight';
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    if (/\\$\\$|\\\\\\(|\\\\\\[/.test(text) && !node.parentElement.closest(skip)) bad.push(text.slice(0, 80));
  }
  return bad;
}"""

BROKEN_IMAGES = """async () => {
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  return images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.currentSrc || img.src);
}"""

# ----------------------------------------------------------------------------- helpers for widgets


def drag(page, selector, dx, dy=0, steps=12):
    """Drag the centre of the first element matching `selector` by (dx, dy) CSS pixels."""
    handle = page.locator(selector).first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=steps)
    page.mouse.up()


VISUAL_STATE = """el => {
  const parts = [el.innerText];
  for (const canvas of el.querySelectorAll('canvas')) parts.push(canvas.toDataURL());
  for (const svg of el.querySelectorAll('svg')) parts.push(svg.outerHTML);
  for (const img of el.querySelectorAll('img')) parts.push(img.src);
  return parts.join('\\n');
}"""


def visual_state(page, selector):
    """What the first element matching `selector` shows: its text, canvases, SVG and image sources."""
    return page.locator(selector).first.evaluate(VISUAL_STATE)


def wait_for_change(page, selector, before, timeout=10_000):
    """Wait until `visual_state(page, selector)` differs from `before`; fail after `timeout` ms."""
    page.wait_for_function(
        f"([sel, before]) => ({VISUAL_STATE})(document.querySelector(sel)) !== before",
        arg=[selector, before], timeout=timeout,
    )


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", PAGES)
def test_page(browser, server, site, fetch, name):
    page, response, log = open_page(browser, server, name)
    try:
        assert response.status == 200
        assert log.errors == []
        assert log.offsite == [], "the site must work offline"
        assert page.evaluate(UNRENDERED_MATH) == []
        assert page.evaluate(BROKEN_IMAGES) == []

        broken = []
        for href in sorted(set(page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"))):
            if not href.startswith(server):
                continue  # external: launch buttons, repository links, DOIs
            url, fragment = urldefrag(href)
            status, text = fetch(url)
            if status != 200:
                broken.append(f"{href}: HTTP {status}")
            elif fragment and not re.search(rf'\bid="{re.escape(unquote(fragment))}"', text):
                broken.append(f"{href}: no element with that id")
        assert broken == []

        if name not in ("genindex.html", "search.html"):
            shot = site / "screenshots" / name.replace("/", "__").replace(".html", ".png")
            page.screenshot(path=str(shot), full_page=True)
    finally:
        page.context.close()


@pytest.mark.parametrize("name, selector", WIDGET_CHECKS)
def test_widget_rendered(browser, server, name, selector):
    page, _, log = open_page(browser, server, name)
    try:
        assert page.locator(WIDGET_VIEW).count() > 0, f"{name} embeds no widget view"
        assert page.locator(selector).first.is_visible()
        assert log.errors == []
    finally:
        page.context.close()


def test_fixture_widgets_react(browser, server):
    """Widgets work without a kernel: an ipywidgets slider drags, an anywidget runs its JavaScript."""
    page, _, log = open_page(browser, server, f"{FIXTURE}.html")
    try:
        before = visual_state(page, ".widget-slider")
        drag(page, ".widget-slider .noUi-handle", dx=120)
        wait_for_change(page, ".widget-slider", before)

        before = visual_state(page, "button.fixture-counter")
        assert before == "clicked 0 times"
        page.click("button.fixture-counter")
        wait_for_change(page, "button.fixture-counter", before)
        assert visual_state(page, "button.fixture-counter") == "clicked 1 times"
        assert log.errors == []
    finally:
        page.context.close()


def drag_until_attribute_changes(page, slider, dx, target, attribute):
    """Drag `slider` by dx pixels and wait until `attribute` of `target` changes; return (before, after)."""
    before = page.locator(target).first.get_attribute(attribute)
    drag(page, slider, dx=dx)
    page.wait_for_function(
        "([sel, name, before]) => document.querySelector(sel).getAttribute(name) !== before",
        arg=[target, attribute, before],
    )
    return before, page.locator(target).first.get_attribute(attribute)


def test_gradient_explorer_reacts_on_the_built_page(browser, server):
    """Chapter 2, no kernel: dragging the depth slider redraws the gradient norms from the stored grid."""
    page, _, log = open_page(browser, server, "chapters/02_basics.html")
    try:
        plot = '.dln-grad svg[data-role="grad-norms"]'
        slider = '.dln-grad input[data-control="depth"]'
        _, config = drag_until_attribute_changes(page, slider, 2000, plot, "data-config")  # to depth 50
        assert config.endswith("|50")
        assert len(json.loads(page.locator(plot).first.get_attribute("data-grad-norms"))) == 50
        assert log.errors == []
    finally:
        page.context.close()


def test_optimizer_explorer_reacts_on_the_built_page(browser, server):
    """Chapter 5, no kernel: dragging SGD's learning rate recomputes only SGD's path, in the browser."""
    page, _, log = open_page(browser, server, "chapters/05_training.html")
    try:
        plot = '.dln-opt svg[data-role="contour"]'
        slider = '.dln-opt input[data-control="lr-sgd"]'
        before, after = map(json.loads, drag_until_attribute_changes(page, slider, -40, plot, "data-final"))
        assert after["sgd"] != before["sgd"]
        assert all(after[name] == before[name] for name in before if name != "sgd")
        assert log.errors == []
    finally:
        page.context.close()


def test_root_redirects_to_landing_page(browser, server):
    context = browser.new_context()
    page = context.new_page()
    log = PageLog(page, server)
    try:
        assert page.goto(server).status == 200
        page.wait_for_url(f"{server}{toc_pages()[0]}")
        page.wait_for_load_state("networkidle")
        assert page.title().startswith("dlnotes")
        assert log.errors == []
        assert log.offsite == []
    finally:
        context.close()


def test_chapter_buttons(browser, server):
    """Launch (Binder, Colab, Thebe), download, edit and issue buttons point at the repository."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo, branch = config["repository"]["url"], config["repository"]["branch"]
    slug = urlsplit(repo).path.strip("/")
    page, _, _ = open_page(browser, server, "chapters/01_introduction.html")
    try:
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        expected = [
            f"https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/chapters/01_introduction.ipynb",
            f"https://colab.research.google.com/github/{slug}/blob/{branch}/chapters/01_introduction.ipynb",
            f"{repo}/edit/{branch}/chapters/01_introduction.ipynb",
            f"{server}_sources/chapters/01_introduction.ipynb",
        ]
        assert [url for url in expected if url not in hrefs] == []
        assert any(href.startswith(f"{repo}/issues/new") for href in hrefs)
        assert page.locator("button.btn-launch-thebe").count() == 1
    finally:
        page.context.close()


def test_dark_mode(browser, server, site):
    """With a dark system preference the theme switches to dark and shows the dark logo."""
    page, _, log = open_page(browser, server, toc_pages()[0], color_scheme="dark")
    try:
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        red, green, blue = (int(v) for v in re.findall(r"\d+", background)[:3])
        assert red + green + blue < 3 * 80, f"background {background} is not dark"
        assert page.locator("img.logo__image.only-dark").first.is_visible()
        assert log.errors == []
        page.screenshot(path=str(site / "screenshots" / "index-dark.png"), full_page=True)
    finally:
        page.context.close()
