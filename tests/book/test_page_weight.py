"""Weight of each built page, and a quiet console (issue 17, items 5 and 6).

Each page is loaded in a fresh browser context (empty cache) until the network is idle; the bytes
of every response body and the number of requests are summed. A page fails when it passes its budget
in BUDGETS, set from the measurement in benchmarks/README.md ("Page weight") with some headroom: a
change that adds a large script or font to every page, or the widget manager to a page without
widgets, shows up here. No page may log a console warning or error.

`benchmarks/bench_pages.py` prints the same measurement for any built site.
"""

import pytest

from pagekit import FIXTURE, PAGES, SKIP_WITHOUT_CHROMIUM, WAIT_FOR_MATHJAX

pytestmark = SKIP_WITHOUT_CHROMIUM

MB = 1_000_000
# page: (bytes, requests). Measured after issue 17 (benchmarks/README.md, "Page weight"): pages with
# explorers about 7 MB in 65-71 requests (the widget manager is 3.6 MB of it), the other chapters
# 2.0-2.9 MB, pages without mathematics about 1.2 MB. Budget: the measurement + 10 % (rounded up to
# 0.05 MB) and + 5 requests. A chapter that grows on purpose (a new figure) raises its budget here.
BUDGETS = {
    "chapters/index.html": (2.20 * MB, 49),
    "chapters/01_introduction.html": (3.15 * MB, 65),
    "chapters/02_basics.html": (7.45 * MB, 70),
    "chapters/03_frameworks.html": (2.50 * MB, 54),
    "chapters/04_theory.html": (3.10 * MB, 68),
    "chapters/05_training.html": (7.70 * MB, 76),
    "chapters/06_models.html": (7.65 * MB, 79),  # with the attention explorer: 6.93 MB, 74 requests
    "chapters/07_deployment.html": (2.65 * MB, 57),
    "chapters/glossary.html": (1.30 * MB, 36),
    "chapters/bibliography.html": (1.30 * MB, 36),
    f"{FIXTURE}.html": (6.35 * MB, 58),
    "genindex.html": (1.30 * MB, 36),
    "search.html": (1.25 * MB, 36),
}
WIDGET_MANAGER = "_static/vendor/html-manager/embed-amd.js"
FONT_AWESOME_JS = "_static/scripts/fontawesome.js"


def measure(browser, url):
    """Load `url` with an empty cache; return ({url: body bytes}, [console warnings and errors])."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    finished, console = [], []
    page.on("requestfinished", lambda request: finished.append(request))
    page.on("console", lambda message: message.type in ("warning", "error") and console.append(
        f"{message.type}: {message.text}"))
    try:
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        page.evaluate(WAIT_FOR_MATHJAX)
        page.wait_for_load_state("networkidle")
        sizes = {request.url: request.sizes()["responseBodySize"] for request in finished}
    finally:
        context.close()
    return sizes, console


def test_budgets_cover_every_page():
    assert sorted(BUDGETS) == sorted(PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_page_weight_and_console(browser, server, name):
    sizes, console = measure(browser, server + name)
    total, budget = sum(sizes.values()), BUDGETS[name]
    assert console == []
    assert total <= budget[0], f"{name}: {total / MB:.2f} MB > {budget[0] / MB:.2f} MB"
    assert len(sizes) <= budget[1], f"{name}: {len(sizes)} requests > {budget[1]}"
    assert not any(FONT_AWESOME_JS in url for url in sizes)
    has_widgets = name in ("chapters/02_basics.html", "chapters/05_training.html", "chapters/06_models.html",
                           f"{FIXTURE}.html")
    assert any(WIDGET_MANAGER in url for url in sizes) == has_widgets
