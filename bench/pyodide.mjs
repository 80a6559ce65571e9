// Runs Python code in Pyodide under node, with this repository importable; prints the
// value of its last expression. Used by bench/static_site.py to time an epoch there.
//
//   node bench/pyodide.mjs PYODIDE_DIR CODE
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, code] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(resolve(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: resolve(pyodideDir) + "/" });
pyodide.FS.mkdirTree("/repo");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: process.cwd() }, "/repo");
pyodide.runPython("import sys; sys.path.insert(0, '/repo'); sys.dont_write_bytecode = True");
console.log(String(pyodide.runPython(code)));
