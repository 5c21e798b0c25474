"""The GitHub workflows: valid (the workflow JSON schema), clean under zizmor's audits, and doing
what the README says (CI runs .ci/run on 3.11 and 3.13; Pages deploys the built book; a version tag
publishes dlnotes-book after `make dist`, and only when the tag names the package's version)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from _fresh_env import ROOT, run
from version import version

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def load(name):
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true
    return workflow


def steps(workflow, job):
    return workflow["jobs"][job]["steps"]


def test_the_three_workflows_exist():
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "pages.yml", "release.yml"]


def test_workflows_match_the_schema():
    result = run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOWS])
    assert "ok -- validation done" in result.stdout


def test_zizmor_finds_nothing():
    result = run([BIN / "zizmor", "--offline", "--no-progress", ROOT / ".github" / "workflows"])
    assert "No findings to report" in result.stdout + result.stderr


def test_ci_runs_ci_run_on_the_oldest_and_newest_python():
    ci = load("ci.yml")
    assert set(ci["on"]) == {"push", "pull_request"}
    job = ci["jobs"]["test"]
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.13"]
    (ci_step,) = [s for s in job["steps"] if s.get("run") == "bash .ci/run"]
    assert ci_step["env"]["PYTHON"] == "python${{ matrix.python }}"


def test_pages_deploys_the_built_book_from_main():
    pages = load("pages.yml")
    assert pages["on"]["push"]["branches"] == ["main"]
    build = steps(pages, "build")
    assert any(s.get("run") == "make book" for s in build)
    (upload,) = [s for s in build if "upload-pages-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "_build/html"
    assert any("deploy-pages" in s.get("uses", "") for s in steps(pages, "deploy"))
    assert pages["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_release_publishes_only_after_the_tag_check_and_make_dist():
    release = load("release.yml")
    assert release["on"]["push"]["tags"] == ["v*"]
    runs = [s.get("run") for s in steps(release, "dist")]
    assert runs.index('python tools/check-tag "$GITHUB_REF_NAME"') < runs.index("make dist")
    publish = release["jobs"]["publish"]
    assert publish["needs"] == "dist" and publish["permissions"] == {"id-token": "write"}
    assert "pypa/gh-action-pypi-publish@" in steps(release, "publish")[-1]["uses"]
    assert "password" not in str(publish)  # trusted publishing: no token


@pytest.mark.parametrize("tag, ok", [(f"v{version()}", True), ("v0.0.0", False), (version(), False)])
def test_check_tag(tag, ok):
    result = subprocess.run([sys.executable, ROOT / "tools" / "check-tag", tag], capture_output=True, text=True)
    assert (result.returncode == 0) == ok, result.stderr
