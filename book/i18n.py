"""The Chinese edition: Sphinx's own internationalisation over the same notebooks (issue 19).

The prose of every page is translated through gettext catalogues, one per document, in
``locales/zh_CN/LC_MESSAGES/`` (``chapters/01_introduction.po`` for ``chapters/01_introduction.ipynb``).
Code, outputs and figures come from the same notebooks and the same execution as the English
edition: the Chinese build reads the notebooks through the execution cache that the English build
has just filled, so nothing runs twice.

As a Sphinx extension (``local_extensions`` in ``_config.yml``) this module puts, on every page of
either edition, a link to the same page in the other edition, and on Chinese pages a font stack
for CJK text (``_static/zh.css``); it also translates the table-of-contents captions of
``_toc.yml``, which Sphinx's own translation pass does not reach. As a command it builds the Chinese edition and keeps the
catalogues in step with the English text::

    python book/i18n.py html      # the Chinese edition into _build/html/zh (after jupyter-book build)
    python book/i18n.py gettext   # extract the English messages, then update locales/ (sphinx-intl)

Both take the book's folder (default: the current one) and ``--path-output`` as ``jupyter-book
build`` does: everything goes below ``<path-output>/_build``.

Figures: a figure's caption (``mystnb.figure.caption`` in the cell's metadata) is a message like any
paragraph. Its alt text (``mystnb.image.alt``) is one too, in the chapter's catalogue with an
extracted comment (``#. alt text of figure ...``): myst-nb builds the image nodes while parsing, so
Sphinx's own translation pass replaces their ``alt`` in the Chinese edition, and the extraction
keeps the figures that myst-nb would otherwise leave out of the gettext build (see
``GETTEXT_OUTPUTS``).
"""

import argparse
import json
import subprocess
import sys
from os import path
from pathlib import Path

from babel.messages.pofile import read_po, write_po
from sphinx import addnodes
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.util.i18n import docname_to_domain

LANGUAGE = "zh_CN"     # the catalogues' language code (Sphinx's ``language``)
SUBDIR = "zh"          # the Chinese edition lives at <English site>/zh/
LOCALE_DIR = "locales"
TEMPLATES = Path(__file__).resolve().parent / "_templates"

# The Chinese edition's own settings, merged over the book's configuration.
ZH_CONFIG = {
    "language": LANGUAGE,
    "locale_dirs": [LOCALE_DIR],
    "gettext_compact": False,   # one catalogue per document
    "html_title": "dlnotes：可执行的深度学习",
    "nb_code_prompt_show": "显示代码单元格",
    "nb_code_prompt_hide": "隐藏代码单元格",
    "html_theme_options": {
        "extra_footer": (
            "<p>每一章都是一个在构建本书时执行的笔记本；最后一个单元格打印生成它的各软件版本。"
            "代码采用 MIT 许可证。</p>"
        ),
    },
}

# myst-nb keeps one output of each mime bundle, chosen by the builder's priority list, in a
# post-transform; it has no list for the gettext builder, so every output, figures included, would
# vanish before Sphinx extracts the messages. Images (as html ranks them) keep their alt text.
GETTEXT_OUTPUTS = [("gettext", mime, rank) for rank, mime in
                   enumerate(["image/svg+xml", "image/png", "image/gif", "image/jpeg"], 1)]

# What the link to the other edition says, in the language of the edition it leads to.
SWITCH = {
    "en": {"label": "中文", "lang": "zh-CN", "title": "阅读本页的中文版"},
    "zh": {"label": "English", "lang": "en", "title": "Read this page in English"},
}


def is_chinese(config):
    return (config.language or "").startswith("zh")


def other_edition(pagename, chinese):
    """Relative URL of page ``pagename`` in the other edition, seen from the page itself.

    >>> other_edition("chapters/01_introduction", chinese=False)
    '../zh/chapters/01_introduction.html'
    >>> other_edition("chapters/01_introduction", chinese=True)
    '../../chapters/01_introduction.html'
    >>> other_edition("search", chinese=False)
    'zh/search.html'
    """
    up = "../" * pagename.count("/")
    if chinese:
        return f"{up}../{pagename}.html"
    return f"{up}{SUBDIR}/{pagename}.html"


# ----------------------------------------------------------------------------- the Sphinx extension


def add_switch_to_header(app, config):
    """Show the language switch in the article header, beside the theme's buttons, on every page."""
    config.templates_path = [*config.templates_path, str(TEMPLATES)]
    options = dict(config.html_theme_options)
    end = options.get("article_header_end", ["article-header-buttons.html"])
    end = [end] if isinstance(end, str) else list(end)
    options["article_header_end"] = ["language-switch.html", *end]
    config.html_theme_options = options


def add_page_context(app, pagename, templatename, context, doctree):
    chinese = is_chinese(app.config)
    context["dlnotes_other_edition"] = {
        "url": other_edition(pagename, chinese),
        **SWITCH["zh" if chinese else "en"],
    }


class TranslateTocCaptions(SphinxTransform):
    """Translate the captions of the toctrees that sphinx-external-toc inserts from _toc.yml.

    Sphinx's own translation transform (priority 20) runs before sphinx-external-toc inserts the
    toctrees (priority 100), so their captions ("Chapters", "Reference") would stay English although
    `make gettext` extracts them into the root document's catalogue.
    """

    default_priority = 101

    def apply(self, **kwargs):
        if not is_chinese(self.config):
            return
        captions = list(self.document.findall(addnodes.toctree))
        if not any(node.get("caption") for node in captions):
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [path.join(self.env.srcdir, folder) for folder in self.config.locale_dirs]
        catalog, found = init_locale(dirs, self.config.language, domain)
        if not found:
            return
        for node in captions:
            if node.get("caption"):
                node["caption"] = node["rawcaption"] = catalog.gettext(node["caption"])


def add_chinese_styles(app):
    if is_chinese(app.config):
        app.add_css_file("zh.css")


def setup(app):
    app.add_transform(TranslateTocCaptions)
    app.connect("config-inited", add_switch_to_header)
    app.connect("builder-inited", add_chinese_styles)
    app.connect("html-page-context", add_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# ----------------------------------------------------------------------------- the commands


def build_paths(book, path_output):
    """The ``_build`` folder that ``jupyter-book build BOOK --path-output PATH_OUTPUT`` uses."""
    return Path(path_output or book).resolve() / "_build"


def run_sphinx(book, build, builder, outdir, overrides, strict):
    """Build ``book`` with the same configuration as ``jupyter-book build`` plus ``overrides``."""
    from jupyter_book.sphinx import build_sphinx

    book = Path(book).resolve()
    config = {
        "external_toc_path": (book / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        # the English build's execution cache: cached notebooks are read, not re-executed
        "nb_execution_cache_path": str(build / ".jupyter_cache"),
        **overrides,
    }
    result = build_sphinx(
        book, outdir, noconfig=True, path_config=str(book / "_config.yml"), confoverrides=config,
        doctreedir=build / f".doctrees-{builder}-{LANGUAGE}", builder=builder,
        warningiserror=strict, keep_going=strict,
    )
    return result if isinstance(result, int) else 1


def build_html(book, path_output):
    """Build the Chinese edition into ``_build/html/zh``; return the exit status."""
    build = build_paths(book, path_output)
    return run_sphinx(book, build, "html", build / "html" / SUBDIR, ZH_CONFIG, strict=True)


def figures(notebook):
    """The figures of a notebook: one dict per figure cell, with its ``name``, ``caption`` and ``alt``
    (each ``None`` when the cell's ``mystnb`` metadata does not set it)."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    found = []
    for cell in cells:
        options = cell.get("metadata", {}).get("mystnb", {})
        figure, image = options.get("figure", {}), options.get("image", {})
        if figure or image:
            found.append({"name": figure.get("name"), "caption": figure.get("caption"), "alt": image.get("alt")})
    return found


def mark_alt_texts(pot_dir, book):
    """Give every figure's alt text in the templates under ``pot_dir`` an extracted comment (``#.``)
    that names the figure, for translators (an alt text reads like a paragraph out of context)."""
    for pot in sorted(pot_dir.rglob("*.pot")):
        notebook = Path(book) / pot.relative_to(pot_dir).with_suffix(".ipynb")
        if not notebook.exists():
            continue
        names = {figure["alt"]: figure["name"] or "without a name" for figure in figures(notebook)}
        with open(pot, "rb") as f:
            template = read_po(f)
        for message in template:
            if message.id in names:
                message.auto_comments = [f"alt text of figure {names[message.id]}"]
        with open(pot, "wb") as f:
            write_po(f, template)


def extract_messages(book, path_output):
    """Write the English messages of every document to ``_build/gettext/**.pot``; return that folder.

    The messages include each figure's alt text, marked as such (``mark_alt_texts``).
    """
    build = build_paths(book, path_output)
    pot = build / "gettext"
    overrides = {"gettext_compact": False, "nb_execution_mode": "off",
                 "nb_mime_priority_overrides": GETTEXT_OUTPUTS}
    if run_sphinx(book, build, "gettext", pot, overrides, strict=False):
        raise RuntimeError(f"i18n: extracting the messages of {book} failed (see the log above)")
    mark_alt_texts(pot, book)
    return pot


def update_catalogues(book, path_output):
    """Extract the English messages and merge them into ``locales/``; return the exit status.

    sphinx-intl keeps every existing translation; a message whose English changed is marked fuzzy
    (the translation test then fails until a translator revises it), a new one is added empty.
    """
    pot = extract_messages(book, path_output)
    locales = Path(book).resolve() / LOCALE_DIR
    command = [Path(sys.executable).with_name("sphinx-intl"), "update", "-p", pot, "-d", locales,
               "-l", LANGUAGE]
    return subprocess.run([str(part) for part in command]).returncode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["html", "gettext"])
    parser.add_argument("book", nargs="?", default=".", help="the book's folder (default: .)")
    parser.add_argument("--path-output", help="where _build goes (default: the book's folder)")
    args = parser.parse_args(argv)
    action = build_html if args.command == "html" else update_catalogues
    return action(args.book, args.path_output)


if __name__ == "__main__":
    sys.exit(main())
