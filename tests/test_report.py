"""The report page (``python -m ablations report``): one self-contained HTML file per results
folder. Built from a tiny copy of results/quick (fast) and from results/quick itself (read
only; the page goes to tmp_path), then opened in a real headless Chromium: every chart
renders, no console error, no request leaves the file, and hovering a roadmap bar shows the
step's tooltip."""

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ablations.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
QUICK = ROOT / "results" / "quick"
CHAIN = "resnet50-to-convnext-t"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chain_rows(seeds=(0, 1, 2, 3, 4), steps=None):
    rows = [json.loads(line) for line in (QUICK / "labels.jsonl").read_text().splitlines()
            if line.strip()]
    return [r for r in rows if r["study"] == CHAIN and r["preset"] == "quick"
            and r["seed"] in seeds and (steps is None or r["step"] in steps)]


def _tooltip_seeds(rows, step_name):
    """'s0: 90.37, s1: ...' of a step, straight from the stored rows."""
    mine = sorted((r for r in rows if r["step_name"] == step_name), key=lambda r: r["seed"])
    return ", ".join(f"s{r['seed']}: {r['top1']:.2f}" for r in mine)


def _without_scripts(page):
    return re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S | re.I)


def _check_self_contained(page):
    from plotly.offline import get_plotlyjs

    markup = _without_scripts(page)  # plotly.js itself spells map attribution URLs
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", markup, re.I)
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    for src in re.findall(r"""\bsrc\s*=\s*["']([^"']*)""", markup):
        assert src.startswith("data:image/png;base64,"), src[:60]
    js = get_plotlyjs()
    assert page.count(js[:4000]) == 1 and js[-4000:] in page  # plotly.js inlined, once


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A results folder of 4 chain steps x 2 seeds copied from results/quick (no scale, no
    order-effect studies)."""
    folder = tmp_path_factory.mktemp("tiny") / "results"
    rows = _chain_rows(seeds=(0, 1), steps=(-1, 0, 1, 2))
    for r in rows:
        shutil.copytree(QUICK / "runs" / r["config_hash"], folder / "runs" / r["config_hash"])
    (folder / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder, rows


@pytest.fixture(scope="module")
def quick_page(tmp_path_factory):
    """The report of results/quick through the command line, written outside the folder."""
    if not (QUICK / "labels.jsonl").exists():
        pytest.skip("results/quick is not in this checkout")
    path = tmp_path_factory.mktemp("quick") / "report.html"
    assert main(["report", "--out", str(QUICK), "--file", str(path)]) == 0
    return path


def test_a_tiny_folder_gives_one_self_contained_page(tiny, capsys):
    from ablations.figures.report import build_report

    folder, rows = tiny
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert main(["report", "--out", str(folder)]) == 0
    assert "report.html" in capsys.readouterr().out
    after = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert sorted(set(after) - set(before)) == [Path("report.html")]  # one file, nothing else
    page = (folder / "report.html").read_text()
    _check_self_contained(page)
    # a diagram per step that has a step before it
    assert _without_scripts(page).count('src="data:image/png;base64,') == 3
    assert _tooltip_seeds(rows, "stage-ratio") in page  # the tooltip's per-seed top-1
    assert "Stage ratio (3,4,6,3) -\\u003e (3,3,9,3)" in page  # the change, in the figure data
    assert "no scale study of the chain (no scale rows): section skipped" in page
    charts = re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', page)
    assert charts == ["roadmap", "order-effects", "training-curves"]  # order: in chain only
    # the builder's own file parameter: the same page (byte for byte) elsewhere
    other = build_report(folder, folder.parent / "elsewhere.html")
    assert other.read_text() == page
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == after


def test_the_quick_page_holds_every_section(quick_page):
    from ablations.analysis.stats import study_stats
    from ablations.run.store import Store, load

    page = quick_page.read_text()
    _check_self_contained(page)
    rows = _chain_rows()
    df = load(QUICK)
    stats = study_stats(df, CHAIN, "quick", Store(QUICK)).set_index("treatment")
    # a tooltip per step: per-seed top-1, costs, the comparison's interval and verdict
    for name in ("modern-recipe", "width-96", "trunc-normal-init"):
        assert _tooltip_seeds(rows, name) in page, name
        r = stats.loc[name]
        assert f"{r.delta:+.2f} 95% CI [{r.t_lo:+.2f}, {r.t_hi:+.2f}]" in page, name
    row = next(r for r in rows if r["step_name"] == "width-96")
    assert f"GFLOPs {row['gflops']:.2f}, params {row['params_m']:.1f}M" in page
    assert "verdict: \\u003cb\\u003e" + stats.loc["width-96", "verdict"] in page
    for anchor in ("roadmap-section", "diagrams-section", "stats-section", "order-section",
                   "scale-section", "curves-section", "provenance-section"):
        assert f'id="{anchor}"' in page, anchor
    assert page.count("<details>") == 15
    assert _without_scripts(page).count('src="data:image/png;base64,') == 15
    assert page.count('class="plotly-graph-div"') == 3  # roadmap, order effects, curves
    assert "one-at-a-time-matched:" + CHAIN in page and "train_images" in page  # stats, scale
    assert "dc2ae58" in page  # the commit table
    assert len(page) < 12_000_000


def test_readme_commands_are_found_beside_or_above_the_folder(tmp_path):
    from ablations.figures.report import readme_commands

    folder = tmp_path / "results" / "quick"
    folder.mkdir(parents=True)
    (tmp_path / "results" / "README.md").write_text(
        "Command: `python -m ablations run --preset quick --seeds 5\n--out results/quick`.\n"
        "`python -m ablations run --out results/quick-gpu` is another folder's.\n")
    assert readme_commands(folder) == ["python -m ablations run --preset quick --seeds 5 "
                                       "--out results/quick"]
    (folder / "README.md").write_text("```\npython -m ablations stats --out x  # here\n```\n")
    assert readme_commands(folder) == ["python -m ablations stats --out x  # here"]


@pytest.mark.parametrize("make", ["missing", "empty", "no runs"])
def test_a_folder_without_results_is_one_error_line(tmp_path, make, capsys):
    folder = tmp_path / "results"
    if make != "missing":
        folder.mkdir()
    if make == "no runs":
        (folder / "labels.jsonl").write_text("\n")
    assert main(["report", "--out", str(folder), "--file", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "r.html").exists()


def test_help_does_not_import_plotly():
    code = ("import sys; from ablations.__main__ import make_parser; make_parser(); "
            "print('plotly' in sys.modules, 'pandas' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.stdout.split() == ["False", "False"], p.stdout + p.stderr


# --- a real browser -------------------------------------------------------------------------

def _chromium():
    for name in (os.environ.get("CHROMIUM", ""), *CHROMIUM_NAMES):
        path = shutil.which(name) if name else None
        if path:
            return path
    pytest.skip(f"no chromium: none of {', '.join(CHROMIUM_NAMES)} is on PATH (CI installs "
                "Debian's chromium where it can: .ci/run)")


BROWSER_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND")
"""Headless, and no host resolves: the page must need nothing beyond its own file."""


def test_chromium_renders_every_chart_without_console_errors(quick_page, tmp_path):
    browser = _chromium()
    p = subprocess.run([browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000",
                        "--dump-dom", quick_page.as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    dom = p.stdout
    ids = re.findall(r'<div id="([^"]+)" class="plotly-graph-div[^"]*js-plotly-plot', dom)
    assert sorted(ids) == ["order-effects", "roadmap", "training-curves"], ids
    parts = re.split(r'<div id="[^"]+" class="plotly-graph-div', dom)[1:]
    for chart_id, part in zip(ids, parts):
        assert part.count('class="main-svg"') >= 2, chart_id  # plotly drew it
    assert dom.count("<details>") == 15
    console = [line for line in p.stderr.splitlines() if "CONSOLE" in line]
    bad = [line for line in console if re.search(r"Uncaught|error", line, re.I)]
    assert not bad, bad
    assert "Uncaught" not in p.stderr


class _DevTools:
    """Chromium's DevTools protocol over ``--remote-debugging-pipe`` (fds 3 and 4: JSON
    messages ended by NUL), enough to load a page, move the mouse and read events."""

    def __init__(self, browser, profile):
        import fcntl

        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def fds():  # in the child: its ends as fds 3 (commands in) and 4 (replies out)
            a = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [browser, *BROWSER_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
             "--window-size=1280,1600", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=fds)
        os.close(to_child)
        os.close(from_child)
        self._buffer, self._next, self.events, self.session = b"", 0, [], None

    def call(self, method, params=None, timeout=60):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        reply = self.wait(lambda m: m.get("id") == self._next, timeout)
        assert "error" not in reply, (method, reply)
        return reply.get("result", {})

    def wait(self, match, timeout=60):
        end = time.monotonic() + timeout
        for m in self.events:
            if match(m):
                self.events.remove(m)
                return m
        while time.monotonic() < end:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                m = json.loads(raw)
                if match(m):
                    return m
                self.events.append(m)
            ready, _, _ = select.select([self._read], [], [], 0.5)
            if ready:
                chunk = os.read(self._read, 1 << 20)
                assert chunk, "chromium closed the DevTools pipe"
                self._buffer += chunk
        raise AssertionError("no DevTools reply in time")

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                           "returnByValue": True})
        assert "exceptionDetails" not in r, r
        return r["result"].get("value")

    def close(self):
        try:
            self.session = None
            self.call("Browser.close", timeout=10)
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)
        os.close(self._read)


_RENDERED = """new Promise(done => { const t0 = Date.now(); (function check() {
  const ids = [...document.querySelectorAll('.plotly-graph-div')].map(d => d.id);
  const drawn = ids.filter(id => document.querySelector('#' + CSS.escape(id) + ' .main-svg'));
  if (drawn.length === ids.length || Date.now() - t0 > 20000) done({ids, drawn});
  else setTimeout(check, 100); })(); })"""

_BAR = """(() => { const gd = document.getElementById('roadmap');
  gd.scrollIntoView({block: 'start'});
  const i = gd.data.findIndex(t => t.hovertext.some(h => h.includes('%s')));
  const j = gd.data[i].hovertext.findIndex(h => h.includes('%s'));
  const bar = gd.querySelectorAll('.trace.bars')[i].querySelectorAll('.point')[j];
  const r = bar.getBoundingClientRect();
  return {x: r.left + r.width * 0.9, y: r.top + r.height / 2}; })()"""


def test_hovering_a_roadmap_bar_in_chromium_shows_its_tooltip(quick_page, tmp_path):
    browser = _chromium()
    tools = _DevTools(browser, tmp_path / "profile")
    try:
        target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        tools.session = tools.call("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            tools.call(f"{domain}.enable")
        tools.call("Page.navigate", {"url": quick_page.as_uri()})
        tools.wait(lambda m: m.get("method") == "Page.loadEventFired", timeout=90)
        shown = tools.evaluate(_RENDERED)
        assert sorted(shown["drawn"]) == sorted(shown["ids"]) == \
            ["order-effects", "roadmap", "training-curves"], shown
        point = tools.evaluate(_BAR % ("width-96", "width-96"))
        for kind in ("mouseMoved", "mouseMoved"):  # plotly hovers on the second move
            tools.call("Input.dispatchMouseEvent", {"type": kind, "x": point["x"] - 1,
                                                    "y": point["y"]})
            time.sleep(0.3)
            tools.call("Input.dispatchMouseEvent", {"type": kind, **point})
        text = tools.evaluate("""new Promise(done => setTimeout(() => done(
            document.querySelector('#roadmap .hoverlayer').textContent), 500))""")
        seeds = _tooltip_seeds(_chain_rows(), "width-96")
        assert "Width 64 -> 96" in text and seeds in text and "verdict:" in text, text
        errors = [m for m in tools.events
                  if m.get("method") == "Runtime.exceptionThrown"
                  or (m.get("method") == "Runtime.consoleAPICalled"
                      and m["params"]["type"] in ("error", "assert"))
                  or (m.get("method") == "Log.entryAdded"
                      and m["params"]["entry"]["level"] == "error")]
        assert not errors, errors[:3]
        urls = [m["params"]["request"]["url"] for m in tools.events
                if m.get("method") == "Network.requestWillBeSent"]
        assert urls and all(u.split(":", 1)[0] in ("file", "data", "about") for u in urls), urls
    finally:
        tools.close()
