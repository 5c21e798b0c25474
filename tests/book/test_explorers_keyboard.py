"""The two explorers on the built pages, driven by the keyboard alone and read as assistive technology
reads them (issue 17, item 3).

The page is reached with Tab from the top (no mouse, no focusing by script); values change with arrow,
Home and End keys. What a screen reader gets is read from Playwright's ARIA snapshot (roles, names,
live regions) and from the attributes it announces (`aria-valuetext`, the plots' `aria-label`).
Chromium's own accessibility tree (CDP) does not report `aria-valuetext`, hence the attribute.
"""

import json
import re

import pytest

from pagekit import SKIP_WITHOUT_CHROMIUM, open_page

pytestmark = SKIP_WITHOUT_CHROMIUM

OPT, GRAD = "chapters/05_training.html", "chapters/02_basics.html"
MAP, LOSS = '.dln-opt svg[data-role="contour"]', '.dln-opt svg[data-role="loss"]'


def tab_to(page, selector, limit=800):
    """Press Tab until the element matching `selector` has the focus; fail after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("sel => document.activeElement === document.querySelector(sel)", selector):
            return
    pytest.fail(f"{selector} not reached with {limit} Tab presses")


def shown_and_announced(page, selector):
    """(the number the slider's row shows, the aria-valuetext it announces)"""
    return page.locator(selector).evaluate(
        "el => [el.parentElement.querySelector('output').textContent, el.getAttribute('aria-valuetext')]")


def test_optimizer_explorer_by_keyboard(browser, server):
    page, _, log = open_page(browser, server, OPT)
    try:
        lr = '.dln-opt input[data-control="lr-sgd"]'
        tab_to(page, lr)
        before_final = json.loads(page.locator(MAP).get_attribute("data-final"))
        before_summary = page.locator(".dln-opt .dln-summary").text_content()
        for _ in range(30):
            page.keyboard.press("ArrowLeft")  # 30 steps of 0.01 in log10(lr): the rate falls by 2x
        shown, announced = shown_and_announced(page, lr)
        assert announced == shown
        after_final = json.loads(page.locator(MAP).get_attribute("data-final"))
        assert after_final["sgd"] != before_final["sgd"]
        assert {k: v for k, v in after_final.items() if k != "sgd"} == {
            k: v for k, v in before_final.items() if k != "sgd"}
        assert page.locator(".dln-opt .dln-summary").text_content() != before_summary

        # the start point, from the keyboard: its x slider, then the map's description follows
        start_x = '.dln-opt input[data-control="start-x"]'
        tab_to(page, start_x)
        description = page.locator(MAP).get_attribute("aria-label")
        page.keyboard.press("End")
        shown, announced = shown_and_announced(page, start_x)
        assert announced == shown
        assert f"({shown}," in page.locator(MAP).get_attribute("aria-label")
        assert page.locator(MAP).get_attribute("aria-label") != description

        # Adam on and off by Space on its checkbox: the loss panel's description follows
        adam = '.dln-opt input[data-control="use-adam"]'
        tab_to(page, adam)
        assert "Adam" in page.locator(LOSS).get_attribute("aria-label")
        page.keyboard.press("Space")
        assert "Adam" not in page.locator(LOSS).get_attribute("aria-label")
        assert log.errors == []
    finally:
        page.context.close()


def test_optimizer_explorer_as_a_screen_reader_reads_it(browser, server):
    page, _, _ = open_page(browser, server, OPT)
    try:
        tree = page.locator(".dln-opt").first.aria_snapshot()
        sliders = re.findall(r'- slider "([^"]+)"', tree)
        assert len(sliders) == len(set(sliders)), "slider names must be distinct"
        for name in ("SGD learning rate", "Adam learning rate", "AdamW learning rate", "start x", "start y"):
            assert name in sliders
        # (the snapshot quotes a line that holds an apostrophe or a colon: - 'img "..."', - status: "...")
        assert len(re.findall(r'img "Contour map of the ill-conditioned quadratic', tree)) == 1
        assert len(re.findall(r'img "Loss gap', tree)) == 1
        assert re.search(r'status: "?After \d+ steps: SGD f − f\* = ', tree)
        assert page.locator(".dln-opt .dln-summary").get_attribute("aria-live") == "polite"
        for slider in page.locator(".dln-opt input[type=range]").all():
            if slider.is_visible():
                shown, announced = slider.evaluate(
                    "el => [el.parentElement.querySelector('output').textContent, el.getAttribute('aria-valuetext')]")
                assert announced == shown
    finally:
        page.context.close()


def test_gradient_explorer_by_keyboard(browser, server):
    page, _, log = open_page(browser, server, GRAD)
    try:
        depth = '.dln-grad input[data-control="depth"]'
        plot = '.dln-grad svg[data-role="grad-norms"]'
        tab_to(page, depth)
        page.keyboard.press("End")
        assert shown_and_announced(page, depth) == ["50", "50"]  # the value shown, not the position 5
        assert page.locator(plot).get_attribute("data-config").endswith("|50")
        assert "layers 1 to 50" in page.locator(plot).get_attribute("aria-label")
        summary = page.locator('.dln-grad [role="status"]')
        assert "layer 50" in summary.text_content()

        chosen = page.locator('.dln-grad input[type="radio"]:checked').get_attribute("data-control")
        tab_to(page, f'.dln-grad input[data-control="{chosen}"]')
        page.keyboard.press("ArrowRight")  # the next activation in the radio group
        now = page.locator('.dln-grad input[type="radio"]:checked').get_attribute("data-control")
        assert now != chosen
        assert "(chosen)" in page.locator(plot).get_attribute("aria-label")
        tree = page.locator(".dln-grad").first.aria_snapshot()
        assert '- slider "depth D (number of layers)"' in tree
        assert '- radiogroup "activation"' in tree
        assert 'img "Gradient norm' in tree
        assert log.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("name, words", [
    (OPT, ["学习率", "起点 x", "重置起点"]),
    (GRAD, ["深度", "激活函数", "残差连接"]),
])
def test_explorers_speak_chinese_on_a_chinese_page(browser, server, name, words):
    """The Chinese edition sets <html lang="zh...">: the explorers take their strings from it."""
    page, _, _ = open_page(browser, server, "chapters/index.html")
    context = page.context
    try:
        def as_chinese(route):
            response = route.fetch()
            route.fulfill(response=response, body=response.text().replace('<html lang="en"', '<html lang="zh-CN"', 1))

        context.route(f"{server}{name}", as_chinese)
        zh = context.new_page()
        zh.goto(server + name, wait_until="networkidle")
        zh.wait_for_selector(".dln-widget")
        assert zh.evaluate("document.documentElement.lang") == "zh-CN"
        text = zh.locator(".dln-widget").first.inner_text()
        assert [word for word in words if word not in text] == []
    finally:
        context.close()


def test_steps_slider_ends_at_the_widgets_limit(browser, server):
    """The steps slider reaches exactly the most steps the Python widget accepts (MAX_STEPS),
    and the explorer runs them."""
    from dlnotes.widgets.optimizer import MAX_STEPS

    page, _, log = open_page(browser, server, OPT)
    try:
        steps = '.dln-opt input[data-control="steps"]'
        assert page.locator(steps).get_attribute("max") == str(MAX_STEPS)
        tab_to(page, steps)
        page.keyboard.press("End")
        shown, announced = shown_and_announced(page, steps)
        assert shown == announced == str(MAX_STEPS)
        assert page.locator(".dln-opt .dln-summary").text_content().startswith(f"After {MAX_STEPS} steps")
        assert log.errors == []
    finally:
        page.context.close()
