"""Latency of the two explorers: what one change of a control costs, in Python and in the browser's JS.

Run from the repository root:  .venv/bin/python benchmarks/bench_widgets.py [--repeat 21]

Prints medians over ``repeat`` changes (the Python figures interleave the cases timed together,
through dlnotes.timing.median_times, once by the wall clock and once by CPU time) of
  * the optimiser explorer's Python recompute (``OptimizerExplorer.paths``: all 7 optimisers,
    200 steps) after a learning-rate change, per surface;
  * the gradient explorer's Python recompute (``GradientExplorer.profile``, gradflow at full
    precision) for depth 50, width 64, batch 128, with BLAS on one thread (as the widget runs it)
    and with the default thread count;
  * the same 7 × 200-step paths computed by the browser code (the widget's bundled ES module)
    under Node, which is what runs on every slider move in the page;
  * the whole redraw after one slider move or menu choice, in headless Chromium (if installed);
  * the one-off cost of the gradient explorer's precomputed grid and the saved state of each widget.
The target for every per-change figure is well under 100 ms.
"""

import argparse
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_info

from dlnotes import gradflow, surfaces, trajectories
from dlnotes.timing import median_times
from dlnotes.widgets import gradient, optimizer_explorer
from dlnotes.widgets.gradient import gradient_explorer

JS = Path(__file__).resolve().parent.parent / "tests" / "js"
RUNNER = JS / "run_optmath.mjs"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# In the page: move a control `repeat` times and time the synchronous redraw each event triggers.
TIME_CONTROL = """([selector, event, values]) => {
  const control = document.querySelector(selector);
  const times = values.map((value) => {
    control.value = value;
    const t0 = performance.now();
    control.dispatchEvent(new Event(event));
    return performance.now() - t0;
  });
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}"""


def median_ms(changes, repeat):
    """{name: "<wall> ms wall, <cpu> ms CPU"} for each zero-argument callable in ``changes``.

    Medians over ``repeat`` interleaved rounds, measured twice: by the wall clock, which on a
    busy machine includes waiting for a core, and by this process's CPU time (all its threads),
    which is the work itself.
    """
    wall = median_times(changes, repeat=repeat)
    cpu = median_times(changes, repeat=repeat, clock=time.process_time)
    return {name: f"{wall[name] * 1e3:7.1f} ms wall, {cpu[name] * 1e3:7.1f} ms CPU" for name in changes}


def front_end_state(widget):
    """The synced traits, as the page's JavaScript receives them."""
    return {k: v for k, v in widget.get_state().items() if not k.startswith("_")}


def program(name, purpose):
    """Path of an installed program, or None after saying that ``purpose`` is skipped."""
    path = shutil.which(name)
    if path is None:
        print(f"  {purpose}: skipped ({name} is not installed)")
    return path


def lr_change(surface):
    """A callable that changes Adam's learning rate (×1.1, then ÷1.1, ...) and recomputes the paths on ``surface``."""
    w = optimizer_explorer(surface, trajectories.OPTIMIZERS, steps=200)
    factors = itertools.cycle([1.1, 1 / 1.1])

    def change():
        w.lrs = {k: v * next(factors) if k == "adam" else v for k, v in w.lrs.items()}
        return w.paths

    return change


def optimizer_python(repeat):
    times = median_ms({name: lr_change(name) for name in surfaces.NAMES}, repeat)
    for name, text in times.items():
        print(f"  optimizer explorer, Python, {name:10s}  7 optimisers x 200 steps: {text}")


def optimizer_node(repeat):
    node = program("node", "optimizer explorer, browser JS")
    if node is None:
        return
    w = optimizer_explorer(optimizers=trajectories.OPTIMIZERS, steps=200)
    states = []
    for name in surfaces.NAMES:
        w.surface = name
        states.append(front_end_state(w))
    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp) / "optimizer.mjs"
        module.write_text(w._esm, encoding="utf-8")
        done = subprocess.run([node, str(RUNNER), str(module)], input=json.dumps({"states": states, "repeat": repeat}),
                              capture_output=True, text=True, check=True)
    for name, ms in zip(surfaces.NAMES, json.loads(done.stdout)["ms"]):
        print(f"  optimizer explorer, browser JS (Node), {name:10s}  7 x 200 steps: {ms:7.2f} ms")


def browser(repeat):
    chromium = program("chromium", "redraw in Chromium")
    if chromium is None:
        return
    from playwright.sync_api import sync_playwright

    everything = optimizer_explorer(optimizers=trajectories.OPTIMIZERS, steps=200)
    cases = [
        (everything, "lr slider (7 optimisers x 200 steps)", 'input[data-control="lr-adam"]', "input", [-1.5, -0.5]),
        (everything, "condition slider (contours repainted)", 'input[data-control="condition"]', "input",
         [0.5, 1.5]),
        (everything, "surface menu (contours repainted)", 'select[data-control="surface"]', "change",
         list(surfaces.NAMES)),
        (gradient_explorer(), "gradient explorer, depth slider", 'input[data-control="depth"]', "input", [1, 5]),
    ]
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for widget, label, selector, event, values in cases:
            page = chrome.new_page(viewport={"width": 900, "height": 1000})
            page.goto((JS / "harness.html").as_uri())
            page.evaluate("([state, esm, css]) => mount(state, esm, css)",
                          [front_end_state(widget), widget._esm, widget._css])
            ms = page.evaluate(TIME_CONTROL, [selector, event, (values * repeat)[:repeat]])
            print(f"  redraw in Chromium after one change, {label}: {ms:6.1f} ms")
            page.close()
        chrome.close()


def gradient_python(repeat):
    w = gradient_explorer("gelu", depth=50, width=64, init="he", batchnorm=True, residual=True)
    times = median_ms({"widget": lambda: w.profile,  # the widget limits BLAS to one thread itself
                       "default": lambda: gradflow.profile(50, 64, "gelu", "he", True, True, gradient.BATCH)},
                      repeat)
    print(f"  gradient explorer, Python profile, depth 50, width 64, batch {gradient.BATCH}, one BLAS thread: "
          f"{times['widget']}")
    print(f"  gradient explorer, same with BLAS's default threads:                          {times['default']}")


def one_off():
    gradient.grid.cache_clear()
    start = time.perf_counter()
    gradient.grid()
    print(f"  gradient explorer grid ({len(gradient.grid())} configurations): {time.perf_counter() - start:.1f} s once")
    for make in (optimizer_explorer, gradient_explorer):
        size = len(json.dumps(make().get_state()))
        print(f"  saved state of {make.__name__}(): {size / 1e3:.0f} kB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    blas = max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)
    print(f"Explorer latency, median of {args.repeat} changes; BLAS's default threads: {blas}")
    optimizer_python(args.repeat)
    optimizer_node(max(args.repeat, 50))
    browser(args.repeat)
    gradient_python(args.repeat)
    one_off()


if __name__ == "__main__":
    main()
