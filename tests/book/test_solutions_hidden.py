"""Exercise solutions stay hidden in the built book until the reader asks for them.

A solution cell is a code cell that calls `dlnotes.exercises.check(...)`; it is tagged `hide-cell`, so
myst-nb puts its code *and* its output inside one closed `<details>` element. On every chapter page
this test finds the solution cells (as many as the chapter's notebook has), checks that neither
their code nor their output is visible when the page opens, and that the checker's verdict line
("Exercise N.k: correct. ...") is not in the page's visible text. Then it clicks each cell's toggle
once and checks that code and output are both shown, the output holding the verdict.
"""

import re

import nbformat
import pytest

from pagekit import ROOT, SKIP_WITHOUT_CHROMIUM, open_page, toc_pages

pytestmark = SKIP_WITHOUT_CHROMIUM

CHAPTERS = [name for name in toc_pages() if re.fullmatch(r"chapters/0\d_\w+\.html", name)]
CHECK_CALL = "dlnotes.exercises.check("

# Mark the solution cells of the page (data-solution = 0, 1, ...) and return how many there are.
MARK_SOLUTIONS = """call => {
  const cells = Array.from(document.querySelectorAll('div.cell')).filter(cell => {
    const input = cell.querySelector('.cell_input');
    return input && input.textContent.includes(call);
  });
  cells.forEach((cell, i) => { cell.dataset.solution = String(i); });
  return cells.length;
}"""


def solution_ids(page_name):
    """Exercise ids checked by the solution cells of the chapter's notebook, in order."""
    notebook = nbformat.read(ROOT / page_name.replace(".html", ".ipynb"), as_version=4)
    ids = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and CHECK_CALL in cell.source:
            ids += re.findall(r'dlnotes\.exercises\.check\("(\d+\.\d+)"', cell.source)
    return ids


def test_every_chapter_page_is_checked():
    assert len(CHAPTERS) == 7
    assert all(solution_ids(name) for name in CHAPTERS), "every chapter ends with checked exercises"


@pytest.mark.parametrize("name", CHAPTERS)
def test_solutions_hidden_until_opened(browser, server, name):
    ids = solution_ids(name)
    page, response, _ = open_page(browser, server, name)
    try:
        assert response.status == 200
        assert page.evaluate(MARK_SOLUTIONS, CHECK_CALL) == len(ids)

        visible_text = page.locator("body").inner_text()
        for exercise in ids:
            assert f"Exercise {exercise}:" not in visible_text, f"the verdict of {exercise} shows before opening"

        for i, exercise in enumerate(ids):
            cell = page.locator(f'div.cell[data-solution="{i}"]')
            code, output = cell.locator(".cell_input"), cell.locator(".cell_output")
            assert output.count() == 1, f"solution {exercise} has no stored output"
            assert not code.is_visible(), f"the code of solution {exercise} is visible before opening"
            assert not output.is_visible(), f"the output of solution {exercise} is visible before opening"

            toggles = cell.locator("details > summary")
            assert toggles.count() == 1, f"solution {exercise} needs exactly one toggle for code and output"
            toggles.click()
            assert code.is_visible() and output.is_visible(), f"one click must show solution {exercise}"
            assert f"Exercise {exercise}: correct." in output.inner_text()
    finally:
        page.context.close()
