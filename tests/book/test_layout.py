"""Layout of the built book on small screens and in dark mode (issue 17, item 4).

- No page scrolls sideways at 360 CSS pixels (a small phone): the document is no wider than the
  viewport.
- Dark mode: the explorers sit on the dark page with light text and native controls drawn for a dark
  scheme; every plotted line has at least 3:1 contrast against what is behind it (WCAG 1.4.11), in
  light and in dark mode; figures are opaque images (no dark axes on a dark page) on a light panel;
  admonitions have a dark background and light text.
"""

import re

import pytest

from pagekit import PAGES, SKIP_WITHOUT_CHROMIUM, open_page

pytestmark = SKIP_WITHOUT_CHROMIUM

EXPLORER_PAGES = ["chapters/02_basics.html", "chapters/05_training.html"]
FIGURE_PAGES = ["chapters/02_basics.html", "chapters/04_theory.html"]
ADMONITION_PAGES = ["chapters/02_basics.html", "chapters/05_training.html"]


def rgb(css):
    """(r, g, b, a) of a computed CSS colour such as 'rgb(18, 18, 18)' or 'rgba(0, 0, 0, 0)'."""
    parts = [float(v) for v in re.findall(r"[\d.]+", css)]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def luminance(colour):
    """WCAG relative luminance of an sRGB colour (r, g, b[, a]) with channels 0-255."""
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = colour[:3]
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a, b):
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def evaluate_on(browser, server, name, script, scheme):
    """The value of the JavaScript `script` on page `name` opened in colour scheme `scheme`."""
    page, _, _ = open_page(browser, server, name, color_scheme=scheme)
    try:
        return page.evaluate(script)
    finally:
        page.context.close()


# The first opaque background colour at or above an element (white if none is)
BACKGROUND_OF = """el => {
  while (el && /rgba\\(.*, 0\\)$|transparent/.test(getComputedStyle(el).backgroundColor)) el = el.parentElement;
  return el ? getComputedStyle(el).backgroundColor : 'rgb(255, 255, 255)';
}"""


def test_contrast_formula_matches_wcag_examples():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)  # #767676, the AA grey


@pytest.mark.parametrize("name", PAGES)
def test_no_horizontal_overflow_at_360px(browser, server, name):
    page, _, _ = open_page(browser, server, name)
    try:
        page.set_viewport_size({"width": 360, "height": 800})
        page.wait_for_function("document.documentElement.clientWidth === 360")
        wide = page.evaluate("""() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.right > width + 1 && box.width > 0 && !el.closest('.bd-sidebar-primary, .bd-sidebar-secondary, [hidden]')) {
              let clipped = false;  // inside a box that scrolls or clips on its own
              for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                if (getComputedStyle(p).overflowX !== 'visible' && p.getBoundingClientRect().right <= width + 1) {
                  clipped = true; break;
                }
              }
              if (!clipped) out.push(el.tagName + '.' + el.className + ' right=' + Math.round(box.right));
            }
          }
          return {scroll: document.documentElement.scrollWidth, width, wide: out.slice(0, 5)};
        }""")
        assert wide["scroll"] <= wide["width"], wide["wide"]
    finally:
        page.context.close()


# Each explorer's effective background (first opaque ancestor), text colour, the colour scheme its
# controls are drawn in, and the stroke colour of every plotted line.
EXPLORER_COLOURS = """() => Array.from(document.querySelectorAll('.dln-widget')).map(w => {
  const back = (%s)(w);
  const input = w.querySelector('input[type=checkbox], input[type=radio]');
  return {
    background: back, text: getComputedStyle(w).color, scheme: getComputedStyle(input).colorScheme,
    lines: Array.from(w.querySelectorAll('path.dln-trace')).map(p => getComputedStyle(p).stroke),
  };
})""" % BACKGROUND_OF


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", EXPLORER_PAGES)
def test_explorer_colours_follow_the_theme(browser, server, name, scheme):
    explorers = evaluate_on(browser, server, name, EXPLORER_COLOURS, scheme)
    assert explorers, f"{name} shows no explorer"
    for explorer in explorers:
        back = rgb(explorer["background"])
        assert (luminance(back) < 0.05) == (scheme == "dark"), explorer["background"]
        assert contrast(rgb(explorer["text"]), back) >= 4.5
        assert explorer["scheme"] == scheme or (scheme == "light" and explorer["scheme"] == "normal")
        assert len(explorer["lines"]) >= 2
        low = [line for line in explorer["lines"] if contrast(rgb(line), back) < 3.0]
        assert low == [], f"lines below 3:1 against {explorer['background']}"


@pytest.mark.parametrize("name", FIGURE_PAGES)
def test_figures_are_opaque_on_a_light_panel_in_dark_mode(browser, server, name):
    figures = evaluate_on(browser, server, name, FIGURE_CORNERS, "dark")
    assert figures, f"{name} has no figure"
    for figure in figures:
        assert figure["alpha"] == 255, f"{figure['src']} is transparent: its dark ink would vanish"
        assert luminance(rgb(figure["panel"])) > 0.5, figure


# Each figure's top-left pixel's opacity and the panel colour behind it
FIGURE_CORNERS = """async () => {
          const out = [];
          for (const img of document.querySelectorAll('article .cell_output img')) {
            img.loading = 'eager';
            await img.decode();
            const canvas = document.createElement('canvas');
            [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
            const ctx = canvas.getContext('2d');
            ctx.drawImage(img, 0, 0);
            const corner = ctx.getImageData(1, 1, 1, 1).data;
            out.push({src: img.getAttribute('src'), alpha: corner[3], panel: getComputedStyle(img).backgroundColor});
          }
          return out;
        }"""


@pytest.mark.parametrize("name", ADMONITION_PAGES)
def test_admonitions_are_dark_in_dark_mode(browser, server, name):
    boxes = evaluate_on(browser, server, name, ADMONITION_COLOURS, "dark")
    assert boxes, f"{name} has no admonition"
    for box in boxes:
        assert luminance(rgb(box["background"])) < 0.05, box
        assert contrast(rgb(box["text"]), rgb(box["background"])) >= 4.5, box


ADMONITION_COLOURS = """() => Array.from(document.querySelectorAll('article .admonition')).map(a => {
  const p = a.querySelector('p:not(.admonition-title)') || a;
  return {background: (%s)(a), text: getComputedStyle(p).color};
})""" % BACKGROUND_OF
