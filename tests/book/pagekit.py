"""Shared pieces of the browser tests of the built book: what to build, how to open a page, and
helpers to drive widgets. The fixtures that build, serve and open the site live in `conftest.py`
beside this file (session-scoped, so every test file of `tests/book/` shares one build per worker).

Import what you need in a test module: `from pagekit import open_page, SKIP_WITHOUT_CHROMIUM`.
"""


from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
BOOK_SOURCES = ["_config.yml", "_toc.yml", "chapters", "book", "locales"]
SKIP_COPY = [".ipynb_checkpoints", "__pycache__", "_build"]
from browserkit import CHROMIUM, CHROMIUM_FLAGS, SKIP_WITHOUT_CHROMIUM  # noqa: E402,F401 (re-exported)
FIXTURE = "widget_fixture"  # docname of the widget fixture page in the test build




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


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
