"""Fresh virtual environments outside the source tree, for the tests of a reader's install paths.

A test builds the distribution with `build`, makes a new environment from the interpreter the test
suite runs on, installs into it with pip as a reader would (pip's own configuration decides where
packages come from; on Linux PyTorch's CPU index is added when it answers, as `make venv` does),
and runs code there with the source tree out of reach (another working directory, no PYTHONPATH).
"""

import functools
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))  # the tests import tools/setup_cell.py


def run(args, **kwargs):
    """Run a command, failing with its output when it fails."""
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {result.returncode}\n"
                             f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}")
    return result


def clean_env(**extra):
    """os.environ without what would let the source tree leak in, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def requirement_pins(path=ROOT / "requirements.txt"):
    """{normalised name: 'name==version'} for every pinned line of a requirements file."""
    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line.strip())
        if match:
            pins[normalise(match.group(1))] = f"{match.group(1)}=={match.group(2)}"
    return pins


def normalise(name):
    """A distribution name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_closure(requirements):
    """Normalised names of the distributions ``requirements`` (PEP 508 strings) bring in, with
    what those require in turn (without their extras), as far as this environment knows them."""
    names = [normalise(re.match(r"[A-Za-z0-9._-]+", r).group(0)) for r in requirements]
    closure, frontier = set(names), list(names)
    while frontier:
        try:
            needs = metadata.requires(frontier.pop()) or []
        except metadata.PackageNotFoundError:
            continue
        for need in needs:
            name = normalise(re.match(r"[A-Za-z0-9._-]+", need).group(0))
            if "extra ==" not in need and name not in closure:
                closure.add(name)
                frontier.append(name)
    return closure


@functools.cache
def _providers():
    """{top-level module: [distribution, ...]} for this environment (slow to compute: once)."""
    return metadata.packages_distributions()


def undeclared(modules, requirements):
    """{top-level module: its providers} for the third-party ``modules`` (dotted names; the
    standard library and dlnotes left out) that no distribution ``requirements`` bring in provides."""
    closure = requirement_closure(requirements)
    providers = _providers()
    tops = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names) - {"dlnotes"}
    return {top: providers.get(top) for top in sorted(tops)
            if not {normalise(d) for d in providers.get(top, [])} & closure}


def build_wheel(outdir):
    """Build the wheel of this repository into ``outdir``; return its path."""
    run([sys.executable, "-m", "build", "--wheel", "--outdir", outdir, ROOT])
    (wheel,) = Path(outdir).glob("*.whl")
    return wheel


def torch_index_args(python):
    """The pip option tools/torch-index prints for interpreter ``python`` (a list, maybe empty)."""
    return run(["sh", ROOT / "tools" / "torch-index", python]).stdout.split()


def make_venv(path, base=None):
    """A new virtual environment at ``path`` made by interpreter ``base`` (by default the one
    under this test run's environment); returns its python."""
    run([base or getattr(sys, "_base_executable", sys.executable), "-m", "venv", path])
    python = Path(path) / ("Scripts" if os.name == "nt" else "bin") / "python"
    return python


def pip_install(python, *args, env=None):
    """``python -m pip install --quiet *args`` (with PyTorch's CPU index where it answers)."""
    return run([python, "-m", "pip", "install", "--quiet", *torch_index_args(python), *args],
               env=env or clean_env())
