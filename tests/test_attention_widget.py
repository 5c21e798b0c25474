"""dlnotes.widgets.attention: the explorer's traits and refusals, and its browser math run under Node
equal to dlnotes.layers.attention."""

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dlnotes.layers.attention import causal_mask
from dlnotes.widgets import AttentionExplorer, attention_explorer
from dlnotes.widgets.attention import DKS, MASKS, mask_array

RUNNER = Path(__file__).parent / "js" / "run_attnmath.mjs"
NODE = shutil.which("node")


def page_state(widget):
    """What attnmath.attend receives from the page for the widget's current controls."""
    state = {"queries": widget.query_vectors, "keys": widget.key_vectors, "values": widget.value_vectors,
             **{key: getattr(widget, key) for key in ("dk", "scaled", "mask", "padding")}}
    return json.loads(json.dumps(state))


def run_node(widget, states, tmp_path, repeat=0):
    if NODE is None:
        pytest.skip("node is not installed: the browser-math parity test needs Node.js (v18 or later)")
    module = tmp_path / "attention.mjs"
    module.write_text(widget._esm, encoding="utf-8")
    done = subprocess.run([NODE, str(RUNNER), str(module)], input=json.dumps({"states": states, "repeat": repeat}),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_defaults_and_python_math():
    w = attention_explorer()
    assert repr(w) == "AttentionExplorer(query=2, dk=16, scaled=True, mask='none')"
    weights = w.weights
    assert weights.shape == (6, 6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-14)
    # by hand for one query: softmax of q·k/√d_k over the keys
    q, k = np.array(w.query_vectors)[2, :16], np.array(w.key_vectors)[:, :16]
    s = k @ q / 4.0
    np.testing.assert_allclose(weights[2], np.exp(s - s.max()) / np.exp(s - s.max()).sum(), rtol=1e-13)
    np.testing.assert_allclose(w.outputs, weights @ np.array(w.value_vectors), rtol=1e-14)


def test_masks_block_what_they_say():
    np.testing.assert_array_equal(mask_array("causal", 6), causal_mask(6))
    padded = attention_explorer(mask="padding").weights
    assert np.all(padded[:, -2:] == 0.0) and np.all(padded[:, :-2] > 0.0)
    causal = attention_explorer(mask="causal").weights
    assert np.all(causal[np.triu_indices(6, 1)] == 0.0)
    np.testing.assert_array_equal(causal[0], [1, 0, 0, 0, 0, 0])   # the first query sees only itself


def test_unscaled_scores_saturate_as_dk_grows():
    # Var(q·k) = d_k for N(0, 1) entries: without the 1/√d_k the largest weight approaches 1.
    # Six keys: uniform weights would give a largest weight of 1/6.
    top = [attention_explorer(dk=dk, scaled=False).weights.max(axis=1).mean() for dk in DKS]
    scaled = [attention_explorer(dk=dk).weights.max(axis=1).mean() for dk in DKS]
    assert all(a < b for a, b in zip(top, top[1:])) and top[-1] > 0.8
    assert max(scaled) < 0.45 and top[-1] > 2 * scaled[-1]


def test_refusals_change_nothing():
    w = attention_explorer()
    with pytest.raises(ValueError, match=r"^AttentionExplorer: query must be in \[0, 5\], got 6$"):
        w.query = 6
    with pytest.raises(ValueError, match=r"^AttentionExplorer: dk must be one of 1, 2, 4, 8, 16, 32, 64, got 3$"):
        w.dk = 3
    with pytest.raises(ValueError, match=r"^AttentionExplorer: mask must be one of none, causal, padding, got 'full'$"):
        w.mask = "full"
    assert (w.query, w.dk, w.mask) == (2, 16, "none")


def test_browser_math_equals_dlnotes(tmp_path):
    w = AttentionExplorer()
    cases = list(itertools.product(DKS, (True, False), MASKS))
    states = []
    for dk, scaled, mask in cases:
        w.dk, w.scaled, w.mask = dk, scaled, mask
        states.append(page_state(w))
    reply = run_node(w, states, tmp_path)
    for (dk, scaled, mask), result in zip(cases, reply["results"]):
        w.dk, w.scaled, w.mask = dk, scaled, mask
        np.testing.assert_allclose(np.array(result["weights"]), w.weights, rtol=1e-12, atol=1e-15,
                                   err_msg=f"dk={dk}, scaled={scaled}, mask={mask}")
        np.testing.assert_allclose(np.array(result["outputs"]), w.outputs, rtol=1e-12, atol=1e-15)
        scores = np.array([[np.nan if v is None else v for v in row] for row in result["scores"]])
        blocked = mask_array(mask, 6)
        assert np.all(np.isnan(scores[blocked])) and not np.any(np.isnan(scores[~blocked]))


# ---- the front end in headless Chromium (tests/js/harness.html, no Jupyter) ----------------------

@pytest.mark.parametrize("lang, summary_start, control_name", [("en", "Query 2 (sat)", "Attention query position"),
                                                               ("zh-CN", "查询 2 (sat)", "注意力查询位置")])
def test_front_end_renders_in_the_page_language(browser, lang, summary_start, control_name):
    w = AttentionExplorer()
    state = {k: v for k, v in w.get_state().items() if not k.startswith("_")}
    page = browser.new_page()
    try:
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((Path(__file__).parent / "js" / "harness.html").as_uri())
        page.evaluate("lang => { document.documentElement.lang = lang; }", lang)
        page.evaluate("([state, esm, css]) => mount(state, esm, css)", [state, w._esm, w._css])
        summary = page.locator('[data-role="summary"]')
        assert summary.inner_text().startswith(summary_start)
        assert summary.get_attribute("aria-live") == "polite"
        assert page.locator('input[data-control="query"]').get_attribute("aria-label") == control_name
        shown = json.loads(page.locator('svg[data-role="weights"]').get_attribute("data-weights"))
        np.testing.assert_allclose(shown, w.weights[2], rtol=1e-12, atol=1e-15)
        page.evaluate("() => model.set('mask', 'padding')")            # a kernel (or a control) changes a trait
        shown = json.loads(page.locator('svg[data-role="weights"]').get_attribute("data-weights"))
        np.testing.assert_allclose(shown, AttentionExplorer(mask="padding").weights[2], rtol=1e-12, atol=1e-15)
        assert errors == []
    finally:
        page.close()
