"""Browser test of the attention explorer on the built chapter-6 page (no kernel): it renders from the
stored widget state, every control works by keyboard, the page's numbers equal dlnotes', and the
accessible names, values and descriptions follow the state."""

import json

import numpy as np
import pytest

from dlnotes.widgets import AttentionExplorer
from pagekit import SKIP_WITHOUT_CHROMIUM, open_page

pytestmark = SKIP_WITHOUT_CHROMIUM

PAGE = "chapters/06_models.html"
ROOT = ".dln-attn"
WEIGHTS = f'{ROOT} svg[data-role="weights"]'
SUMMARY = f'{ROOT} [data-role="summary"]'


@pytest.fixture
def chapter(browser, server):
    """The chapter page, opened once more if the first load times out (a busy machine can take over
    the 30 s Playwright allows for the first page of a session)."""
    from playwright.sync_api import TimeoutError as PageTimeout

    before = set(browser.contexts)
    try:
        page, _, log = open_page(browser, server, PAGE)
    except PageTimeout:
        for context in set(browser.contexts) - before:
            context.close()
        page, _, log = open_page(browser, server, PAGE)
    page.locator(ROOT).first.scroll_into_view_if_needed()
    yield page, log
    page.context.close()


def weights_shown(page):
    return np.array(json.loads(page.locator(WEIGHTS).first.get_attribute("data-weights")))


def wait_for_new(page, selector, attribute, before):
    page.wait_for_function("([sel, name, before]) => document.querySelector(sel).getAttribute(name) !== before",
                           arg=[selector, attribute, before])
    return page.locator(selector).first.get_attribute(attribute)


def test_renders_the_stored_state_with_dlnotes_numbers(chapter):
    page, log = chapter
    expected = AttentionExplorer()  # the chapter shows the default explorer
    np.testing.assert_allclose(weights_shown(page), expected.weights[expected.query], rtol=1e-12, atol=1e-15)
    for role in ("scores", "weights", "output"):
        plot = page.locator(f'{ROOT} svg[data-role="{role}"]').first
        assert plot.get_attribute("role") == "img" and plot.get_attribute("aria-label")
    assert page.locator(SUMMARY).first.get_attribute("aria-live") == "polite"
    names = [page.locator(f'{ROOT} input[data-control="{c}"]').first.get_attribute("aria-label") for c in ("query", "dk")]
    assert names == ["Attention query position", "Attention key dimension d_k"]
    assert log.errors == []


def test_keyboard_moves_the_query_and_d_k(chapter):
    page, log = chapter
    query = page.locator(f'{ROOT} input[data-control="query"]').first
    before = page.locator(WEIGHTS).first.get_attribute("data-weights")
    query.focus()
    page.keyboard.press("ArrowRight")                                  # query 2 → 3
    wait_for_new(page, WEIGHTS, "data-weights", before)
    assert query.get_attribute("aria-valuetext") == "3"
    expected = AttentionExplorer(query=3)
    np.testing.assert_allclose(weights_shown(page), expected.weights[3], rtol=1e-12, atol=1e-15)
    assert page.locator(SUMMARY).first.inner_text().startswith("Query 3 (on)")

    dk = page.locator(f'{ROOT} input[data-control="dk"]').first
    dk.focus()
    page.keyboard.press("End")                                         # d_k = 64
    page.wait_for_function("el => el.getAttribute('aria-valuetext') === '64'", arg=dk.element_handle())
    np.testing.assert_allclose(weights_shown(page), AttentionExplorer(query=3, dk=64).weights[3],
                               rtol=1e-12, atol=1e-15)
    assert log.errors == []


def test_keyboard_switches_the_scale_and_the_mask(chapter):
    page, log = chapter
    box = page.locator(f'{ROOT} input[data-control="scaled"]').first
    before = page.locator(WEIGHTS).first.get_attribute("data-weights")
    box.focus()
    page.keyboard.press("Space")                                       # unscaled scores
    wait_for_new(page, WEIGHTS, "data-weights", before)
    unscaled = AttentionExplorer(scaled=False)
    np.testing.assert_allclose(weights_shown(page), unscaled.weights[2], rtol=1e-12, atol=1e-15)

    label_before = page.locator(WEIGHTS).first.get_attribute("aria-label")
    mask = page.locator(f'{ROOT} select[data-control="mask"]').first
    mask.focus()
    page.keyboard.press("ArrowDown")                                   # "none" → "causal"
    wait_for_new(page, WEIGHTS, "aria-label", label_before)
    assert mask.input_value() == "causal"
    shown = weights_shown(page)
    assert np.all(shown[3:] == 0.0)                                    # query 2 cannot see keys 3, 4, 5
    np.testing.assert_allclose(shown, AttentionExplorer(scaled=False, mask="causal").weights[2],
                               rtol=1e-12, atol=1e-15)
    assert "3 keys at weight 0" in page.locator(WEIGHTS).first.get_attribute("aria-label")
    assert log.errors == []


def test_chapter_6_solutions_stay_hidden_until_opened(chapter):
    """Issue 15: a solution's code and output are hidden behind one click (hide-cell), not shown under the exercise."""
    page, log = chapter
    solutions = page.locator(".cell.tag_hide-cell")
    assert solutions.count() == 7                                      # exercises 6.1 to 6.7
    for i in range(solutions.count()):
        cell = solutions.nth(i)
        assert not cell.locator(".cell_output").first.is_visible()
        assert not cell.locator(".cell_input").first.is_visible()
    first = solutions.first
    first.locator("summary").first.click()
    assert first.locator(".cell_output").first.is_visible()
    assert "Exercise 6.1: correct." in first.locator(".cell_output").first.inner_text()
    assert log.errors == []
