"""Binder in step with requirements.txt.

repo2docker reads only binder/ when it exists, so binder/requirements.txt repeats the runtime part
of requirements.txt. The fast tests fail when a pin differs or a runtime package is missing; the
fresh_env test (`make binder-check`) builds an environment from binder/ and runs nbval on every
chapter in it."""

import re
import tomllib

import nbformat
import pytest

from _fresh_env import (ROOT, clean_env, make_venv, pip_install, requirement_closure,
                        requirement_pins, run, torch_index_args, undeclared)
import setup_cell

BINDER = ROOT / "binder" / "requirements.txt"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
TORCH_CPU_INDEX = re.search(r"^TORCH_CPU_INDEX \?= (\S+)$", MAKEFILE, re.MULTILINE).group(1)


def binder_lines():
    return [line.strip() for line in BINDER.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def runtime_packages():
    """Normalised names of what the chapters need at run time: dlnotes-book's dependencies with
    every extra, what those bring in, and the kernel."""
    extras = sum(PROJECT["optional-dependencies"].values(), [])
    return requirement_closure(PROJECT["dependencies"] + extras + ["ipykernel"])


def test_binder_lines_are_pins_the_cpu_index_or_the_repository():
    for line in binder_lines():
        assert (re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+$", line)
                or line == f"--extra-index-url {TORCH_CPU_INDEX}" or line == "."), line
    assert binder_lines()[-1] == ".", "the last line installs dlnotes itself"


def test_every_binder_pin_equals_requirements_txt():
    main, binder = requirement_pins(), requirement_pins(BINDER)
    differ = {name: (pin, main.get(name)) for name, pin in binder.items() if main.get(name) != pin}
    assert not differ, f"binder/requirements.txt vs requirements.txt: {differ}"


def test_every_pinned_runtime_package_is_in_binder():
    main, binder, runtime = requirement_pins(), requirement_pins(BINDER), runtime_packages()
    missing = sorted(pin for name, pin in main.items() if name in runtime and name not in binder)
    assert not missing, f"runtime packages pinned in requirements.txt but not in binder/: {missing}"


def test_binder_provides_every_chapters_imports():
    requirements = list(requirement_pins(BINDER).values()) + PROJECT["dependencies"]
    for path in setup_cell.CHAPTERS:
        modules = setup_cell.imported_modules(setup_cell.code_sources(nbformat.read(path, as_version=4)))
        assert not undeclared(modules, requirements), path.name


def test_runtime_is_a_supported_python():
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    assert runtime in {"python-3.11", "python-3.12", "python-3.13"}, runtime


@pytest.mark.fresh_env
def test_every_chapter_passes_nbval_in_binders_environment(tmp_path):
    """binder/requirements.txt as repo2docker would install it (the repository for its last line);
    where PyTorch's CPU index cannot be reached, its line is dropped and pip takes the wheels it
    finds elsewhere (tools/torch-index). Then strict nbval on every chapter, as `make test` runs it."""
    version = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip().removeprefix("python-")
    base = run(["sh", ROOT / "tools" / "find-python", f"python{version}"]).stdout.strip()
    python = make_venv(tmp_path / "binder", base=base)
    lines = [str(ROOT) if line == "." else line for line in binder_lines()
             if not line.startswith("--extra-index-url") or torch_index_args(python)]
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pins = requirement_pins()
    pip_install(python, "-r", requirements, pins["pytest"], pins["nbval"])
    env = clean_env(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = run([python, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
                  "--nbval-sanitize-with", "nbval_sanitize.cfg", "--nbval-cell-timeout", "600",
                  *sorted(str(p.relative_to(ROOT)) for p in setup_cell.CHAPTERS)], cwd=ROOT, env=env)
    print(result.stdout[-2000:])
    assert re.search(r"\b\d+ passed\b", result.stdout) and " failed" not in result.stdout
