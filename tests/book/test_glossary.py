"""The glossary data (book/glossary.tsv) and the page generated from it (chapters/glossary.md)."""

import csv
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "glossary.tsv"

spec = importlib.util.spec_from_file_location("make_glossary", ROOT / "book" / "make_glossary.py")
make_glossary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_glossary)


@pytest.fixture(scope="module")
def rows():
    return make_glossary.read_entries()


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/glossary.tsv is not beside the repository")
def test_terms_match_shared_glossary(rows):
    with open(SHARED, encoding="utf-8", newline="") as f:
        shared = [(row["english"], row["chinese"]) for row in csv.DictReader(f, delimiter="\t")]
    assert [(row["english"], row["chinese"]) for row in rows] == shared


def test_definitions_are_one_line(rows):
    for row in rows:
        definition = row["definition"]
        assert definition == definition.strip() and definition.endswith("."), row["english"]
        assert 40 <= len(definition) <= 220, f"{row['english']}: a definition is one line"


def test_page_is_up_to_date(rows):
    page = (ROOT / "chapters" / "glossary.md").read_text(encoding="utf-8")
    assert page == make_glossary.render(rows), "run: python book/make_glossary.py"


def test_abbreviations_are_second_names():
    assert make_glossary.names("rectified linear unit (ReLU)") == ["rectified linear unit (ReLU)", "ReLU"]
    assert make_glossary.names("backpropagation") == ["backpropagation"]


def test_duplicate_names_are_rejected(rows):
    clash = [*rows, {"english": "tanh", "chinese": "双曲正切", "definition": "A duplicate entry."}]
    with pytest.raises(ValueError, match="glossary name 'tanh' used by 'hyperbolic tangent \\(tanh\\)' and 'tanh'"):
        make_glossary.render(clash)


def test_malformed_rows_are_rejected(tmp_path):
    bad = tmp_path / "glossary.tsv"
    bad.write_text("english\tchinese\tdefinition\nneuron\t神经元\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"glossary.tsv:2: every row needs exactly 3 non-empty columns"):
        make_glossary.read_entries(bad)
    bad.write_text("english\tchinese\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"header must be \['english', 'chinese', 'definition'\]"):
        make_glossary.read_entries(bad)
