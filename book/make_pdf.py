"""Print the built HTML book to one PDF: title page, contents, every page of the book, page numbers.

    python book/make_pdf.py [--html _build/html] [--out _build/html/dlnotes.pdf]

Each page listed in `_toc.yml` is opened from a local server in Debian's headless Chromium (the
browser the tests use; nothing is downloaded), left to typeset its mathematics and draw its explorers
from their stored state, and printed with the book's print style (`book/_static/print.css`: code
wrapped, figures kept with their captions, page chrome and hidden solutions left out). The pages are
then joined with pypdf behind a title page and a table of contents that gives each page's first page
number, and every page but the title page is numbered at the foot.
"""

import argparse
import datetime
import html
import io
import os
import shutil
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parents[1]
# Debian's chromium, as in the browser tests; DLNOTES_CHROMIUM names another Chromium-based browser
# (the Pages workflow uses the runner's Google Chrome)
CHROMIUM = os.environ.get("DLNOTES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
A4 = {"format": "A4", "margin": {"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"}}

SETTLED = """async () => {
  if (window.MathJax && window.MathJax.startup) { await window.MathJax.startup.promise; }
  const views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  const drawn = () => views.every(v => v.previousElementSibling && v.previousElementSibling.childElementCount > 0);
  for (let i = 0; i < 200 && !drawn(); i++) { await new Promise(r => setTimeout(r, 100)); }
  await Promise.all(Array.from(document.images).map(img => { img.loading = 'eager'; return img.decode().catch(() => null); }));
  return drawn();
}"""

# A display equation wider than the text column is typeset smaller to fit, instead of being clipped
# at the page edge (on screen the theme lets it scroll sideways; paper cannot scroll).
FIT_MATH = """() => {
  const extent = (m) => {
    let left = Infinity, right = -Infinity;
    for (const el of [m, ...m.querySelectorAll('*')]) {
      const r = el.getBoundingClientRect();
      if (r.width > 0) { left = Math.min(left, r.left); right = Math.max(right, r.right); }
    }
    return [left, right];
  };
  let fitted = 0;
  for (const m of document.querySelectorAll('mjx-container[display="true"]')) {
    // the equation shares its line with the equation number (a flex sibling) and must leave it room
    const room = m.parentElement.getBoundingClientRect();
    const others = [...m.parentElement.children].filter((el) => el !== m)
      .reduce((sum, el) => sum + el.getBoundingClientRect().width, 0);
    const available = room.width - others;
    for (let pass = 0; pass < 3; pass++) {
      const [left, right] = extent(m);
      if (left >= room.left - 0.5 && right - left <= available + 0.5) break;
      const size = parseFloat(getComputedStyle(m).fontSize);
      m.style.fontSize = `${(0.97 * size * available / (right - left)).toFixed(2)}px`;
      fitted += pass === 0;
    }
  }
  return fitted;
}"""

FRONT_STYLE = """
  body { font-family: "DejaVu Serif", Georgia, serif; color: #111; }
  .title { height: 240mm; display: flex; flex-direction: column; justify-content: center; text-align: center; }
  .title h1 { font-size: 30pt; margin: 0 0 8mm; }
  .title p { font-size: 12pt; margin: 2mm 0; }
  .contents { break-before: page; }
  .contents h2 { font-size: 18pt; }
  .contents ol { list-style: none; padding: 0; font-size: 12pt; }
  .contents li { display: flex; margin: 3mm 0; }
  .contents li .dots { flex: 1; border-bottom: 1px dotted #777; margin: 0 2mm 1.2mm; }
"""

NUMBER_STYLE = """
  @page { size: A4; margin: 0; }
  body { margin: 0; font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #333; }
  .p { height: 297mm; position: relative; break-after: page; }
  .p span { position: absolute; bottom: 8mm; width: 100%; text-align: center; }
"""


def toc_documents():
    """Document names of `_toc.yml` in reading order (the landing page first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]
    for part in toc.get("parts", []):
        docs += [entry["file"] for entry in part.get("chapters", [])]
    return docs


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    """Serve `directory` on 127.0.0.1; return (base URL, shutdown function)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(directory)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def stop():
        httpd.shutdown()
        thread.join()

    return f"http://127.0.0.1:{httpd.server_address[1]}/", stop


def print_pages(browser, base, docs):
    """[(title, PDF bytes)] of each document, printed as the browser prints it."""
    out = []
    # the viewport is the printable width of A4 (210 mm less 2 × 14 mm at 96 px per inch), so that what
    # FIT_MATH measures is the layout the PDF gets
    context = browser.new_context(viewport={"width": 688, "height": 1000}, color_scheme="light")
    try:
        for doc in docs:
            page = context.new_page()
            page.goto(f"{base}{doc}.html", wait_until="networkidle")
            if not page.evaluate(SETTLED):
                raise RuntimeError(f"{doc}: an embedded widget did not render")
            page.emulate_media(media="print")
            page.evaluate(FIT_MATH)
            title = page.title().split(" — ")[0].strip()   # "1. Introduction ... — <book title>"
            out.append((title, page.pdf(print_background=True, **A4)))
            page.close()
    finally:
        context.close()
    return out


def render(browser, body, style, **pdf_options):
    """PDF bytes of a small HTML document."""
    page = browser.new_page()
    try:
        page.set_content(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><style>{style}</style>"
                         f"</head><body>{body}</body></html>")
        return page.pdf(print_background=True, **pdf_options)
    finally:
        page.close()


def front_matter(browser, config, entries, version):
    """Title page and contents; `entries` = [(title, first page number)]."""
    items = "".join(f"<li><span>{html.escape(t)}</span><span class='dots'></span><span>{n}</span></li>"
                    for t, n in entries)
    body = (
        f"<section class='title'><h1>{html.escape(config['title'])}</h1>"
        f"<p>{html.escape(config.get('author', ''))}</p>"
        f"<p>dlnotes {html.escape(version)} · printed {datetime.date.today():%Y-%m-%d}</p>"
        "<p>The explorers appear in their stored state; exercise solutions are hidden in the online book "
        "and the notebooks, where a click shows them.</p></section>"
        f"<section class='contents'><h2>Contents</h2><ol>{items}</ol></section>"
    )
    return render(browser, body, FRONT_STYLE, **A4)


def page_numbers(browser, first, count):
    """A PDF of `count` blank A4 pages numbered first, first+1, ... at the foot."""
    body = "".join(f"<div class='p'><span>{n}</span></div>" for n in range(first, first + count))
    return render(browser, body, NUMBER_STYLE, format="A4")


def build_pdf(html_dir, out_path, browser=None):
    """Print the book in `html_dir` to `out_path`; return its number of pages. `browser` is a running
    Playwright Chromium to use (the tests share theirs); without one, Debian's Chromium is launched."""
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
            try:
                return build_pdf(html_dir, out_path, chromium)
            finally:
                chromium.close()

    from dlnotes import __version__

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    base, stop = serve(html_dir)
    try:
        pages = print_pages(browser, base, toc_documents())
        counts = [len(PdfReader(io.BytesIO(pdf)).pages) for _, pdf in pages]
        # the front matter's length fixes the first page numbers; two passes settle it
        front_len = 2
        for _ in range(2):
            starts, n = [], front_len + 1
            for count in counts:
                starts.append(n)
                n += count
            front = front_matter(browser, config, [(t, s) for (t, _), s in zip(pages, starts)], __version__)
            front_len = len(PdfReader(io.BytesIO(front)).pages)
        total = front_len + sum(counts)
        numbers = PdfReader(io.BytesIO(page_numbers(browser, 2, total - 1)))
    finally:
        stop()

    writer = PdfWriter()
    for pdf in [front] + [pdf for _, pdf in pages]:
        writer.append(PdfReader(io.BytesIO(pdf)))
    for index, page in enumerate(writer.pages[1:]):
        page.merge_page(numbers.pages[index])
    writer.add_metadata({"/Title": config["title"], "/Author": config.get("author", "")})
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "wb") as f:
        writer.write(f)
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="the built HTML book")
    parser.add_argument("--out", type=Path, default=None, help="the PDF (default: <html>/dlnotes.pdf)")
    args = parser.parse_args(argv)
    if not (args.html / "chapters" / "index.html").exists():
        sys.exit(f"make_pdf: no built book in {args.html}; run `make book` first")
    out = args.out or args.html / "dlnotes.pdf"
    total = build_pdf(args.html, out)
    print(f"==> {out}: {total} pages, {out.stat().st_size / 1e6:.1f} MB")
    if args.out is None and (args.html / "zh").is_dir():
        # the Chinese landing page links to the same (English) PDF beside its own pages
        shutil.copy2(out, args.html / "zh" / "dlnotes.pdf")


if __name__ == "__main__":
    main()
