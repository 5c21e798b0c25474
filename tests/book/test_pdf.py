"""`make pdf`: the whole book printed to one PDF by headless Chromium (book/make_pdf.py).

The PDF is made from the test build of the site (the `site` fixture) and read back with pdfplumber:
it has a title page and a table of contents, every chapter's title, a display equation rendered by
MathJax (its text, not the TeX source), every figure caption on the same page as an image, numbered
pages, and no character of code past the right margin.
"""

import html
import importlib.util
import logging
import re

import pytest

from pagekit import ROOT, SKIP_WITHOUT_CHROMIUM, toc_pages

pytestmark = SKIP_WITHOUT_CHROMIUM

spec = importlib.util.spec_from_file_location("make_pdf", ROOT / "book" / "make_pdf.py")
make_pdf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_pdf)

# pdfminer logs a warning for every glyph of the web fonts whose descriptor lacks a bounding box
logging.getLogger("pdfminer").setLevel(logging.ERROR)

MARGIN_PT = 14 / 25.4 * 72  # the print style's left and right margins, in PDF points


@pytest.fixture(scope="module")
def pdf(site, browser):
    import pdfplumber

    path = site / "dlnotes.pdf"
    total = make_pdf.build_pdf(site, path, browser)
    with pdfplumber.open(path) as doc:
        pages = [(page, page.extract_text() or "") for page in doc.pages]
        assert len(pages) == total
        yield pages


def chapter_titles(site):
    """The title of every page listed in _toc.yml, as its <title> gives it ("1. Introduction ...")."""
    titles = []
    for name in toc_pages():
        head = (site / name).read_text(encoding="utf-8").split("</title>")[0]
        title = html.unescape(head.rsplit("<title>", 1)[1]).split(" — ")[0]
        titles.append(" ".join(title.split()))
    return titles


def squash(text):
    return re.sub(r"\s+", "", text)


def test_title_page_and_contents(pdf, site):
    first, second = pdf[0][1], pdf[1][1]
    assert squash("dlnotes: deep learning, executed") in squash(first)
    assert "Contents" in second
    for title in chapter_titles(site):
        assert squash(title) in squash(second), f"{title!r} missing from the contents"


def test_every_chapter_title_and_page_numbers(pdf, site):
    text = squash("\n".join(t for _, t in pdf))
    for title in chapter_titles(site):
        assert squash(title) in text
    # every page after the title page ends with its own number
    for number, (_, page_text) in enumerate(pdf[1:], start=2):
        assert page_text.strip().splitlines()[-1].strip() == str(number)


def test_display_equation_rendered(pdf):
    # chapter 2's neuron, a = f(w^T x + b), typeset by MathJax: its symbols, never the TeX source
    text = "\n".join(t for _, t in pdf)
    assert "\\mathbf" not in text and "\\Big" not in text
    assert any("∑" in t or "Σ" in t for _, t in pdf)


def test_figures_keep_their_captions(pdf):
    captioned = 0
    for page, text in pdf:
        for match in re.finditer(r"^Fig\. \d+\.\d+", text, re.MULTILINE):
            captioned += 1
            assert page.images, f"page {page.page_number}: caption {match.group(0)} without its figure"
    assert captioned >= 40


def test_code_is_wrapped_not_cut(pdf, site):
    """No character reaches into the side margins, and the longest line of every code cell the page
    shows (hidden solutions aside) is in the PDF whole, wrapped but not cut."""
    from bs4 import BeautifulSoup

    for page, _ in pdf:
        width = float(page.width)
        outside = []
        for c in page.chars:
            if c["x1"] - c["x0"] > 50 or not c["text"].strip():
                continue  # a MathJax arrow (one glyph stretched far beyond its box), or a wrapped line's space
            # italic maths glyphs overhang their advance box by a few points; text and code do not
            slack = 4 if "MathJax" in c["fontname"] else 1
            if c["x1"] > width - MARGIN_PT + slack or c["x0"] < MARGIN_PT - slack:
                outside.append(c["text"])
        assert outside == [], f"page {page.page_number}: text past the margin: {''.join(outside)[:60]!r}"

    text = squash("".join(t for _, t in pdf))
    missing = []
    for name in toc_pages():
        soup = BeautifulSoup((site / name).read_text(encoding="utf-8"), "html.parser")
        for cell in soup.select("div.cell"):
            if "tag_hide-cell" in cell.get("class", []):
                continue
            for pre in cell.select("div.cell_input pre"):
                longest = max(pre.get_text().splitlines() or [""], key=len)
                if len(longest) > 60 and squash(longest) not in text:
                    missing.append(f"{name}: {longest[:70]}")
    assert missing == []
