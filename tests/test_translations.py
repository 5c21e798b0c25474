"""The Chinese edition's catalogues (locales/zh_CN/LC_MESSAGES, one per document; see book/i18n.py).

A catalogue is complete when every message is translated and none is fuzzy (sphinx-intl marks a
message fuzzy when its English changes). A translation keeps the machinery of its source message:
the same MyST roles with the same targets (a {term} may show its Chinese name: {term}`学习率 <learning
rate>`), the same math spans, inline code and link targets, and every number. A glossary term that
the English links shows its Chinese name from book/glossary.tsv.
"""

import importlib.util
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"
CATALOGUES = sorted(MESSAGES.rglob("*.po"))


def load_module(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_glossary = load_module("make_glossary")
i18n = load_module("i18n")

# ----------------------------------------------------------------------------- reading messages

ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\s][^$]*?\$", re.S)
CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)|<(https?://[^>\s]+)>|(https?://[^\s)>]+)")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
TITLED = re.compile(r"(?s)(.*?)\s*<([^<>]+)>")
DISPLAY = re.compile(r"\n.*\n", re.S)


def role_target(text):
    """(title, target) of a role's content: `title <target>` or the target alone."""
    match = TITLED.fullmatch(text)
    return (match.group(1), match.group(2)) if match else (text, text)


def markup(text):
    """The parts of a message that a translation must keep, each kind a Counter."""
    if DISPLAY.fullmatch(text):  # a $$ ... $$ block: its message is the LaTeX itself, kept verbatim
        return {"math": Counter([text.strip()])}
    roles = Counter((role, role_target(content)[1].lower() if role == "term" else role_target(content)[1])
                    for role, content in ROLE.findall(text))
    text = ROLE.sub(" ", text)
    maths = Counter(MATH.findall(text))
    text = MATH.sub(" ", text)
    links = Counter("".join(parts) for parts in LINK.findall(text))
    text = LINK.sub(" ", text)
    code = Counter(CODE.findall(text))
    text = CODE.sub(" ", text)
    numbers = Counter(NUMBER.findall(text))
    return {"roles": roles, "math": maths, "links": links, "code": code, "numbers": numbers}


def catalogue(path):
    with open(path, "rb") as f:
        return read_po(f, locale="zh_CN")


def translated(path):
    """The (English, Chinese) pairs of the translated messages of the catalogue at ``path``."""
    return [(m.id, m.string) for m in catalogue(path) if m.id and m.string]


def glossary_names():
    """Every glossary name (lower case) -> its Chinese term."""
    return {name.lower(): row["chinese"]
            for row in make_glossary.read_entries() for name in make_glossary.names(row["english"])}


def name_of(path):
    return path.relative_to(MESSAGES).as_posix()


def missing_markup(source, translation):
    """What ``translation`` drops or alters of ``source``'s markup: {kind: Counter of missing items}."""
    want, have = markup(source), markup(translation)
    return {kind: want[kind] - have.get(kind, Counter()) for kind in want if want[kind] - have.get(kind, Counter())}


# ----------------------------------------------------------------------------- the checks themselves


def test_markup_checker_catches_changes():
    source = "Use {term}`SGD` with $\\eta = 0.1$ for 20 steps; see {cite}`robbins1951` and `opt.step()`."
    good = "用 {term}`随机梯度下降 <SGD>` 以 $\\eta = 0.1$ 走 20 步；见 {cite}`robbins1951` 与 `opt.step()`。"
    assert missing_markup(source, good) == {}
    assert missing_markup(source, good.replace("20", "30")) == {"numbers": Counter({"20": 1})}
    assert missing_markup(source, good.replace("0.1", "0.2")) == {"math": Counter({"$\\eta = 0.1$": 1})}
    assert missing_markup(source, good.replace("<SGD>", "<momentum>")) == {"roles": Counter({("term", "sgd"): 1})}
    assert missing_markup(source, good.replace("{cite}`robbins1951`", "罗宾斯")) == {
        "roles": Counter({("cite", "robbins1951"): 1})}
    assert missing_markup(source, good.replace("`opt.step()`", "opt.step()")) == {
        "code": Counter({"opt.step()": 1})}
    block = "\n\\theta_{t+1} = \\theta_t - \\eta\\,g_t\n"
    assert missing_markup(block, block) == {}
    assert missing_markup(block, block.replace("-", "+")) == {"math": Counter({block.strip(): 1})}


def test_glossary_checker_reads_titles():
    names = glossary_names()
    assert names["sgd"] == "随机梯度下降" and names["learning rate"] == "学习率"
    assert role_target("随机梯度下降（SGD） <SGD>") == ("随机梯度下降（SGD）", "SGD")
    assert role_target("learning rate") == ("learning rate", "learning rate")


def test_catalogues_exist_one_per_document():
    assert {name_of(path) for path in CATALOGUES} >= {
        "chapters/index.po", "chapters/glossary.po", "chapters/bibliography.po",
        *(f"chapters/0{n}_{name}.po" for n, name in enumerate(
            ["introduction", "basics", "frameworks", "theory", "training", "models", "deployment"], 1)),
    }


# ----------------------------------------------------------------------------- every catalogue


@pytest.mark.parametrize("path", CATALOGUES, ids=name_of)
def test_catalogue_is_complete(path):
    """No untranslated and no fuzzy message: each English paragraph has a current translation."""
    messages = [m for m in catalogue(path) if m.id]
    assert messages, f"{name_of(path)} holds no message"
    untranslated = [m.id[:70] for m in messages if not m.string]
    fuzzy = [m.id[:70] for m in messages if m.fuzzy]
    assert (len(untranslated), len(fuzzy)) == (0, 0), (
        f"{name_of(path)}: {len(untranslated)} of {len(messages)} untranslated, {len(fuzzy)} fuzzy; "
        f"first: {(untranslated + fuzzy)[:3]}")


@pytest.mark.parametrize("path", CATALOGUES, ids=name_of)
def test_translations_keep_roles_math_code_and_numbers(path):
    broken = {source[:60]: missing for source, target in translated(path)
              if (missing := missing_markup(source, target))}
    assert broken == {}


@pytest.mark.parametrize("path", CATALOGUES, ids=name_of)
def test_linked_terms_show_their_chinese_name(path):
    names = glossary_names()
    wrong = []
    for _, target in translated(path):
        for role, content in ROLE.findall(target):
            title, term = role_target(content)
            chinese = names.get(term.lower())
            if role == "term" and chinese and chinese.replace(" ", "") not in title.replace(" ", ""):
                wrong.append(f"{{term}}`{content}` should show {chinese}")
    assert wrong == []


def test_glossary_page_leads_with_the_chinese_term():
    """The Chinese glossary names each entry by its Chinese term; the English follows in bold."""
    strings = {m.id: m.string for m in catalogue(MESSAGES / "chapters" / "glossary.po") if m.id}
    for row in make_glossary.read_entries():
        english, *abbreviation = make_glossary.names(row["english"])
        if strings.get(english):
            assert strings[english] == row["chinese"]
            for name in abbreviation:
                assert strings[name] == name, "an abbreviation stays the entry's second name"
            definition = strings[f"**{row['chinese']}** — {row['definition']}"]
            assert definition.startswith(f"**{english}** — "), definition


CHAPTERS = sorted((ROOT / "chapters").glob("0*.ipynb"))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_its_caption_and_alt_text_translated(notebook):
    """A figure's caption and its alt text (what a screen reader reads) are messages of the
    chapter's catalogue, translated; each alt text is marked for the translator as one."""
    figures = i18n.figures(notebook)
    assert figures and all(f["alt"] and f["caption"] for f in figures), "every figure has both"
    messages = {m.id: m for m in catalogue(MESSAGES / "chapters" / f"{notebook.stem}.po") if m.id}
    untranslated = [text[:60] for f in figures for text in (f["alt"], f["caption"])
                    if text not in messages or not messages[text].string]
    assert untranslated == []
    unmarked = [f["name"] for f in figures
                if not any(c.startswith("alt text of figure") for c in messages[f["alt"]].auto_comments)]
    assert unmarked == []


def test_catalogues_follow_the_english_text(tmp_path):
    """Every message of the English sources is in its catalogue: run `make gettext` after editing."""
    pot_dir = i18n.extract_messages(ROOT, tmp_path)
    stale = {}
    for pot in sorted(pot_dir.rglob("*.pot")):
        name = pot.relative_to(pot_dir).with_suffix(".po").as_posix()
        with open(pot, "rb") as f:
            english = {m.id for m in read_po(f) if m.id}
        po = MESSAGES / name
        known = {m.id for m in catalogue(po) if m.id} if po.exists() else set()
        if english - known:
            stale[name] = len(english - known)
    assert stale == {}, f"messages missing from the catalogues (run `make gettext`): {stale}"


def test_other_edition_links():
    assert i18n.other_edition("chapters/01_introduction", chinese=False) == "../zh/chapters/01_introduction.html"
    assert i18n.other_edition("chapters/01_introduction", chinese=True) == "../../chapters/01_introduction.html"
    assert i18n.other_edition("search", chinese=False) == "zh/search.html"
    assert i18n.other_edition("search", chinese=True) == "../search.html"


def test_make_gettext_marks_exactly_the_changed_paragraph(tmp_path):
    """The workflow of CONTRIBUTING.md on the landing page alone: change one English paragraph,
    refresh the catalogues, and only that paragraph's translation is out of date (fuzzy)."""
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    for name in ["_config.yml", "book", "locales", "chapters/index.md", "chapters/references.bib"]:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, book / name)
    (book / "_toc.yml").write_text("format: jb-book\nroot: chapters/index\n", encoding="utf-8")
    page = book / "chapters" / "index.md"
    before = {m.id: m.string for m in catalogue(MESSAGES / "chapters" / "index.po") if m.id}
    old = next(text for text in before if text.startswith("Nothing is downloaded while the notebooks run"))
    new = old.replace("Nothing is downloaded", "Nothing at all is downloaded")
    page.write_text(page.read_text(encoding="utf-8").replace(
        "Nothing is downloaded", "Nothing at all is downloaded"), encoding="utf-8")

    assert i18n.update_catalogues(book, tmp_path) == 0
    after = {m.id: m for m in catalogue(book / i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "chapters" / "index.po")
             if m.id}
    assert old not in after and after[new].fuzzy and after[new].string == before[old]
    assert [text for text, m in after.items() if not m.string or m.fuzzy] == [new]
    assert all(after[text].string == before[text] for text in after if text != new)
