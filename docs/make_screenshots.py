"""Regenerate the README screenshots: `python docs/make_screenshots.py [pages|glossary|live|spot_check …]`
(all by default; needs Debian's chromium and an imported store in BR_DATABASE_URL). Only views of aggregate
numbers, of our own example scenario and of our own glossary are captured, so no text from the paper's release
ends up in the repository."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support.app_server import AppServer  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def settle(page) -> None:
    page.wait_for_selector('[data-testid="stAppViewContainer"]')
    time.sleep(1.0)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=600_000)
    time.sleep(1.5)


def shoot_pages(page, app) -> None:
    for name, path in [("home", "/"), ("heatmap", "/heatmaps?rows=model&cols=authority&metric=refusal")]:
        page.goto(app.url + path)
        settle(page)
        page.screenshot(path=str(OUT / f"{name}.png"))


def shoot_heading(page, app, path: str, heading: str, name: str) -> None:
    """The page at `path`, scrolled to one of its headings."""
    page.goto(app.url + path)
    settle(page)
    page.get_by_role("heading", name=heading).scroll_into_view_if_needed()
    time.sleep(1)
    page.screenshot(path=str(OUT / f"{name}.png"))


def shoot_glossary(page, app) -> None:
    shoot_heading(page, app, "/", "Glossary: what the labels mean", "glossary")


def shoot_live(page, app) -> None:
    """An example scenario of ours, run: the composer folds, the question sits above the answers."""
    page.goto(app.url + "/live")
    settle(page)
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option").first.click()
    settle(page)
    page.get_by_role("button", name="Load example").click()
    settle(page)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("judged models refused").wait_for()
    settle(page)
    page.get_by_text("The question", exact=True).first.scroll_into_view_if_needed()
    time.sleep(1)
    page.screenshot(path=str(OUT / "live_lab.png"), full_page=False)


def shoot_spot_check(page, app) -> None:
    page.goto(app.url + "/spot-check")
    settle(page)
    n = page.get_by_label("Sample size n")
    n.fill("12")
    n.press("Tab")
    page.get_by_role("button", name="Estimate and run").click()
    page.get_by_role("button", name="Start the spot-check").click()
    page.get_by_text("Rank among").wait_for()
    settle(page)
    page.mouse.wheel(0, 900)
    time.sleep(1)
    page.screenshot(path=str(OUT / "spot_check.png"))


def shoot_gold_estimate(page, app) -> None:
    """The Spot-check form asking our reviewers for 40 gold labels, and what its estimate says they buy."""
    page.goto(app.url + "/spot-check?n=200")
    settle(page)
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Gold labels on a random subset").first
    box.click()
    page.keyboard.type("our reviewers")
    page.get_by_role("option", name="our reviewers, through a shared label queue").wait_for()
    page.keyboard.press("Enter")
    settle(page)
    page.get_by_role("button", name="Estimate and run").click()
    page.get_by_text("gold labels, about").wait_for()
    settle(page)
    page.get_by_text("gold labels, about").scroll_into_view_if_needed()
    time.sleep(1)
    page.screenshot(path=str(OUT / "spot_check_gold.png"))


def shoot_judge(page, app) -> None:
    """The distilled judge's style flip rates and its error on models it never saw (Judge agreement)."""
    shoot_heading(page, app, "/agreement", "Does it read the answer or its style?", "judge_agreement")


SHOTS = {"pages": shoot_pages, "glossary": shoot_glossary, "live": shoot_live, "spot_check": shoot_spot_check,
         "gold": shoot_gold_estimate, "judge": shoot_judge}


def main(which: list[str]) -> None:
    """`which`: some of SHOTS (default: all)."""
    OUT.mkdir(parents=True, exist_ok=True)
    with AppServer({}, Path("/tmp/br-screenshots.log")) as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1250})
        page.set_default_timeout(600_000)
        for name in which or list(SHOTS):
            SHOTS[name](page, app)
        browser.close()
    print("wrote", ", ".join(sorted(f.name for f in OUT.glob("*.png"))), "to", OUT, file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    main(sys.argv[1:])
