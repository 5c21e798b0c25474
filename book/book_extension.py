"""The book's local Sphinx extension (loaded through `sphinx.local_extensions` in _config.yml).

1. Serve anywidget's front-end module from the built site. The ipywidgets html-manager asks
   require.js for the module named in each widget's state (``anywidget``) and would fetch it from a
   CDN. This copies the AMD build that the installed ``anywidget`` package ships
   (``anywidget/nbextension/index.js``) to ``_static/vendor/anywidget/index.js``, where
   ``_static/widgets-offline.js`` points require.js, so the copy always matches the anywidget
   version that produced the widget state and pages render offline.

2. Drop a duplicated inline script. sphinx-thebe adds its configuration with
   ``app.add_js_file(None, body=...)`` after the HTML builder started; Sphinx 7.4 then lists the
   script twice (once under the name ``None``, once under ``''``), and the second copy throws
   "Identifier 'THEBE_JS_URL' has already been declared" in the browser.

3. Accessibility fixes for markup that upstream packages write (issue 17); each keeps the upstream
   HTML and changes one attribute:
   - myst-nb (1.4, ``HideCodeCellNode``) gives each "Show code cell source" ``<summary>`` the
     ``aria-label`` "Toggle hidden content", which replaces the visible text as its accessible
     name (axe: label-content-name-mismatch). Without it the name is the visible text.
   - docutils (0.21, ``HTMLTranslator.visit_citation``) puts ``role="doc-biblioentry"`` on each
     bibliography entry inside ``role="list"``: the role is deprecated in DPUB-ARIA 1.1 and a list
     must hold list items (axe: aria-required-children, critical). Entries become list items.
"""

import shutil
from pathlib import Path

from docutils import nodes
from docutils.writers._html_base import HTMLTranslator


def copy_anywidget_frontend(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import anywidget

    source = Path(anywidget.__file__).parent / "nbextension" / "index.js"
    target = Path(app.outdir) / "_static" / "vendor" / "anywidget"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target / "index.js")


def drop_duplicate_inline_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _rewrite_recent(translator, old, new, last=5):
    """Replace `old` by `new` in the last few strings the translator appended. Fails when absent: a
    change of the upstream markup should stop the build, not slip through unfixed."""
    for i in range(len(translator.body) - 1, max(len(translator.body) - last, 0) - 1, -1):
        if old in translator.body[i]:
            translator.body[i] = translator.body[i].replace(old, new)
            return
    raise RuntimeError(f"book_extension: expected {old!r} in the HTML just written")


def visit_citation(translator, node):
    HTMLTranslator.visit_citation(translator, node)
    _rewrite_recent(translator, 'role="doc-biblioentry"', 'role="listitem"')


def use_accessible_markup(app):
    """Register the visitors of item 3 once every extension has registered its own."""
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

    def visit_hidden_cell(translator, node):
        visit_HideCellInput(translator, node)
        _rewrite_recent(translator, '<summary aria-label="Toggle hidden content">', "<summary>")

    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_HideCellInput))
    app.add_node(nodes.citation, override=True, html=(visit_citation, HTMLTranslator.depart_citation))


def setup(app):
    app.connect("build-finished", copy_anywidget_frontend)
    app.connect("html-page-context", drop_duplicate_inline_scripts)
    app.connect("builder-inited", use_accessible_markup)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
