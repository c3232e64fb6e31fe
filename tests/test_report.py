"""The report page (``python -m ablations report``): one self-contained HTML file per results
folder. Built from a tiny copy of results/quick (fast) and from results/quick itself (read
only; the page goes to tmp_path), then opened in a real headless Chromium: every chart
renders, no console error, no request leaves the file, hovering a chain bar shows the step's
tooltip, and at 800 and 1400 px no title meets plotly's toolbar and Table 10 fits the width.
Every number checked against the claims table (``analysis.claims``) the page reads."""

import html
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
        assert src.startswith("data:image/svg+xml;base64,"), src[:60]
    js = get_plotlyjs()
    assert page.count(js[:4000]) == 1 and js[-4000:] in page  # plotly.js inlined, once


def _charts(page):
    """(data-study, data-chart) of each chart figure, in page order."""
    return re.findall(r'<figure class="chart" data-study="([^"]*)" data-chart="([^"]+)">', page)


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


def _digest():
    import hashlib

    return [hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else ""
            for p in (QUICK / "labels.jsonl", QUICK / "results.csv")]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The report of results/quick through the command line, written outside the folder,
    with the results and claims it was built from (built again where a training job wrote
    results/quick meanwhile; results/quick is read, never written)."""
    from ablations.analysis.claims import folder_claims
    from ablations.run.store import load

    if not (QUICK / "labels.jsonl").exists():
        pytest.skip("results/quick is not in this checkout")
    path = tmp_path_factory.mktemp("quick") / "report.html"
    for _ in range(3):
        before = _digest()
        start = time.monotonic()
        assert main(["report", "--results", str(QUICK), "--file", str(path)]) == 0
        print(f"report of results/quick: {time.monotonic() - start:.1f} s, "
              f"{path.stat().st_size / 1e6:.1f} MB")
        df = load(QUICK)
        table = folder_claims(QUICK, df)
        if _digest() == before:
            return path, df, table
    pytest.skip("results/quick kept changing while its page was built")


@pytest.fixture(scope="module")
def quick_page(quick):
    """The page of results/quick."""
    return quick[0]


@pytest.fixture(scope="module")
def quick_claims(quick):
    """(results, claims) the page of results/quick was built from."""
    return quick[1], quick[2]


def test_a_tiny_folder_gives_one_self_contained_page(tiny, capsys):
    from ablations.analysis.stats import RULE
    from ablations.figures.report import build_report

    folder, rows = tiny
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert main(["report", "--results", str(folder)]) == 0
    assert "report.html" in capsys.readouterr().out
    after = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert sorted(set(after) - set(before)) == [Path("report.html")]  # one file, nothing else
    page = (folder / "report.html").read_text()
    _check_self_contained(page)
    assert page.count(html.escape(RULE, quote=True)) == 1
    # a diagram per step that has a step before it
    assert _without_scripts(page).count('src="data:image/svg+xml;base64,') == 3
    assert _tooltip_seeds(rows, "stage-ratio") in page  # the tooltip's per-seed top-1
    assert "Stage ratio (3,4,6,3) -\\u003e (3,3,9,3)" in page  # the change, in the figure data
    assert 'id="scale-section"' not in page and 'id="order-section"' not in page
    assert [c for _, c in _charts(page)] == ["paper", "chain", "chain-vs-first",
                                             "training-curves"]
    # the builder's own file parameter: the same page (byte for byte) elsewhere
    other = build_report(folder, folder.parent / "elsewhere.html")
    assert other.read_text() == page
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == after


def _row_of(page, table_id, first_cell):
    """The cells (tags stripped) of the row of table ``table_id`` whose first cell is
    ``first_cell``."""
    table = re.search(rf'<table class="data" id="{table_id}">(.*?)</table>', page, re.S).group(1)
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in {table_id}")


def test_the_quick_page_reads_every_number_from_the_claims(quick_page, quick_claims):
    from ablations.analysis.claims import endpoint
    from ablations.analysis.stats import RULE, format_seeds
    from models.roadmap import chain

    page = quick_page.read_text()
    _check_self_contained(page)
    df, table = quick_claims
    mine = table[(table.study == CHAIN) & (table.preset == "quick")]
    # the rule once, before the first section; the headline with the verdict's interval
    rule = html.escape(RULE, quote=True)
    assert page.count(rule) == 1 and page.index(rule) < page.index('id="paper-section"')
    end = endpoint(mine, CHAIN)
    headline = re.search(r'<p class="headline" id="headline">(.*?)</p>', page).group(1)
    text = html.unescape(re.sub(r"<[^>]+>", "", headline))
    assert f"{end['delta']:+.2f} points [{end['lo']:+.2f}, {end['hi']:+.2f}]" in text, text
    assert end["verdict"] in text and end["vs_paper"] in text
    # Table 10: the paper beside ours, per step
    steps = mine[mine.kind == "step"].set_index("treatment")
    paper_step = mine[mine.kind == "paper step"].set_index("treatment")
    for s in chain(CHAIN):
        cells = _row_of(page, "paper-table", str(s.index))
        claim = paper_step.loc[s.name] if s.name in paper_step.index else (
            steps.loc[s.name] if s.name in steps.index else None)
        if claim is None:  # the first step: no gain
            assert cells[5] == "", cells
            continue
        assert cells[5] == f"{claim.delta:+.2f} [{claim.lo:+.2f}, {claim.hi:+.2f}]", cells
        assert cells[6] == claim.verdict
        assert cells[7] == (claim.vs_paper if isinstance(claim.vs_paper, str) else "")
        assert cells[8] == format_seeds(claim.seeds_needed)
    assert _row_of(page, "paper-table", "12")[3].startswith("folded")  # sub-steps marked
    assert _row_of(page, "paper-table", "13")[3].startswith("folded")
    assert _row_of(page, "paper-table", "14")[2] == "81.97"  # paired by design
    # a chain bar's tooltip: per-seed top-1 and the comparison with the verdict's interval
    rows = _chain_rows()
    for name in ("modern-recipe", "width-96", "trunc-normal-init"):
        assert _tooltip_seeds(rows, name) in page, name
        r = steps.loc[name]
        assert f"{r.delta:+.2f} [{r.lo:+.2f}, {r.hi:+.2f}]" in page, name
    row = next(r for r in rows if r["step_name"] == "width-96")
    assert f"GFLOPs {row['gflops']:.2f}, params {row['params_m']:.1f}M" in page
    # the scale study's trend and the regularisation's gap change, with their intervals
    scale = table[table.study == f"scale:{CHAIN}"]
    for r in scale[scale.kind.isin(["trend", "gap change"])].itertuples():
        if r.seeds >= 2:
            assert f"{r.delta:+.2f} [{r.lo:+.2f}, {r.hi:+.2f}]" in page, r
    assert len(page) < 12_000_000


def test_the_quick_page_has_a_chart_per_study_in_a_stable_order(quick_page, quick_claims):
    from ablations.figures.report import seeds_option

    df, _ = quick_claims
    page = quick_page.read_text()
    charts = _charts(page)
    assert set(df.study) <= {study for study, _ in charts}  # a chart for every study
    assert {"paper", "chain", "chain-vs-first", "training-curves"} <= {c for _, c in charts}
    assert any(c.startswith("scale-gaps") for _, c in charts)
    assert any(c.startswith("scale-changes") for _, c in charts)
    assert any(c.startswith("scale-trends") for _, c in charts)
    if (QUICK / "collapse.csv").exists():
        assert ("", "collapse") in charts
    # studies in order, not interleaved: each study's charts form one run
    order = [s for s, _ in charts if s]
    runs = [s for k, s in enumerate(order) if k == 0 or order[k - 1] != s]
    assert len(runs) == len(set(runs)), runs
    kinds = ["one-at-a-time:", "one-at-a-time-matched:", "leave-one-out:", "scale:",
             "transformers:"]
    first = [next(k for k, s in enumerate(runs) if s.startswith(p)) for p in kinds]
    assert runs[0] == CHAIN and first == sorted(first), runs
    # every claim section in the same order, and one command per study and preset
    headers = re.findall(r"<h3>([^<]+)</h3>", page[page.index('id="stats-section"'):])
    assert [h for h in headers if h in set(df.study)] == [s for s in runs if s in set(df.study)]
    out = QUICK.as_posix()
    for study, preset in df.groupby(["study", "preset"]).size().index:
        if study.startswith("scale:"):
            continue
        seeds = seeds_option(df[(df.study == study) & (df.preset == preset)].seed)
        kind = study.split(":")[0] if ":" in study else "chain"
        what = {"chain": f"--chain {study}", "custom": "--study custom"}.get(
            kind, f"--study {kind} --chain {CHAIN}")
        assert f"python -m ablations run {what}" in page, study
        assert f"--preset {preset} --seeds {seeds}" in page, study
        assert f"--out {out}" in page
    assert re.search(r"--study scale --chain \S+ --preset quick --seeds \S+ --grid "
                     r"&quot;[^&]*epochs=12", page)
    assert "README" not in page[page.index('id="provenance-section"'):]  # not scraped


def test_curves_are_means_over_seeds_one_panel_per_phase(tiny):
    from ablations.figures.report import curves_figure, read_inputs
    from ablations.run.store import Store
    from models.roadmap import chain

    folder, rows = tiny
    fig = curves_figure(read_inputs(folder))
    phases = {s.name: s.phase for s in chain(CHAIN)}
    store = Store(folder)
    solid = [t for t in fig.data if t.line.dash != "dash"]
    assert len(solid) == 4  # one line per step, not per seed
    for t in solid:
        index = int(t.name.split()[0])
        mine = [r for r in rows if r["step"] == index]
        hist = [store.history(r["config_hash"]).set_index("epoch").test_top1 for r in mine]
        mean = sum(hist) / len(hist)
        assert [round(v, 4) for v in mean.loc[list(t.x)]] == pytest.approx(list(t.y), abs=1e-3)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == list(dict.fromkeys(phases[r["step_name"]] for r in
                                        sorted(rows, key=lambda r: r["step"])))


def test_diagrams_drawn_ahead_are_the_ones_drawn_here(tiny):
    import multiprocessing

    from ablations.figures.report import Diagrams, diagram_pairs, diagram_svg
    from ablations.run.store import load

    folder, _ = tiny
    pairs = diagram_pairs(CHAIN, load(folder))
    assert [a.name for _, a in pairs] == ["modern-recipe", "stage-ratio", "patchify-stem"]
    ahead = Diagrams(pairs, ahead=True)
    try:
        drawn = [ahead.svg(a.name) for _, a in pairs]
    finally:
        ahead.close()
    assert not multiprocessing.active_children()  # the workers are gone
    assert drawn == [diagram_svg(b, a) for b, a in pairs]
    assert drawn[1].lstrip().startswith(b"<?xml") and b"<text" in drawn[1]  # text kept as text


def test_commands_are_rebuilt_from_the_runs():
    import pandas as pd

    from ablations.figures.report import seeds_option, study_commands

    assert [seeds_option(s) for s in ([0, 1, 2], [5, 6, 7], [3, 7], [2, 0, 1, 1])] == \
        ["3", "5-7", "3,7", "3"]
    rows = [(CHAIN, "quick", s, n) for s in range(5) for n in ("modern-recipe", "width-96")]
    rows += [(f"one-at-a-time:{CHAIN}", "quick", s, "only-gelu") for s in range(3)]
    rows += [(f"scale:{CHAIN}", p, s, "modern-recipe") for s in range(3) for p in
             ("quick", "quick+epochs=12", "quick+epochs=24", "quick+train_images=7500")]
    rows += [(f"scale:{CHAIN}", p, s, "modern-recipe") for s in range(5) for p in
             ("quick+train_images=7500+regularisation=paper",)]
    df = pd.DataFrame(rows, columns=["study", "preset", "seed", "step_name"])
    df["dataset"] = ["cifar10" if s.startswith("one-") else "fashion-mnist" for s in df.study]
    assert study_commands(df, "results/x", CHAIN) == [
        f"python -m ablations run --chain {CHAIN} --steps modern-recipe,width-96 "
        "--preset quick --seeds 5 --out results/x",
        f"python -m ablations run --study one-at-a-time --chain {CHAIN} --preset quick "
        "--seeds 3 --dataset cifar10 --out results/x",
        f"python -m ablations run --study scale --chain {CHAIN} --preset quick --seeds 3 "
        '--grid "epochs=12,24;train_images=7500" --out results/x',
        f"python -m ablations run --study scale --chain {CHAIN} --preset quick --seeds 5 "
        '--grid "train_images=7500 x regularisation=paper" --out results/x']


def test_studies_are_ordered_chain_first():
    from ablations.figures.report import ordered_studies

    studies = ["fcmae:x", f"transformers:{CHAIN}", f"scale:{CHAIN}", "custom:mine",
               f"leave-one-out:{CHAIN}", f"one-at-a-time-matched:{CHAIN}",
               f"one-at-a-time:{CHAIN}", CHAIN]
    assert ordered_studies(studies, CHAIN) == [
        CHAIN, f"one-at-a-time:{CHAIN}", f"one-at-a-time-matched:{CHAIN}",
        f"leave-one-out:{CHAIN}", f"scale:{CHAIN}", f"transformers:{CHAIN}", "fcmae:x",
        "custom:mine"]


@pytest.mark.parametrize("make", ["missing", "empty", "no runs"])
def test_a_folder_without_results_is_one_error_line(tmp_path, make, capsys):
    folder = tmp_path / "results"
    if make != "missing":
        folder.mkdir()
    if make == "no runs":
        (folder / "labels.jsonl").write_text("\n")
    assert main(["report", "--results", str(folder), "--file", str(tmp_path / "r.html")]) == 2
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
                        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=20000",
                        "--window-size=1400,1000", "--dump-dom", quick_page.as_uri()],
                       capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr[-2000:]
    dom = p.stdout
    expected = [c for _, c in _charts(quick_page.read_text())]
    ids = re.findall(r'<div id="([^"]+)" class="plotly-graph-div[^"]*js-plotly-plot', dom)
    assert ids == expected and len(ids) >= 12, ids
    parts = re.split(r'<div id="[^"]+" class="plotly-graph-div', dom)[1:]
    for chart_id, part in zip(ids, parts):
        assert part.count('class="main-svg"') >= 2, chart_id  # plotly drew it
    assert 'id="paper-table"' in dom and dom.count("<details>") == 15
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

_BAR = """(() => { const gd = document.getElementById('chain');
  gd.scrollIntoView({block: 'start'});
  const i = gd.data.findIndex(t => t.hovertext.some(h => h.includes('%s')));
  const j = gd.data[i].hovertext.findIndex(h => h.includes('%s'));
  const bar = gd.querySelectorAll('.trace.bars')[i].querySelectorAll('.point')[j];
  const r = bar.getBoundingClientRect();
  return {x: r.left + r.width * 0.5, y: r.top + r.height / 2}; })()"""

_GEOMETRY = """new Promise(done => setTimeout(() => {
  const boxes = sel => [...document.querySelectorAll(sel)].map(e => [e, e.getBoundingClientRect()])
    .filter(([e, r]) => r.width > 0 && r.height > 0);
  const bars = boxes('.modebar');
  const titles = boxes('h1, h2, h3, .gtitle, .annotation-text, .legendtitletext');
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const hits = [];
  for (const [t, a] of titles) for (const [m, b] of bars)
    if (hit(a, b)) hits.push(t.textContent.slice(0, 60));
  const table = document.getElementById('paper-table');
  done({bars: bars.length, titles: titles.length, hits,
        page: document.documentElement.scrollWidth, view: window.innerWidth,
        table: table.scrollWidth, room: table.parentElement.clientWidth,
        drawn: document.querySelectorAll('.plotly-graph-div .main-svg').length});
}, 1500))"""


def _open(tools, page):
    target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    tools.session = tools.call("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Runtime", "Log", "Network", "Page"):
        tools.call(f"{domain}.enable")
    tools.call("Page.navigate", {"url": page.as_uri()})
    tools.wait(lambda m: m.get("method") == "Page.loadEventFired", timeout=120)
    shown = tools.evaluate(_RENDERED)
    assert sorted(shown["drawn"]) == sorted(shown["ids"]) and "chain" in shown["ids"], shown


def _errors(tools):
    return [m for m in tools.events
            if m.get("method") == "Runtime.exceptionThrown"
            or (m.get("method") == "Runtime.consoleAPICalled"
                and m["params"]["type"] in ("error", "assert"))
            or (m.get("method") == "Log.entryAdded"
                and m["params"]["entry"]["level"] == "error")]


def test_hovering_a_chain_bar_in_chromium_shows_its_tooltip(quick_page, tmp_path):
    browser = _chromium()
    tools = _DevTools(browser, tmp_path / "profile")
    try:
        _open(tools, quick_page)
        point = tools.evaluate(_BAR % ("width-96", "width-96"))
        for kind in ("mouseMoved", "mouseMoved"):  # plotly hovers on the second move
            tools.call("Input.dispatchMouseEvent", {"type": kind, "x": point["x"] - 1,
                                                    "y": point["y"]})
            time.sleep(0.3)
            tools.call("Input.dispatchMouseEvent", {"type": kind, **point})
        text = tools.evaluate("""new Promise(done => setTimeout(() => done(
            document.querySelector('#chain .hoverlayer').textContent), 500))""")
        seeds = _tooltip_seeds(_chain_rows(), "width-96")
        assert "Width 64 -> 96" in text and seeds in text and "verdict:" in text, text
        assert not _errors(tools), _errors(tools)[:3]
        urls = [m["params"]["request"]["url"] for m in tools.events
                if m.get("method") == "Network.requestWillBeSent"]
        assert urls and all(u.split(":", 1)[0] in ("file", "data", "about") for u in urls), urls
    finally:
        tools.close()


@pytest.mark.parametrize("width", [800, 1400])
def test_titles_stay_clear_of_the_toolbar(quick_page, tmp_path, width):
    """At 800 and 1400 px: no title (the page's, a section's, a chart's, one inside a plot)
    meets a plotly toolbar; Table 10 and the page fit the width; a screenshot is taken."""
    import base64

    browser = _chromium()
    tools = _DevTools(browser, tmp_path / "profile")
    try:
        _open(tools, quick_page)
        tools.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": 1400, "deviceScaleFactor": 1, "mobile": False})
        geometry = tools.evaluate(_GEOMETRY)
        assert geometry["view"] == width and geometry["drawn"] >= 24, geometry
        assert geometry["bars"] >= 12 and geometry["titles"] >= 20, geometry  # it can fail
        assert not geometry["hits"], geometry["hits"]
        assert geometry["table"] <= geometry["room"], geometry  # Table 10: no side scroll
        assert geometry["page"] <= width, geometry
        shot = tools.call("Page.captureScreenshot", {"format": "png"})
        png = base64.b64decode(shot["data"])
        (tmp_path / f"report-{width}.png").write_bytes(png)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == width
        assert not _errors(tools), _errors(tools)[:3]
    finally:
        tools.close()


def test_a_step_diagram_is_drawn_once_then_read_from_the_cache(tmp_path, monkeypatch):
    from ablations.figures import report as report_module
    from models.roadmap import chain

    monkeypatch.setenv("CONVNEXT_ABLATIONS_CACHE", str(tmp_path / "cache"))
    before, after = chain("resnet50-to-convnext-t")[5:7]
    drawn = report_module.diagram_svg(before, after)
    assert drawn.startswith(b"<?xml") and len(list((tmp_path / "cache").rglob("*.svg"))) == 1
    monkeypatch.setattr(report_module, "_draw_diagram_svg",
                        lambda *a: pytest.fail("drawn again"))
    assert report_module.diagram_svg(before, after) == drawn
    with pytest.raises(pytest.fail.Exception, match="drawn again"):  # another pair: drawn
        report_module.diagram_svg(after, chain("resnet50-to-convnext-t")[7])
