"""Each explorer's front end as the one ES-module string that anywidget loads.

The JavaScript sits in small files beside this one (``optmath.js`` the math, ``kit.js`` the
drawing helpers, one file per explorer). A static HTML page holds only the widget's saved state,
not extra files, so ``esm`` inlines every ``import { … } from "./name.js";`` line with that
file's source (each file once): the result needs nothing but a browser, and no build step.
"""

import re
from pathlib import Path

HERE = Path(__file__).parent
_IMPORT = re.compile(r'^import \{[^}]*\} from "\./([\w-]+\.js)";$', re.MULTILINE)


def esm(entry):
    """Source of the module ``entry`` with its local imports inlined, recursively."""
    inlined = set()

    def expand(name):
        def inline(match):
            dependency = match.group(1)
            if dependency in inlined:
                return ""
            inlined.add(dependency)
            return expand(dependency)

        return _IMPORT.sub(inline, (HERE / name).read_text(encoding="utf-8"))

    return expand(entry)


def css():
    """The stylesheet shared by the explorers."""
    return (HERE / "widgets.css").read_text(encoding="utf-8")
