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
"""

import shutil
from pathlib import Path


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


def setup(app):
    app.connect("build-finished", copy_anywidget_frontend)
    app.connect("html-page-context", drop_duplicate_inline_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
