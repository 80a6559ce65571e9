// Runs pytest inside Pyodide under node, on the repository as it is: the test files that
// need no threads, sockets or subprocesses (tests/test_static_site.py picks them; a test
// in them that fails only for want of a process or a thread is reported skipped).
//
//   node tests/pyodide_pytest.mjs PYODIDE_DIR SITE_PACKAGES FILE...
//
// PYODIDE_DIR is the npm package `pyodide` the static site is built from; SITE_PACKAGES
// is this machine's Python's, from which only pytest, hypothesis and their pure-Python
// dependencies are mounted (Pyodide's own folder of packages is not on npm). The
// repository is mounted at /repo, read and written in place, as pytest does on CPython.
// Prints pytest's output and exits with its exit code.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, sitePackages, ...files] = process.argv.slice(2);
const PURE = /^(pytest|_pytest|py|_hypothesis\w*|pluggy|iniconfig|packaging|hypothesis|sortedcontainers|attr|attrs|pygments)([-.].*\.dist-info)?(\.py)?$/i;

const { loadPyodide } = await import(pathToFileURL(resolve(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: resolve(pyodideDir) + "/" });
const { FS } = pyodide;

FS.mkdirTree("/repo");
FS.mount(FS.filesystems.NODEFS, { root: process.cwd() }, "/repo");
FS.mkdirTree("/host-packages");
for (const name of readdirSync(sitePackages)) {
  if (!PURE.test(name)) { continue; }
  if (name.endsWith(".py")) {
    FS.writeFile(`/host-packages/${name}`, readFileSync(resolve(sitePackages, name)));
    continue;
  }
  FS.mkdirTree(`/host-packages/${name}`);
  FS.mount(FS.filesystems.NODEFS, { root: resolve(sitePackages, name) }, `/host-packages/${name}`);
}

// The test running now, told to JavaScript first: if one kills the interpreter (a fatal
// error of Pyodide, which Python cannot catch), the report still names it.
globalThis.currentTest = null;
pyodide.globals.set("arguments", pyodide.toPy(files));
try {
  const code = pyodide.runPython(`
import os, sys
sys.path.append("/host-packages")
os.chdir("/repo")
sys.dont_write_bytecode = True
import js
import pytest

# What Pyodide cannot do, by the error it raises: a test failing with one of these needs a
# process, a thread or multiprocessing, and is reported skipped, saying so (it runs on
# CPython in the suite proper). Any other failure stays a failure, and so does one of these
# raised inside the code the static site runs (the page's Python must work here).
LACKS = {"does not support processes": "processes",
         "can't start new thread": "threads",
         "No module named '_multiprocessing'": "multiprocessing"}
SITE = ("/repo/engine/", "/repo/nn/", "/repo/viz/", "/repo/playground/api.py",
        "/repo/playground/session.py", "/repo/playground/sessions.py",
        "/repo/playground/settings.py", "/repo/playground/views.py",
        "/repo/playground/chain_rule.py")

def raised_by_the_site(excinfo):
    return any(str(entry.path).startswith(SITE) for entry in excinfo.traceback)

class InPyodide:
    def pytest_runtest_logstart(self, nodeid, location):
        js.currentTest = nodeid

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        if report.failed and call.excinfo is not None:
            text = str(call.excinfo.value)
            lacking = [what for message, what in LACKS.items() if message in text]
            if lacking and not raised_by_the_site(call.excinfo):
                report.outcome = "skipped"
                report.longrepr = (str(item.path), item.location[1] or 0,
                                   f"Skipped: Pyodide has no {lacking[0]}")

int(pytest.main(["-q", "-p", "no:cacheprovider", *arguments], plugins=[InPyodide()]))
`);
  process.exit(code);
} catch (error) {
  console.log(`\nPyodide died running ${globalThis.currentTest}: ${error.message}`);
  console.log("1 failed (the interpreter died)");
  process.exit(3);
}
