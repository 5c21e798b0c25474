"""Accessibility of the built book (issue 17): axe-core on every page in light and dark mode, and a
text alternative for every content image.

axe-core runs inside the page through `axe-playwright-python` (its bundled axe-core, WCAG 2.0/2.1
A and AA rules plus the experimental "label-content-name-mismatch", which the audit found). A page
passes with no violation of impact "serious" or "critical".

Alt text: myst-nb writes `cell.metadata["mystnb"]["image"]["alt"]` onto the `<img>`; without it
Sphinx falls back to the image's file name. `alt_problems` rejects an empty alt, a file name and the
figure's caption repeated; `test_alt_text_check_on_a_fixture_book` proves it on a one-page book
built here: a figure with alt text in its cell metadata passes, one whose alt text is its caption
and one without alt text fail.
"""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from pagekit import FIXTURE, PAGES, SKIP_WITHOUT_CHROMIUM, open_page

pytestmark = SKIP_WITHOUT_CHROMIUM

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "rules": {"label-content-name-mismatch": {"enabled": True}},
    # axe's CSSOM preload fetches each stylesheet's @import again, resolved against the wrong base
    # (404 for /basic.css); it serves only the css-orientation-lock rule, and the page's own requests
    # are checked for errors by `log` below.
    "preload": False,
}
BLOCKING = ("serious", "critical")


def axe_violations(page):
    """[(rule id, impact, first offending targets)] of the serious and critical axe violations on page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"][:3]], len(v["nodes"]))
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES)
def test_no_serious_axe_violations(browser, server, name, scheme):
    page, _, log = open_page(browser, server, name, color_scheme=scheme)
    try:
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        assert axe_violations(page) == []
        assert log.errors == []
    finally:
        page.context.close()


# ----------------------------------------------------------------------------- alt text

# Each content image (in the article, not the theme's logo) with its alt text and its figure's caption
CONTENT_IMAGES = """() => Array.from(document.querySelectorAll('article img')).map(img => {
  const figure = img.closest('figure');
  const caption = figure && figure.querySelector('figcaption');
  return {src: img.getAttribute('src'), alt: img.getAttribute('alt'),
          caption: caption ? caption.textContent : ''};
})"""

FILE_NAME = re.compile(r"(^|[/\\])[\w.-]+\.(png|jpe?g|gif|svg|webp)$|_images/", re.IGNORECASE)
CAPTION_NUMBER = re.compile(r"^\s*(fig(ure)?\.?|图)\s*[\d.]+\s*", re.IGNORECASE)


def _words(text):
    return " ".join(re.findall(r"\w+", CAPTION_NUMBER.sub("", text).lower()))


def alt_problems(images):
    """What is wrong with each image's alt text: [(src, reason)]; [] when every one describes its image."""
    problems = []
    for image in images:
        alt = (image["alt"] or "").strip()
        if not alt:
            problems.append((image["src"], "no alt text"))
        elif FILE_NAME.search(alt):
            problems.append((image["src"], f"alt text is a file name: {alt!r}"))
        elif image["caption"] and _words(alt) in _words(image["caption"]):
            problems.append((image["src"], f"alt text repeats the caption: {alt!r}"))
    return problems


@pytest.mark.parametrize("name", [page for page in PAGES if page != f"{FIXTURE}.html"])
def test_content_images_have_alt_text(browser, server, name):
    """Fails until the chapter lanes' alt texts are merged (issue 17, item 1)."""
    page, _, _ = open_page(browser, server, name)
    try:
        assert alt_problems(page.evaluate(CONTENT_IMAGES)) == []
    finally:
        page.context.close()


ALT = "A rising straight line from the lower left to the upper right corner of the axes."
CAPTION = "A straight line."
PLOT = """import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [0, 1])
plt.show()"""


@pytest.fixture(scope="module")
def alt_fixture_book(tmp_path_factory):
    """A one-page Jupyter Book: three figures with captions; alt text in the metadata of the first,
    the caption as alt text in the second, no alt text in the third."""
    src = tmp_path_factory.mktemp("alt-book")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Alt text fixture")]
    for alt in (ALT, CAPTION, None):
        cell = nbformat.v4.new_code_cell(PLOT)
        cell.metadata["mystnb"] = {"figure": {"caption": CAPTION}}
        if alt:
            cell.metadata["mystnb"]["image"] = {"alt": alt}
        nb.cells.append(cell)
    nbformat.write(nb, src / "page.ipynb")
    (src / "_config.yml").write_text("title: alt\nexecute:\n  execute_notebooks: force\n", encoding="utf-8")
    (src / "_toc.yml").write_text("format: jb-book\nroot: page\n", encoding="utf-8")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jupyter_book), "build", "-W", str(src)], check=True, capture_output=True)
    return src / "_build" / "html"


def test_alt_text_check_on_a_fixture_book(browser, alt_fixture_book):
    page = browser.new_page()
    try:
        page.goto((alt_fixture_book / "page.html").as_uri())
        images = page.evaluate(CONTENT_IMAGES)
        assert [image["alt"] for image in images][0] == ALT  # the metadata reached the <img>
        problems = alt_problems(images)
        assert [src for src, _ in problems] == [images[1]["src"], images[2]["src"]]
        assert "repeats the caption" in problems[0][1]
        assert "file name" in problems[1][1]  # Sphinx's fallback: the image's path
    finally:
        page.close()
