"""The chapters stay readable where MyST is not rendered (Colab, GitHub, VS Code).

A directive written with a backtick fence (```{admonition}) shows there as a code block, its
mathematics and emphasis unrendered; written with a colon fence (:::{admonition}) it shows as its
fence lines around ordinary Markdown, so the box's text reads as the rest of the page does.
"""

import re
from pathlib import Path

import nbformat
import pytest

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("0*.ipynb"))
BACKTICK_DIRECTIVE = re.compile(r"^`{3,}\{[\w-]+\}", re.MULTILINE)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_directives_use_colon_fences(path):
    nb = nbformat.read(path, as_version=4)
    fenced = [cell.id for cell in nb.cells if cell.cell_type == "markdown" and BACKTICK_DIRECTIVE.search(cell.source)]
    assert fenced == [], f"{path.name}: write these cells' directives as :::{{name}} ... :::"


def test_the_check_finds_a_backtick_directive():
    assert BACKTICK_DIRECTIVE.search("text\n```{admonition} Common misconception\n:class: tip\nbody\n```\n")
    assert not BACKTICK_DIRECTIVE.search("text\n:::{admonition} Common misconception\nbody\n:::\n```python\nx = 1\n```\n")
