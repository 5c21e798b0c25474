"""Latency of the two explorers: what one change of a control costs, in Python and in the browser's JS.

Run from the repository root:  .venv/bin/python benchmarks/bench_widgets.py [--repeat 21]

Prints medians over ``repeat`` changes of
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
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from dlnotes import gradflow, surfaces, trajectories
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


def median_ms(change, repeat):
    """Median wall and CPU time of ``change()`` in milliseconds, after one warm-up call, as text.

    On a busy machine the wall time includes waiting for a core; the CPU time (of all threads of
    this process) is the work itself.
    """
    change()
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        change()
        wall.append(1e3 * (time.perf_counter() - w0))
        cpu.append(1e3 * (time.process_time() - c0))
    return f"{statistics.median(wall):7.1f} ms wall, {statistics.median(cpu):7.1f} ms CPU"


def front_end_state(widget):
    """The synced traits, as the page's JavaScript receives them."""
    return {k: v for k, v in widget.get_state().items() if not k.startswith("_")}


def program(name, purpose):
    """Path of an installed program, or None after saying that ``purpose`` is skipped."""
    path = shutil.which(name)
    if path is None:
        print(f"  {purpose}: skipped ({name} is not installed)")
    return path


def optimizer_python(repeat):
    for name in surfaces.NAMES:
        w = optimizer_explorer(name, trajectories.OPTIMIZERS, steps=200)
        factors = iter([1.1, 1 / 1.1] * (repeat + 1))

        def change():
            w.lrs = {k: v * next(factors) if k == "adam" else v for k, v in w.lrs.items()}
            return w.paths

        print(f"  optimizer explorer, Python, {name:10s}  7 optimisers x 200 steps: {median_ms(change, repeat)}")


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
    print(f"  gradient explorer, Python profile, depth 50, width 64, batch {gradient.BATCH}, one BLAS thread: "
          f"{median_ms(lambda: w.profile, repeat)}")
    raw = median_ms(lambda: gradflow.profile(50, 64, "gelu", "he", True, True, gradient.BATCH), repeat)
    print(f"  gradient explorer, same with BLAS's default threads:                          {raw}")


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
    print(f"Explorer latency, median of {args.repeat} changes")
    optimizer_python(args.repeat)
    optimizer_node(max(args.repeat, 50))
    browser(args.repeat)
    gradient_python(args.repeat)
    one_off()


if __name__ == "__main__":
    main()
