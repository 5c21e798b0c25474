"""Time dlnotes' multi-head self-attention against torch.nn on the CPU, forward + backward, and the
attention explorer's update in the browser's JavaScript.

Workload (the defaults): MultiheadAttention(embed_dim 64, 4 heads) on x of shape (32, 64, 64)
(batch, sequence length, features), float32; one step = forward, then backward of a fixed random
d loss / d output, giving ∂L/∂x and every parameter gradient. Target: dlnotes within 4× of torch.
Both run on the same number of threads (``--threads``, default 1) in alternating rounds
(dlnotes.timing.median_times); the median is reported with the largest difference of ∂L/∂x.

Explorer: the attention math (attnmath.js) for every (d_k, scale, mask) setting of the explorer,
under Node, median over ``--repeat`` runs per setting, and the whole redraw after one control
change in headless Chromium (skipped when node or chromium is missing). Target: under 100 ms.

    .venv/bin/python benchmarks/bench_attention.py [--threads N] [--rounds R] [--repeat R]
"""

import argparse
import itertools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch

from dlnotes.layers import MultiheadAttention
from dlnotes.widgets import AttentionExplorer
from dlnotes.widgets.attention import DKS, MASKS

from bench_widgets import CHROMIUM_ARGS, TIME_CONTROL  # the same in-page timer as the other explorers
from layer_timing import report, time_forward_backward

JS = Path(__file__).resolve().parent.parent / "tests" / "js"


def layer_vs_torch(args):
    rng = np.random.default_rng(0)
    ours = MultiheadAttention(args.embed_dim, args.heads, rng=rng, dtype=np.float32)
    theirs = ours.to_torch().float()
    x = rng.standard_normal((args.batch, args.length, args.embed_dim)).astype(np.float32)
    grad = rng.standard_normal(x.shape).astype(np.float32)
    times, gap = time_forward_backward(ours, theirs, lambda m, xt: m(xt, xt, xt, need_weights=False)[0], x, grad,
                                       threads=args.threads, rounds=args.rounds)
    report(f"MultiheadAttention({args.embed_dim}, {args.heads}), x ({args.batch}, {args.length}, {args.embed_dim}), "
           f"float32, forward + backward, {args.threads} thread(s)", times, gap, target=4)


def explorer_node(repeat):
    node = shutil.which("node")
    if node is None:
        print("  attention explorer, browser JS: skipped (node is not installed)")
        return
    w = AttentionExplorer()
    states = []
    for dk, scaled, mask in itertools.product(DKS, (True, False), MASKS):
        states.append({"queries": w.query_vectors, "keys": w.key_vectors, "values": w.value_vectors, "dk": dk, "scaled": scaled,
                       "mask": mask, "padding": w.padding})
    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp) / "attention.mjs"
        module.write_text(w._esm, encoding="utf-8")
        done = subprocess.run([node, str(JS / "run_attnmath.mjs"), str(module)],
                              input=json.dumps({"states": states, "repeat": repeat}),
                              capture_output=True, text=True, check=True)
    ms = json.loads(done.stdout)["ms"]
    print(f"  attention explorer, browser JS (Node), {len(states)} settings: median {np.median(ms):.3f} ms, "
          f"slowest {max(ms):.3f} ms (target < 100 ms)")


def explorer_chromium(repeat):
    chromium = shutil.which("chromium")
    if chromium is None:
        print("  attention explorer, redraw in Chromium: skipped (chromium is not installed)")
        return
    from playwright.sync_api import sync_playwright

    w = AttentionExplorer()
    state = {k: v for k, v in w.get_state().items() if not k.startswith("_")}
    cases = [("query slider", 'input[data-control="query"]', "input", [0, 5]),
             ("d_k slider", 'input[data-control="dk"]', "input", [0, 6]),
             ("mask menu", 'select[data-control="mask"]', "change", list(MASKS))]
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = chrome.new_page(viewport={"width": 900, "height": 800})
        page.goto((JS / "harness.html").as_uri())
        page.evaluate("([state, esm, css]) => mount(state, esm, css)", [state, w._esm, w._css])
        for label, selector, event, values in cases:
            ms = page.evaluate(TIME_CONTROL, [selector, event, (values * repeat)[:repeat]])
            print(f"  attention explorer, redraw in Chromium after one change, {label}: {ms:6.2f} ms (target < 100 ms)")
        chrome.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed-dim", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    layer_vs_torch(args)
    print("Attention explorer latency, one control change:")
    explorer_node(max(args.repeat, 50))
    explorer_chromium(args.repeat)


if __name__ == "__main__":
    main()
