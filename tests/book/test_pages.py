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
import re
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
import yaml

from pagekit import (
    BROKEN_IMAGES, FIXTURE, PAGES, ROOT, SKIP_WITHOUT_CHROMIUM, UNRENDERED_MATH, WIDGET_VIEW, PageLog,
    drag, open_page, toc_pages, visual_state, wait_for_change,
)

pytestmark = SKIP_WITHOUT_CHROMIUM

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
            if href.endswith("/dlnotes.pdf"):
                continue  # printed from these pages by `make pdf` afterwards; test_pdf.py makes and reads it
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
