"""Open every page of the built HTML book in headless Chromium and check what a reader would see.

    python scripts/check_book.py [--html _build/html] [--screenshots DIR]
    python scripts/check_book.py --screenshot "notebooks/01_autoencoder#the-code-space-a-map-of-the-digits" book/images/screenshot-autoencoder.png

For every page listed in the table of contents (plus the search page) it fails when:
- the page logs a console error or throws;
- the page asks for anything not served by the book itself (every request leaving 127.0.0.1 is
  blocked and reported), or for a file of the book that is not there (a response of 400 or more);
- a page with math shows raw TeX ($$, \\begin{...}), has no MathJax-rendered equation, or has an
  equation MathJax could not parse ("Math input error");
- a page with saved widgets shows no rendered widget, or its sliders do not switch the frames they are
  linked to (the slider is moved with the keyboard, as a reader would, and the visible image must change).
Uses Debian's Chromium (/usr/bin/chromium) through Playwright; no browser is downloaded.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import yaml
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def toc_pages() -> list[str]:
    """Page names (without suffix) listed in _toc.yml, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            pages.append(chapter["file"])
            pages.extend(section["file"] for section in chapter.get("sections", []))
    return [str(Path(p).with_suffix("")) for p in pages]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the report below says what matters
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# JavaScript run in the page: the visible image of every widget Stack, as a list of strings.
VISIBLE_FRAMES = """() => Array.from(document.querySelectorAll('.widget-stack, .jupyter-widgets.widget-container'))
  .map(s => Array.from(s.querySelectorAll(':scope > *')).filter(c => c.offsetParent !== null)
  .map(c => (c.querySelector('img') || c).outerHTML.length + ':' + ((c.querySelector('img') || {}).src || '').slice(-40)).join('|'))"""


def check_page(page, url: str) -> list[str]:
    """Load one page and return the problems found on it."""
    problems: list[str] = []
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    html = page.content()
    has_math = 'class="math' in html or "\\(" in html
    if has_math:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
        page.evaluate("() => MathJax.startup.promise")
        rendered = page.locator("mjx-container").count()
        if rendered == 0:
            problems.append("the page has math but MathJax rendered none of it")
        errors = page.locator("mjx-merror")
        if errors.count():
            tex = errors.first.evaluate("e => e.getAttribute('data-mjx-error') || e.textContent")
            problems.append(f"MathJax could not parse {errors.count()} equation(s), the first: {tex!r}")
        # the prose as a reader sees it; code cells legitimately contain TeX strings (plot labels)
        text = page.evaluate("""() => {
            const root = (document.querySelector("article") || document.body).cloneNode(true);
            root.querySelectorAll("pre, .cell_input, .highlight").forEach(e => e.remove());
            document.body.appendChild(root);
            const text = root.innerText;
            root.remove();
            return text;
        }""")
        for raw in ("$$", "\\begin{", "\\frac", "\\mathcal"):
            if raw in text:
                problems.append(f"raw TeX {raw!r} is visible in the text")
    if "application/vnd.jupyter.widget-view+json" in html:
        try:
            page.wait_for_selector(".widget-slider, .jupyter-widgets", timeout=20_000)
        except Exception:
            problems.append("the page has saved widgets but none was rendered")
        else:
            problems += check_sliders(page)
    return problems


def check_sliders(page) -> list[str]:
    """Move every slider one step with the keyboard; the frames linked to it must change."""
    problems = []
    handles = page.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle")
    if handles.count() == 0:
        return ["the page's widgets have no slider handle"]
    for i in range(handles.count()):
        before = page.evaluate(VISIBLE_FRAMES)
        handles.nth(i).focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
        after = page.evaluate(VISIBLE_FRAMES)
        if before == after:
            problems.append(f"moving slider {i} did not change the frame it is linked to")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--screenshots", type=Path, help="save a full-page PNG of every page into this folder")
    parser.add_argument("--screenshot", nargs=2, metavar=("PAGE", "PNG"),
                        help="only save one screen (1280x900) of PAGE, e.g. notebooks/01_autoencoder#walking-between-two-digits")
    args = parser.parse_args()
    if not (args.html / "index.html").is_file():
        print(f"{args.html} holds no built book (no index.html); build it first: bash scripts/build_book.sh")
        return 2
    server, base = serve(args.html)
    pages = toc_pages() + ["search"]
    failures = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        outside: list[str] = []

        def route(request_route):
            if urlparse(request_route.request.url).hostname in ("127.0.0.1", "localhost"):
                return request_route.continue_()
            outside.append(request_route.request.url)
            return request_route.abort()

        context.route("**/*", route)
        if args.screenshot:
            name, png = args.screenshot
            page_name, _, anchor = name.partition("#")
            page = context.new_page()
            page.goto(f"{base}/{page_name}.html" + (f"#{anchor}" if anchor else ""), wait_until="networkidle")
            page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.wait_for_timeout(500)
            Path(png).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=png)
            print(f"wrote {png}")
            return 0
        for name in pages:
            t0 = time.perf_counter()
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda msg, errors=errors: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
            page.on("pageerror", lambda exc, errors=errors: errors.append(f"page error: {exc}"))
            page.on("response", lambda r, errors=errors: errors.append(f"HTTP {r.status} for {r.url}")
                    if r.status >= 400 else None)
            outside.clear()
            problems = check_page(page, f"{base}/{name}.html")
            problems += errors + [f"request leaving the machine: {u}" for u in outside]
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.screenshots / (name.replace("/", "__") + ".png")), full_page=True)
            page.close()
            status = "ok" if not problems else "FAIL"
            print(f"{status:4s} {name}.html ({time.perf_counter() - t0:.1f} s)")
            for p in problems:
                print(f"       - {p}")
            failures += bool(problems)
        browser.close()
    server.shutdown()
    print(f"{len(pages) - failures} of {len(pages)} pages passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
