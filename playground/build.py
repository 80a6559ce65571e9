"""``python -m playground build DIR``: the playground as a static site, with nothing to install.

The site is the same page as ``python -m playground`` serves, but its back end is a module
Web Worker (``static/worker.mjs``) that runs the very request handlers of ``api.py`` in the
student's browser, inside Pyodide (CPython compiled to WebAssembly). So chainrule's own
engine trains there, every student's browser doing its own work, and any static host serves
it: GitHub Pages, a university web space, ``python -m http.server``.

What DIR holds after a build::

    index.html                    the page, its script tags marked data-backend="worker"
    static/*.js, *.css, *.mjs     the page's script and style, backend.js, worker.mjs
    static/chainrule.zip          engine/, nn/, viz/ and playground/'s Python (no tests)
    static/pyodide/               the Pyodide runtime (npm package ``pyodide``)
    static/viz/viz.js             Graphviz compiled to WebAssembly (npm ``@viz-js/viz``),
                                  which draws the chain-rule view from its DOT text

The two npm packages are pinned in ``playground/package.json`` and its lock file; the build
runs ``npm ci`` once into a cache folder outside the repository (``~/.cache/chainrule``, or
``$CHAINRULE_NPM_CACHE``) and copies the few files the page loads. Nothing is fetched at run
time from anywhere but the site itself.

The host must send ``.wasm`` as ``application/wasm`` and ``.mjs`` as ``text/javascript``
(``python -m http.server`` does: Python's own table of types has both from 3.10 on).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

PLAYGROUND = Path(__file__).parent
ROOT = PLAYGROUND.parent
STATIC = PLAYGROUND / "static"
PACKAGES = ("engine", "nn", "viz", "playground")
"""chainrule's pure-Python packages the worker imports (viz writes the chain rule's DOT)."""

PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                 "pyodide-lock.json", "package.json", "README.md")
MARKER = ".chainrule-static-site"
"""A file every built site holds, so a rebuild may replace it and nothing else."""


class BuildError(Exception):
    """A build that cannot go on: the message is the one line the command prints."""


def npm_cache() -> Path:
    """Where ``npm ci`` installs the pinned packages: one folder per lock file's contents."""
    lock = (PLAYGROUND / "package-lock.json").read_bytes()
    base = os.environ.get("CHAINRULE_NPM_CACHE") or Path.home() / ".cache" / "chainrule" / "npm"
    return Path(base) / hashlib.sha256(lock).hexdigest()[:16]


def node_modules() -> Path:
    """The pinned npm packages, installed with ``npm ci`` on first use and reused after."""
    folder = npm_cache()
    modules = folder / "node_modules"
    if (modules / "pyodide" / "pyodide.mjs").is_file() and (
            modules / "@viz-js" / "viz" / "dist" / "viz.js").is_file():
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm was not found: the static site takes Pyodide from npm at build "
                         "time; install Node.js and npm (apt-get install nodejs npm)")
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PLAYGROUND / name, folder / name)
    run = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                         cwd=folder, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise BuildError(f"npm ci failed in {folder}: {last}")
    return modules


def python_archive(target: Path) -> None:
    """chainrule's packages as one zip the worker unpacks: the .py files, nothing else."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in PACKAGES:
            for path in sorted((ROOT / package).rglob("*.py")):
                archive.write(path, path.relative_to(ROOT).as_posix())


def page(index: str) -> str:
    """The server's page for a static host: its addresses relative (so the site works in a
    sub-folder, as on GitHub Pages) and its back end the worker."""
    if 'data-backend="http"' not in index:
        raise BuildError("playground/static/index.html has no backend.js script tag "
                         'with data-backend="http" to switch to the worker')
    return (index.replace('"/static/', '"static/')
            .replace('data-backend="http"', 'data-backend="worker"'))


def _prepare(site: Path) -> None:
    if site.exists() and not site.is_dir():
        raise BuildError(f"{site} exists and is not a folder")
    if site.is_dir() and any(site.iterdir()):
        if not (site / MARKER).is_file():
            raise BuildError(f"{site} is not empty and holds no earlier build: "
                             "give a new or empty folder")
        shutil.rmtree(site)
    (site / "static").mkdir(parents=True, exist_ok=True)


def build(site: Path) -> list[Path]:
    """Write the static site into ``site`` (new, empty, or an earlier build); return its files."""
    modules = node_modules()
    _prepare(site)
    static = site / "static"
    (site / "index.html").write_text(page((STATIC / "index.html").read_text("utf-8")), "utf-8")
    for path in sorted(STATIC.iterdir()):
        if path.is_file() and path.name != "index.html":
            shutil.copyfile(path, static / path.name)
    python_archive(static / "chainrule.zip")
    (static / "pyodide").mkdir()
    for name in PYODIDE_FILES:
        shutil.copyfile(modules / "pyodide" / name, static / "pyodide" / name)
    (static / "viz").mkdir()
    viz = modules / "@viz-js" / "viz"
    shutil.copyfile(viz / "dist" / "viz.js", static / "viz" / "viz.js")
    shutil.copyfile(viz / "package.json", static / "viz" / "package.json")
    (site / MARKER).write_text("built by python -m playground build\n", "utf-8")
    return sorted(p for p in site.rglob("*") if p.is_file())


def main(argv: Sequence[str], prog: str = "python -m playground build") -> int:
    """The command: one line saying where the site is, or one line saying why not (exit 2)."""
    if len(argv) != 1 or argv[0].startswith("-"):
        print(f"usage: {prog} DIR  (writes the static site into DIR, a new or empty folder)",
              file=sys.stderr)
        return 2
    site = Path(argv[0])
    try:
        files = build(site)
    except BuildError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in files)
    print(f"static site: {site} ({len(files)} files, {size / 1e6:.1f} MB); serve it with: "
          f"python -m http.server -d {site} -b 127.0.0.1")
    return 0
