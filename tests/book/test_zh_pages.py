"""Browser tests of the Chinese edition (built by `book/i18n.py html` into <site>/zh/, see conftest.py).

Every Chinese page gets exactly the checks that `test_pages.py` makes on the English ones (HTTP
200, no JavaScript error, nothing fetched from outside, mathematics typeset, images loaded, internal
links and anchors that exist; `check_page` is that test). In addition: each page declares
`lang="zh-CN"` and links the CJK font stack, which the browser applies; every page of either
edition links to the same page of the other; the Chinese search finds Chinese words in Chinese
pages; the landing page says what stays English; the glossary leads with the Chinese term; and the
explorers speak Chinese there with the same numbers.
"""

import re
from urllib.parse import quote, urljoin

import pytest

from pagekit import PAGES, ROOT, SKIP_WITHOUT_CHROMIUM, WIDGET_VIEW, open_page
from test_pages import test_page as check_page

pytestmark = SKIP_WITHOUT_CHROMIUM

ZH = "zh/"
CJK = re.compile(r"[\u4e00-\u9fff]")
SWITCH = "a.dln-language-switch"
SWITCH_HREF = re.compile(r'<a class="[^"]*dln-language-switch[^"]*" href="([^"]+)"\s+hreflang="([^"]+)"')

# (page, the explorer's root selector, the JavaScript file that holds its strings)
EXPLORERS = [
    ("chapters/02_basics.html", ".dln-grad", "gradient.js"),
    ("chapters/05_training.html", ".dln-opt", "optimizer.js"),
    ("chapters/06_models.html", ".dln-attn", "attention.js"),
]


def switch_target(fetch, server, name):
    """(absolute URL, hreflang) of the language switch of page ``name``, read from its HTML."""
    status, html = fetch(server + name)
    assert status == 200, name
    links = SWITCH_HREF.findall(html)
    assert len(links) == 1, f"{name}: expected one language switch, found {len(links)}"
    href, hreflang = links[0]
    return urljoin(server + name, href), hreflang


@pytest.mark.parametrize("name", PAGES)
def test_every_page_links_to_its_other_edition(fetch, server, name):
    english, chinese = server + name, server + ZH + name
    assert switch_target(fetch, server, name) == (chinese, "zh-CN")
    assert switch_target(fetch, server, ZH + name) == (english, "en")


class PatientBrowser:
    """The session's browser, whose pages allow 2 minutes per action: a full-page screenshot of a
    long chapter set in a CJK font can take longer than Playwright's default 30 s on a busy CPU."""

    def __init__(self, browser):
        self.browser = browser

    def new_context(self, **options):
        context = self.browser.new_context(**options)
        context.set_default_timeout(120_000)
        return context


@pytest.mark.parametrize("name", PAGES)
def test_chinese_page(browser, server, site, fetch, name):
    """The checks of test_pages.py on the Chinese page (its screenshot is named zh__...)."""
    check_page(PatientBrowser(browser), server, site, fetch, ZH + name)


@pytest.mark.parametrize("name", PAGES)
def test_chinese_page_declares_its_language(fetch, server, name):
    status, html = fetch(server + ZH + name)
    assert status == 200 and re.search(r'<html lang="zh-CN"', html)
    assert "_static/zh.css" in html, "the CJK font stack is linked"


def test_chinese_text_uses_a_cjk_font(browser, server):
    page, _, log = open_page(browser, server, ZH + "chapters/index.html")
    try:
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        fonts = page.evaluate("getComputedStyle(document.querySelector('article p')).fontFamily")
        assert "Noto Sans CJK SC" in fonts, fonts
        assert page.locator(SWITCH).first.is_visible()
        assert log.errors == []
    finally:
        page.context.close()


def test_switch_is_a_working_button(browser, server):
    """Clicking the switch on a Chinese chapter opens the same chapter in English, and back."""
    name = "chapters/01_introduction.html"
    page, _, log = open_page(browser, server, ZH + name)
    try:
        page.click(SWITCH)
        page.wait_for_url(server + name)
        assert page.evaluate("document.documentElement.lang") == "en"
        page.click(SWITCH)
        page.wait_for_url(server + ZH + name)
        assert log.errors == []
    finally:
        page.context.close()


def test_chinese_search_finds_chinese_words(browser, server):
    """Each edition has its own index: a Chinese word finds Chinese pages, and only those."""
    page, _, log = open_page(browser, server, ZH + "search.html?q=" + quote("梯度"))
    try:
        results = "#search-results ul.search li a"
        page.wait_for_selector(results, timeout=30_000)
        hrefs = page.eval_on_selector_all(results, "links => links.map(a => a.href)")
        assert any("chapters/glossary.html" in href for href in hrefs), hrefs
        assert all(href.startswith(server + ZH) for href in hrefs)
        assert log.errors == []
    finally:
        page.context.close()


def test_landing_page_says_what_stays_english(fetch, server):
    _, html = fetch(server + ZH + "chapters/index.html")
    assert "代码" in html and "输出" in html and "图" in html and "英文" in html


def test_glossary_entries_lead_with_the_chinese_term(fetch, server):
    _, html = fetch(server + ZH + "chapters/glossary.html")
    term = re.search(r'<dt id="term-learning-rate">(.*?)<', html, re.S)
    assert term and term.group(1).strip() == "学习率"


@pytest.mark.parametrize("name, root, script", EXPLORERS)
def test_explorers_speak_chinese_with_the_same_numbers(browser, server, name, root, script):
    source = (ROOT / "dlnotes" / "widgets" / script).read_text(encoding="utf-8")
    if not re.search(r"\bzh\s*:\s*\{", source):
        pytest.skip(f"dlnotes/widgets/{script} has no Chinese strings table yet")
    shown = {}
    for edition in ("", ZH):
        page, _, log = open_page(browser, server, edition + name)
        try:
            assert page.locator(WIDGET_VIEW).count() > 0
            shown[edition] = page.locator(root).first.inner_text()
            assert log.errors == []
        finally:
            page.context.close()
    assert CJK.search(shown[ZH]), f"{name}: the explorer shows no Chinese: {shown[ZH][:200]}"
    assert not CJK.search(shown[""])
    numbers = [sorted(re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", shown[edition])) for edition in ("", ZH)]
    assert numbers[0] == numbers[1]


FIGURE_ALT = re.compile(r'<figure\b.*?<img\b[^>]*\balt="([^"]*)"', re.S)
CHAPTER_PAGES = [name for name in PAGES if re.match(r"chapters/0\d_", name)]


@pytest.mark.parametrize("name", CHAPTER_PAGES)
def test_figures_have_chinese_alt_text(fetch, server, name):
    """A screen reader on a Chinese page reads each figure's description in Chinese: every figure
    has the same number of images as in English, and each image's alt text is Chinese."""
    alts = {}
    for edition in ("", ZH):
        status, html = fetch(server + edition + name)
        assert status == 200
        alts[edition] = FIGURE_ALT.findall(html)
    assert alts[""] and len(alts[ZH]) == len(alts[""])
    assert not any(CJK.search(alt) for alt in alts[""])
    assert [alt[:50] for alt in alts[ZH] if not CJK.search(alt)] == []
