"""Bytes and requests of each page of a built book, loaded in headless Chromium with an empty cache.

    .venv/bin/python benchmarks/bench_pages.py                        # _build/html, after `make book`
    .venv/bin/python benchmarks/bench_pages.py SITE --top 3           # and each page's 3 largest files

Prints one Markdown table row per page (the table of "Page weight" in benchmarks/README.md), with
the largest files when asked. The measurement is the one `tests/book/test_page_weight.py` checks
against its budgets: every response body until the network is idle and MathJax has typeset.
"""

import argparse
import sys
import threading
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS / "book"), str(TESTS)]  # pagekit (the page list) and browserkit (Chromium)

from pagekit import CHROMIUM, CHROMIUM_FLAGS, PAGES, QuietHandler  # noqa: E402
from test_page_weight import MB, measure  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, nargs="?", default=TESTS.parent / "_build" / "html",
                        help="the built HTML folder (default: _build/html)")
    parser.add_argument("--top", type=int, default=0, help="also list each page's N largest files")
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        print(f"bench_pages: no built book in {args.site}; run `make book` first (skipped)")
        return
    pages = [name for name in PAGES if (args.site / name).exists()]

    from playwright.sync_api import sync_playwright

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(args.site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    print("| page | MB | requests | console warnings |\n| --- | ---: | ---: | ---: |")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
            for name in pages:
                sizes, console = measure(browser, base + name)
                print(f"| {name} | {sum(sizes.values()) / MB:.2f} | {len(sizes)} | {len(console)} |")
                for url, size in sorted(sizes.items(), key=lambda item: -item[1])[: args.top]:
                    print(f"|   {url.removeprefix(base).split('?')[0]} | {size / MB:.2f} | | |")
            browser.close()
    finally:
        httpd.shutdown()


if __name__ == "__main__":
    main()
