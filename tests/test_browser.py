"""Every kind of report page opened in a real browser (headless Chromium through selenium).

The other report tests read the HTML; this one looks at the page as a reader's browser draws
it. Each command writes its page on the tiny scenario (a few days, two or three
replications, serial backend), once for the module; one browser then opens every page at a
1280 px wide window and fails on

* a broken image: an ``<img>`` the browser could not decode (``naturalWidth`` 0);
* a console error: any SEVERE entry in the browser's log (a script error, a failed load);
* content wider than the page: ``document.documentElement.scrollWidth`` above
  ``window.innerWidth``; a table may scroll inside its own box, the page may not.

A full-page screenshot of each page is kept in ``out/browser-test/<page>.png``, passed or
not, to look at what failed.

The browser is Debian's ``chromium`` with its ``chromium-driver`` at fixed paths (nothing is
downloaded). Without them the test is skipped, unless the environment variable ``CI`` is
set: there a missing browser is a failure (``.ci/run`` installs both packages).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from test_cli import run_cli

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"
SERIAL = ["--backend", "serial"]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = ROOT / "out" / "browser-test"
WIDTH, HEIGHT = 1280, 900
HISTORY_SEED = 100

# page -> the command that writes it (``--out`` added); plan and history paths are filled in
# by the ``pages`` fixture. Order matters: evaluate reads the channels plan.
COMMANDS: dict[str, list[Any]] = {
    "run": ["run", TINY, "--days", 30],
    "replications": ["run", TINY, "--days", 14, "--replications", 3, *SERIAL],
    "compare": ["compare", TINY, "--variant", "tariff", "markets.US.duty_rate=0.3",
                "--replications", 3, "--days", 14, *SERIAL],
    "sweep": ["sweep", "{sweep}", *SERIAL],
    "optimize-channels": ["optimize", "channels", TINY],
    "optimize-ads": ["optimize", "ads", TINY],
    "optimize-peak": ["optimize", "peak", TINY],
    "optimize-frontier": ["optimize", "frontier", TINY, "--points", 3],
    "evaluate": ["evaluate", TINY, "--plan", "{plan}", "--replications", 2, "--days", 14,
                 *SERIAL],
    "tune": ["tune", TINY, "--param", "policies.replenishment.0.policy.reorder_point=15:35",
             "--objective", "contribution_margin_cny", "--budget", 3, "--replications", 2,
             "--days", 14, *SERIAL],
    "backtest": ["backtest", TINY, "--actuals", "{actuals}", "--replications", 2, *SERIAL],
    "calibrate": ["calibrate", "{actuals}", "--extends", TINY],
}


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing_browser() -> str | None:
    """Why the browser cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        return (f"no {' and no '.join(missing)} (apt-get install chromium chromium-driver)")
    return None


@pytest.fixture(scope="module", autouse=True)
def browser_available() -> None:
    """Skip before any page is written when there is no browser; in CI, fail instead."""
    reason = _missing_browser()
    if reason is None:
        return
    if _ci():
        pytest.fail(f"CI is set but the browser test cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser test needs Chromium: {reason}")


def _history(directory: Path) -> Path:
    """A simulated run of the tiny scenario written as a seller's history, with its SKUs."""
    from experiments.data.history import write_history
    from experiments.data.tables import write_table
    from sim.loader import load_scenario
    from sim.model import simulate

    run = simulate(load_scenario(TINY), seed=HISTORY_SEED)
    write_history(run, directory)
    first = next(iter(run.scenario.markets))
    skus = pd.DataFrame([{
        "sku": name, "category": s.category, "supplier": s.supplier,
        "unit_cost_cny": s.unit_cost_cny, "weight_kg": s.weight_kg, "volume_m3": s.volume_m3,
        f"price_{first}": s.price[first]} for name, s in run.scenario.skus.items()])
    write_table(directory, "skus", skus)
    return directory


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path | str]:
    """Every page, each written by its own command: page -> its report.html, or why the
    command wrote none (that page's test fails with it; the others still run)."""
    base = tmp_path_factory.mktemp("pages")
    sweep = base / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({
        "name": "browser_morris", "scenario": str(TINY), "days": 10, "seed": 1,
        "replications": 2, "design": {"kind": "morris", "samples": 2, "levels": 4},
        "parameters": {"markets.US.organic_sessions_per_day": {"low": 1000, "high": 4000},
                       "policies.ad_spend.ppc.spend_per_day": {"low": 100, "high": 800}},
        "kpis": ["contribution_margin_cny", "fill_rate"]}), encoding="utf-8")
    fill = {"{sweep}": sweep, "{plan}": base / "optimize-channels" / "plan.yaml",
            "{actuals}": _history(base / "actuals")}
    reports: dict[str, Path | str] = {}
    for page, argv in COMMANDS.items():
        out = base / page
        args = [str(fill.get(a, a)) if isinstance(a, str) else str(a) for a in argv]
        # calibrate writes a scenario file and its report beside it
        args += ["--out", str(out / "mine.yaml" if page == "calibrate" else out)]
        code, _, stderr = run_cli(args)
        report = out / "report.html"
        if code != 0 or not report.is_file():
            reports[page] = (f"xbsim {' '.join(args)} exited {code} without {report}:\n"
                             f"{stderr.strip()}")
        else:
            reports[page] = report
    return reports


@pytest.fixture(scope="module")
def browser(request) -> Iterator[Any]:
    """One headless Chromium for every page, at a 1280 px wide window."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--disable-extensions", "--no-first-run",
                     f"--window-size={WIDTH},{HEIGHT}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    driver.set_script_timeout(20)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    plugins = request.config.pluginmanager
    reporter, capture = plugins.getplugin("terminalreporter"), plugins.getplugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nbrowser test: screenshots of every page in {SHOTS}/")


# Every <img> made to load now (none left lazily waiting below the fold), then those the
# browser could not decode.
BROKEN_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach(i => { i.loading = 'eager'; });
Promise.all(images.map(i => i.decode().catch(() => null))).then(() => done(
  images.filter(i => i.naturalWidth === 0).map(i => {
    const section = i.closest('section');
    return `<img alt="${i.alt}"> in section #${section ? section.id : '?'}`
      + ` (src ${i.getAttribute('src') ? i.getAttribute('src').slice(0, 40) : 'missing'}...)`;
  })));
"""

# The outermost elements that reach past the window's right edge, leaving out what sits in a
# box that clips or scrolls it: what makes the page wider than the window.
WIDE_ELEMENTS = r"""
const limit = window.innerWidth;
const clipped = el => {
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true;
  }
  return false;
};
const found = [];
for (const el of [document.body, ...document.body.querySelectorAll('*')]) {
  const box = el.getBoundingClientRect();
  if (box.right <= limit + 0.5 || found.some(f => f.contains(el)) || clipped(el)) continue;
  found.push(el);
}
return found.slice(0, 5).map(el => {
  const box = el.getBoundingClientRect();
  const section = el.closest('section');
  const heading = section && section.querySelector('h2, h3');
  const classes = typeof el.className === 'string' ? el.className.trim().split(/\s+/) : [];
  let what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + classes.filter(c => c).map(c => '.' + c).join('');
  if (el.tagName === 'TABLE') {
    const head = Array.from(el.querySelectorAll('th')).slice(0, 4).map(t => t.textContent.trim());
    const caption = el.previousElementSibling;
    what += ` [${head.join(' | ')}${el.querySelectorAll('th').length > 4 ? ' | ...' : ''}]`;
    if (caption) what += ` after "${caption.textContent.trim().slice(0, 60)}"`;
  }
  if (el.tagName === 'IMG') what += ` "${el.alt}" (${el.naturalWidth} px natural)`;
  return `${what} in section #${section ? section.id : '?'}`
    + (heading ? ` "${heading.textContent.trim()}"` : '')
    + `: ${Math.round(box.width)} px wide, right edge at ${Math.round(box.right)} px`;
});
"""


def _full_page_screenshot(driver: Any, path: Path) -> None:
    """The whole page, not only the window (Chromium's DevTools capture beyond the viewport)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.parametrize("page", list(COMMANDS))
def test_page_draws_in_a_browser_without_errors_or_overflow(browser, pages, page):
    report = pages[page]
    if isinstance(report, str):
        pytest.fail(f"{page} page not written: {report}", pytrace=False)
    driver = browser
    driver.get("about:blank")
    driver.get_log("browser")  # forget what came before this page
    driver.get(report.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    window = driver.execute_script("return window.innerWidth")
    assert window == WIDTH, f"the window is {window} px wide, not {WIDTH}"

    broken = driver.execute_async_script(BROKEN_IMAGES)
    errors = [f"{e['level']}: {e['message']}" for e in driver.get_log("browser")
              if e["level"] == "SEVERE"]
    width = driver.execute_script("return document.documentElement.scrollWidth")
    wide = driver.execute_script(WIDE_ELEMENTS) if width > window else []
    shot = SHOTS / f"{page}.png"
    _full_page_screenshot(driver, shot)

    problems = [f"broken image: {b}" for b in broken]
    problems += [f"console error: {e}" for e in errors]
    if width > window:
        problems.append(f"the page is {width} px wide in a {window} px window because of: "
                        + ("; ".join(wide) or "no single element (see the screenshot)"))
    if problems:
        pytest.fail(f"{page} page {report} (screenshot {shot}):\n  "
                    + "\n  ".join(problems), pytrace=False)
