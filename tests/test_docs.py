"""The front door: README.md stays short, its relative links and the docs pages' point at
files that exist, and docs/ builds as a site with ``mkdocs build --strict`` (a page missing
from the nav, a link to a missing page or anchor fails the build)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 150

# Markdown links and images: [text](target) and ![alt](target); the target ends at the first
# space or closing parenthesis (a title after a space is ignored).
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _without_code(text: str) -> str:
    """The text without fenced code blocks and inline code (links there are not links)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def relative_links(page: Path) -> list[str]:
    targets = _LINK.findall(_without_code(page.read_text()))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_the_readme_is_at_most_150_lines():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, flags=re.S)
    assert block and text.index(block.group(0)) < 100, "the first block of README.md"
    commands = block.group(1).strip().splitlines()
    assert len(commands) == 2
    assert commands[0].endswith("python -m ablations replay")
    assert commands[1] == 'pip install -e ".[test]" -c constraints.txt && python -m pytest -q'


def test_the_link_check_sees_links_and_skips_code(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("[a](x.md) ![b](img/y.png \"t\") [c](https://e.org) [d](#top)\n"
                    "`[e](no.md)`\n```\n[f](no2.md)\n```\n")
    assert relative_links(page) == ["x.md", "img/y.png"]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file(page):
    missing = []
    for target in relative_links(page):
        path = target.split("#", 1)[0]
        if path and not (page.parent / path).exists():
            missing.append(target)
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def test_every_docs_page_is_in_the_site_navigation():
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    in_nav = {next(iter(entry.values())) for entry in config["nav"]}
    on_disk = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert on_disk <= in_nav, f"pages missing from mkdocs.yml's nav: {sorted(on_disk - in_nav)}"


def _build(config: Path, site: Path) -> subprocess.CompletedProcess:
    # No --quiet: it hides the warnings that --strict counts, and the build then passes.
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
         "--site-dir", str(site)], cwd=config.parent, capture_output=True, text=True, timeout=300)


def test_the_docs_build_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs comes with the test extra")
    proc = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "index.html").exists()


def test_the_strict_build_fails_on_a_broken_link_or_anchor(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs comes with the test extra")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    page = tmp_path / "docs" / "index.md"
    text = page.read_text()
    for broken in ("[gone](no-such-page.md)", "[gone](index.md#no-such-anchor)"):
        page.write_text(text + "\n" + broken + "\n")
        proc = _build(tmp_path / "mkdocs.yml", tmp_path / "site")
        assert proc.returncode != 0, broken
