"""The notebooks as a reader runs them locally: JupyterLab from the set-up environment, in a browser.

A JupyterLab server (the one `make lab` starts) runs on a free port of 127.0.0.1 with throw-away
settings, workspace and runtime folders, and Debian Chromium opens a chapter through it. The test runs
every cell in the live kernel and checks that

- no cell ends in an error output;
- no rendered markdown cell shows raw MyST (roles such as {term}`...`, target labels `(sec-...)=`,
  directive fences): `jupyterlab-myst` renders the book's markup inside JupyterLab;
- the chapter's explorer renders, and moving one of its controls by keyboard changes the plot and
  reaches the Python object in the kernel (read back by executing code in the same kernel).

Both explorer chapters are covered (2: gradient flow, 5: optimiser trajectories).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from browserkit import SKIP_WITHOUT_CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "dlnotes-lab-test"

pytestmark = SKIP_WITHOUT_CHROMIUM

# Raw MyST as it would show if jupyterlab-myst did not render it: a role, a target label or a
# directive fence at the start of a line.
RAW_MYST = re.compile(r"\{(term|doc|ref|numref|eq|cite|cite:p|cite:t|math|abbr)\}`|^\([\w-]+\)=\s*$"
                      r"|^(```|:::)\{[\w-]+\}|^:class:", re.MULTILINE)

# (chapter, widget Python class, a control of its front end, the trait that control sets)
EXPLORERS = [
    ("02_basics.ipynb", "GradientExplorer", '.dln-grad input[data-control="depth"]', "depth"),
    ("05_training.ipynb", "OptimizerExplorer", '.dln-opt input[data-control="lr-sgd"]', "lrs"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on the chapters, with settings that would otherwise live in ~/.jupyter."""
    home = tmp_path_factory.mktemp("lab")
    work = home / "chapters"
    shutil.copytree(ROOT / "chapters", work, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"))
    settings = home / "settings"
    # Render every cell, not only those in view (JupyterLab 4 windows long notebooks by default),
    # so that the test sees every markdown cell rendered.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    # the kernel spec of this environment's Python; JUPYTER_DATA_DIR above hides any user-wide one
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(home / "data-prefix")],
                   check=True, capture_output=True, env=env)
    env["JUPYTER_PATH"] = str(home / "data-prefix" / "share" / "jupyter")
    port = free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.root_dir={work}", f"--IdentityProvider.token={TOKEN}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.allow_root=True"]
    log = open(home / "server.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urlopen(f"{base}/api/status?token={TOKEN}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (home / "server.log").read_text()[-3000:])
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()




RUN_ALL = """async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.sessionContext.ready;
  await app.commands.execute('notebook:run-all-cells');
}"""

IDLE_AND_DONE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  return cells.every(c => c.model.executionCount !== null && !c.promptNode.textContent.includes('*'));
}"""

ERROR_OUTPUTS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const bad = [];
  panel.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    for (const out of cell.model.outputs.toJSON()) {
      if (out.output_type === 'error') bad.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
    }
  });
  return bad;
}"""

MARKDOWN_TEXTS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(cell => cell.model.type === 'markdown')
  .map(cell => ({rendered: cell.rendered, text: cell.node.querySelector('.jp-MarkdownOutput, .jp-RenderedMarkdown, .myst') ? cell.node.innerText : ''}))"""

KERNEL_PRINT = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, store_history: false});
  let text = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') text += msg.content.text;
    if (msg.header.msg_type === 'error') text += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return text.trim();
}"""

TRAIT_IN_KERNEL = """import ipywidgets as _w, json as _j
_mine = [v for v in _w.widgets.widget._instances.values() if type(v).__name__ == {cls!r}]
print(_j.dumps(getattr(_mine[-1], {trait!r}), sort_keys=True))"""


@pytest.mark.parametrize("chapter, cls, control, trait", EXPLORERS)
def test_chapter_runs_and_reads_in_jupyterlab(lab, browser, chapter, cls, control, trait):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{lab}/lab/tree/{chapter}?token={TOKEN}&reset")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.content", timeout=60_000)
        page.evaluate(RUN_ALL)
        page.wait_for_function(IDLE_AND_DONE, timeout=90_000, polling=500)
        assert page.evaluate(ERROR_OUTPUTS) == []

        raw = []
        cells = page.evaluate(MARKDOWN_TEXTS)
        assert sum(len(cell["text"]) for cell in cells) > 10_000, "the markdown cells' text was not read"
        for i, cell in enumerate(cells):
            assert cell["rendered"], f"markdown cell {i} is not rendered"
            for match in RAW_MYST.finditer(cell["text"]):
                raw.append(f"markdown cell {i}: {match.group(0)!r}")
        assert raw == [], "raw MyST shows in JupyterLab"

        slider = page.locator(control).first
        slider.wait_for(state="visible", timeout=30_000)
        before = page.evaluate(KERNEL_PRINT, TRAIT_IN_KERNEL.format(cls=cls, trait=trait))
        # A click sets the range input where it lands (JupyterLab moves keyboard focus to the
        # notebook cell on a click in an output, so the mouse is the reliable way in here).
        slider.click()
        deadline = time.monotonic() + 15
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.3)
            after = page.evaluate(KERNEL_PRINT, TRAIT_IN_KERNEL.format(cls=cls, trait=trait))
        assert not after.startswith("ERROR"), after
        assert after != before, f"moving {control} did not reach {cls}.{trait} in the kernel"
    finally:
        context.close()
