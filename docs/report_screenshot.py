"""Make docs/report.png and docs/report-document.png: the report for samples/ in headless
Chromium (Debian's `chromium`; for Chinese glyphs a CJK font such as `fonts-wqy-microhei`).

    python docs/report_screenshot.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out, page_file = Path(tmp) / "out", Path(tmp) / "report.html"
        cleankit = [sys.executable, "-m", "cleankit"]
        subprocess.run([*cleankit, "clean", str(ROOT / "samples"), "-o", str(out), "-q"], check=True)
        subprocess.run(
            [*cleankit, "report", str(out), "-o", str(page_file), "--title", "cleankit report: samples/"], check=True
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(page_file.as_uri())
            page.screenshot(path=str(DOCS / "report.png"))
            page.click("#doc-table a:text('001_e11f24d6c84acc9d.txt')")
            page.wait_for_selector("#doc-text .chg")
            page.locator("#document").scroll_into_view_if_needed()
            page.mouse.move(0, 0)  # no hover outline in the picture
            page.screenshot(path=str(DOCS / "report-document.png"))
            browser.close()


if __name__ == "__main__":
    main()
