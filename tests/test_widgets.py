"""dlnotes.widgets: the explorers construct, follow their controls and refuse bad values; the
browser code computes what Python computes (run under Node) and draws it (headless Chromium)."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dlnotes import gradflow, surfaces, trajectories
from dlnotes.widgets import OptimizerExplorer, gradient_explorer, optimizer_explorer
from dlnotes.widgets.gradient import DEPTHS, WIDTHS
from dlnotes.widgets.optimizer import DEFAULT_LRS, MAX_STEPS

JS = Path(__file__).parent / "js"
NODE = shutil.which("node")


def front_end_state(widget):
    """The synced traits as the browser sees them (JSON round trip, no private keys)."""
    return json.loads(json.dumps({k: v for k, v in widget.get_state().items() if not k.startswith("_")}))


def run_node(widget, request, tmp_path):
    """Import the widget's whole ES module (what the page loads) under Node and run tests/js/run_optmath.mjs."""
    if NODE is None:
        pytest.skip("node is not installed: the browser-math parity test needs Node.js (v18 or later)")
    module = tmp_path / "optimizer.mjs"
    module.write_text(widget._esm, encoding="utf-8")
    done = subprocess.run([NODE, str(JS / "run_optmath.mjs"), str(module)], input=json.dumps(request),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def as_array(js_path):
    """A JSON path from Node as float64, null (a non-finite number) as nan."""
    return np.array([[np.nan if v is None else v for v in point] for point in js_path], dtype=float)


# ---- the optimiser explorer (Python side) ------------------------------------------------------

def test_optimizer_explorer_defaults():
    w = optimizer_explorer()
    assert (w.surface, w.optimizers, w.steps) == ("quadratic", ["sgd", "momentum", "adam"], 150)
    assert w.lrs == DEFAULT_LRS["quadratic"] and w.start == list(surfaces.quadratic().start)
    paths = w.paths
    assert list(paths) == ["sgd", "momentum", "adam"]
    assert all(p.shape == (151, 2) and np.all(np.isfinite(p)) for p in paths.values())
    assert repr(w) == "OptimizerExplorer(surface='quadratic', optimizers=['sgd', 'momentum', 'adam'], steps=150)"


@pytest.mark.parametrize("surface, condition", [("quadratic", 1.0), ("quadratic", 10.0), ("quadratic", 100.0)]
                         + [(name, None) for name in surfaces.NAMES if name != "quadratic"])
def test_default_learning_rates_converge_on_every_surface(surface, condition):
    # The promise next to DEFAULT_LRS: finite for the widget's MAX_STEPS steps, ending within 0.15 of a minimum,
    # on the quadratic at both ends of the condition slider (κ = 1 … 100) and at the widget's default κ.
    traits = {"steps": MAX_STEPS, **({"condition": condition} if condition else {})}
    w = optimizer_explorer(surface, trajectories.OPTIMIZERS, **traits)
    minima = np.array(surfaces.get(surface).minima)
    for name, path in w.paths.items():
        assert np.all(np.isfinite(path)), f"{name} diverges on {surface} at its default learning rate"
        distance = np.linalg.norm(minima - path[-1], axis=1).min()
        assert distance < 0.15, f"{name} ends {distance:.2f} from the nearest minimum of {surface}"


def test_nesterov_would_diverge_at_the_old_quadratic_rate():
    # The test above can fail: at lr 0.03 Nesterov's limit 2(1 + μ)/((1 + 2μ)κ) is crossed from κ ≈ 45.
    path = trajectories.run(surfaces.quadratic(50.0), "nesterov", steps=1000, lr=0.03)
    assert np.linalg.norm(path[-1]) > 1e100  # growing geometrically, not converging


def test_paths_are_trajectories_run_with_the_controls():
    w = optimizer_explorer("quadratic", trajectories.OPTIMIZERS, condition=20.0, momentum=0.7, beta1=0.8,
                           beta2=0.99, weight_decay=0.1, steps=40, start=[2.0, -1.0])
    surface = surfaces.quadratic(20.0)
    lr = DEFAULT_LRS["quadratic"]
    expected = {
        "sgd": trajectories.run(surface, "sgd", (2, -1), 40, lr=lr["sgd"]),
        "momentum": trajectories.run(surface, "momentum", (2, -1), 40, lr=lr["momentum"], momentum=0.7),
        "nesterov": trajectories.run(surface, "nesterov", (2, -1), 40, lr=lr["nesterov"], momentum=0.7),
        "adagrad": trajectories.run(surface, "adagrad", (2, -1), 40, lr=lr["adagrad"]),
        "rmsprop": trajectories.run(surface, "rmsprop", (2, -1), 40, lr=lr["rmsprop"]),
        "adam": trajectories.run(surface, "adam", (2, -1), 40, lr=lr["adam"], betas=(0.8, 0.99)),
        "adamw": trajectories.run(surface, "adamw", (2, -1), 40, lr=lr["adamw"], betas=(0.8, 0.99),
                                  weight_decay=0.1),
    }
    paths = w.paths
    assert list(paths) == list(expected)
    for name, path in expected.items():
        np.testing.assert_array_equal(paths[name], path)


@pytest.mark.parametrize("change", [
    {"lrs": {**DEFAULT_LRS["quadratic"], "adam": 0.5}},
    {"momentum": 0.5}, {"beta1": 0.5}, {"beta2": 0.9}, {"condition": 40.0}, {"steps": 60},
    {"start": [1.0, 1.0]}, {"surface": "beale"},
])
def test_changing_a_control_changes_the_paths(change):
    w = optimizer_explorer(optimizers=["momentum", "adam"])
    before = w.paths
    for key, value in change.items():
        setattr(w, key, value)
    after = w.paths
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(before.values(), after.values()))


def test_surface_change_resets_start_and_learning_rates():
    w = optimizer_explorer("beale", start=[1.0, 1.0])
    assert w.start == [1.0, 1.0]  # the constructor's start wins over the surface's default
    w.surface = "rosenbrock"
    assert w.start == list(surfaces.rosenbrock().start) and w.lrs == DEFAULT_LRS["rosenbrock"]


def test_optimizer_explorer_refuses_bad_values():
    w = optimizer_explorer()
    with pytest.raises(ValueError, match=r"OptimizerExplorer: lrs\['sgd'\] must be in \[0.0, inf\], got -0.1"):
        w.lrs = {**w.lrs, "sgd": -0.1}
    with pytest.raises(ValueError, match=r"OptimizerExplorer: lrs must have one entry per optimizer"):
        w.lrs = {"sgd": 0.1}
    with pytest.raises(ValueError, match=r"OptimizerExplorer: surface must be one of quadratic, .*, got 'bowl'"):
        w.surface = "bowl"
    with pytest.raises(ValueError, match=r"OptimizerExplorer: surface must be one of .*, got 'bowl'"):
        optimizer_explorer("bowl")
    with pytest.raises(ValueError, match=r"OptimizerExplorer: optimizers\[i\] must be one of sgd, .*, got 'lbfgs'"):
        w.optimizers = ["sgd", "lbfgs"]
    with pytest.raises(ValueError, match=r"OptimizerExplorer: momentum must be in \(0.0, 1.0\), got 0.0"):
        w.momentum = 0.0
    with pytest.raises(ValueError, match=r"OptimizerExplorer: beta2 must be in \[0.0, 1.0\), got 1.0"):
        w.beta2 = 1.0
    with pytest.raises(ValueError, match=r"OptimizerExplorer: weight_decay must be in \[0.0, inf\], got -1.0"):
        w.weight_decay = -1.0
    with pytest.raises(ValueError, match=r"OptimizerExplorer: condition must be in \[1.0, inf\], got 0.5"):
        w.condition = 0.5
    with pytest.raises(ValueError, match=r"OptimizerExplorer: steps must be >= 1, got 0"):
        w.steps = 0
    with pytest.raises(ValueError, match=r"OptimizerExplorer: steps must be <= 5000, got 6000"):
        w.steps = 6000
    with pytest.raises(ValueError, match=r"OptimizerExplorer: start must be a point \[x, y\], got \[1.0\]"):
        w.start = [1.0]
    assert w.lrs == DEFAULT_LRS["quadratic"] and w.surface == "quadratic"  # nothing was changed


# ---- the optimiser explorer's JavaScript, under Node ------------------------------------------

def test_browser_surfaces_equal_python_surfaces(tmp_path):
    rng = np.random.default_rng(0)
    cases = []
    for name in surfaces.NAMES:
        s = surfaces.get(name, **({"condition": 37.5} if name == "quadratic" else {}))
        points = np.column_stack([rng.uniform(*s.xlim, 20), rng.uniform(*s.ylim, 20)])
        cases.append((s, {"surface": name, "condition": 37.5, "points": points.tolist()}))
    reply = run_node(optimizer_explorer(), {"values": [c for _, c in cases]}, tmp_path)
    for (s, case), values in zip(cases, reply["values"]):
        x, y = np.array(case["points"]).T
        np.testing.assert_array_equal(np.array(values), np.column_stack([s.f(x, y), *s.grad(x, y)]))


def _state(surface, **traits):
    return front_end_state(optimizer_explorer(surface, trajectories.OPTIMIZERS, **traits))


STATES = [_state(name) for name in surfaces.NAMES] + [
    _state("quadratic", condition=57.5, momentum=0.5, beta1=0.3, beta2=0.95, weight_decay=0.2, steps=400),
    _state("rosenbrock", start=[0.3, -0.5], momentum=0.97, beta1=0.99, steps=1000),
    _state("himmelblau", lrs=dict.fromkeys(trajectories.OPTIMIZERS, 0.01), start=[-0.27, -0.92]),
]


# Only + − × ÷ and √ (correctly rounded in both languages) in the same order: the same bits.
# Adam and AdamW also raise β to the power t, where libm and V8 may differ in the last bit.
BIT_EXACT = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop")


def test_browser_paths_equal_python_paths(tmp_path):
    reply = run_node(optimizer_explorer(), {"states": STATES}, tmp_path)
    for state, js_paths in zip(STATES, reply["states"]):
        w = OptimizerExplorer(**{k: state[k] for k in ("surface", "condition", "optimizers", "lrs", "momentum",
                                                       "beta1", "beta2", "weight_decay", "steps", "start")})
        py_paths = w.paths
        assert list(js_paths) == list(py_paths) == list(trajectories.OPTIMIZERS)
        for name, path in py_paths.items():
            js = as_array(js_paths[name])
            np.testing.assert_allclose(js, path, rtol=0, atol=1e-9)
            if name in BIT_EXACT:
                np.testing.assert_array_equal(js, path)


def test_browser_paths_diverge_where_python_paths_diverge(tmp_path):
    state = _state("rosenbrock", lrs=dict.fromkeys(trajectories.OPTIMIZERS, 0.05), steps=50)
    js_paths = run_node(optimizer_explorer(), {"states": [state]}, tmp_path)["states"][0]
    py_paths = OptimizerExplorer("rosenbrock", optimizers=state["optimizers"], lrs=state["lrs"], steps=50).paths
    assert not np.all(np.isfinite(py_paths["sgd"]))
    for name, path in py_paths.items():
        js = as_array(js_paths[name])
        np.testing.assert_array_equal(np.isfinite(js), np.isfinite(path))
        np.testing.assert_allclose(js[np.isfinite(path)], path[np.isfinite(path)], rtol=1e-9)


# ---- the gradient explorer (Python side) --------------------------------------------------------

def test_gradient_explorer_grid_covers_every_control_value():
    w = gradient_explorer()
    assert (w.activation, w.init, w.depth, w.width) == ("sigmoid", "xavier", 30, 64)
    assert len(w.grid) == len(gradflow.ACTIVATIONS) * len(gradflow.INITS) * 2 * 2 * len(WIDTHS) * len(DEPTHS)
    for key, (norms, stds) in w.grid.items():
        depth = int(key.rsplit("|", 1)[1])
        assert len(norms) == len(stds) == depth
        assert all(v > 0 for v in norms + stds)
    assert w.config == "sigmoid|xavier|0|0|64|30"


@pytest.mark.parametrize("traits", [
    {}, {"activation": "relu", "init": "he", "depth": 50}, {"activation": "tanh", "init": "small", "width": 16},
    {"activation": "gelu", "residual": True, "batchnorm": True, "depth": 5},
])
def test_grid_holds_gradflow_profiles(traits):
    w = gradient_explorer(**{"activation": "sigmoid", "depth": 30, **traits})
    p = w.profile
    norms, stds = w.grid[w.config]
    np.testing.assert_allclose(norms, p.grad_norms, rtol=5e-4)  # 4 significant digits: half a unit in 1e-3
    np.testing.assert_allclose(stds, p.activation_stds, rtol=5e-4)


@pytest.mark.parametrize("change", [
    {"depth": 50}, {"width": 16}, {"activation": "relu"}, {"init": "he"}, {"residual": True}, {"batchnorm": True},
])
def test_changing_a_control_changes_the_profile(change):
    w = gradient_explorer()
    before_key, before = w.config, w.profile
    for key, value in change.items():
        setattr(w, key, value)
    after = w.profile
    assert w.config != before_key
    assert after.grad_norms.shape != before.grad_norms.shape or not np.allclose(after.grad_norms, before.grad_norms)


def test_gradient_explorer_refuses_bad_values():
    w = gradient_explorer()
    with pytest.raises(ValueError, match=r"GradientExplorer: depth must be one of 2, 5, 10, 20, 30, 50, got 0"):
        w.depth = 0
    with pytest.raises(ValueError, match=r"GradientExplorer: width must be one of 16, 64, got 32"):
        w.width = 32
    with pytest.raises(ValueError, match=r"GradientExplorer: activation must be one of sigmoid, .*, got 'elu'"):
        gradient_explorer("elu")
    with pytest.raises(ValueError, match=r"GradientExplorer: init must be one of small, xavier, he, got 'orth'"):
        w.init = "orth"
    assert w.depth == 30


@pytest.mark.parametrize("make", [optimizer_explorer, gradient_explorer])
def test_saved_widget_state_is_small_plain_json(make):
    state = make().get_state()
    size = len(json.dumps(state, allow_nan=False))  # ValueError if any inf/nan slipped in
    assert size < 2_000_000


# ---- both front ends in headless Chromium -------------------------------------------------------



def mount(browser, widget):
    """A page with the widget rendered through tests/js/harness.html; page errors are collected in page.errors."""
    page = browser.new_page(viewport={"width": 900, "height": 1000})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto((JS / "harness.html").as_uri())
    page.evaluate("([state, esm, css]) => mount(state, esm, css)", [front_end_state(widget), widget._esm, widget._css])
    return page


def drag(page, selector, fraction):
    """Drag a range slider's thumb with the mouse to ``fraction`` of its track, as a reader would."""
    box = page.locator(selector).bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * page.locator(selector).evaluate(
        "s => (s.value - s.min) / (s.max - s.min)"), y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * fraction, y, steps=5)
    page.mouse.up()


def test_optimizer_explorer_draws_and_follows_its_controls(browser):
    w = optimizer_explorer()
    page = mount(browser, w)
    contour = page.locator('.dln-opt svg[data-role="contour"]')
    final = json.loads(contour.get_attribute("data-final"))
    for name, path in w.paths.items():
        np.testing.assert_allclose(final[name], path[-1], rtol=0, atol=1e-9)
    assert page.locator(".dln-opt path.dln-trace").count() == 6  # 3 on the map, 3 in the loss panel

    drag(page, '.dln-opt input[data-control="lr-sgd"]', 0.2)  # the lr slider is log-scale, 1e-4 … 10
    moved = json.loads(contour.get_attribute("data-final"))
    assert moved["sgd"] != final["sgd"] and moved["adam"] == final["adam"]
    assert page.evaluate("model.state.lrs.sgd") < DEFAULT_LRS["quadratic"]["sgd"]

    box = contour.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)  # click: new start
    start = page.evaluate("model.state.start")
    assert start[0] > 0 and start[1] > 0
    assert json.loads(contour.get_attribute("data-final")) != moved

    page.select_option('.dln-opt select[data-control="surface"]', "himmelblau")
    assert page.evaluate("model.state.start") == list(surfaces.himmelblau().start)
    page.locator('.dln-opt input[data-control="use-nesterov"]').check()
    assert set(json.loads(contour.get_attribute("data-final"))) == {"sgd", "momentum", "nesterov", "adam"}
    assert page.errors == []


def test_gradient_explorer_draws_and_follows_its_controls(browser):
    w = gradient_explorer()
    page = mount(browser, w)
    plot = page.locator('.dln-grad svg[data-role="grad-norms"]')
    assert plot.get_attribute("data-config") == w.config
    assert json.loads(plot.get_attribute("data-grad-norms")) == w.grid[w.config][0]

    drag(page, '.dln-grad input[data-control="depth"]', 1.0)
    assert plot.get_attribute("data-config") == "sigmoid|xavier|0|0|64|50"
    assert len(json.loads(plot.get_attribute("data-grad-norms"))) == 50
    page.locator('.dln-grad input[data-control="residual"]').check()
    page.locator('.dln-grad input[data-control="activation-relu"]').check()
    page.select_option('.dln-grad select[data-control="init"]', "he")
    assert plot.get_attribute("data-config") == "relu|he|1|0|64|50"
    assert page.evaluate("[model.state.activation, model.state.init, model.state.residual]") == ["relu", "he", True]
    assert page.errors == []
