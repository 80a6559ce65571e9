// chainrule playground, static site: start Python (Pyodide) in this worker and import
// chainrule from static/chainrule.zip. Everything is loaded from the site itself.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const HOME = "/home/pyodide/chainrule";

// Progress while Pyodide starts: each stage moves the bar towards its end, faster at first,
// so the bar always moves and never claims to be done before it is.
function stages(report) {
  let from = 0, to = 0, expected = 1, stage = "", began = 0;
  const timer = setInterval(() => {
    const t = (performance.now() - began) / expected;
    report(stage, from + (to - from) * (1 - Math.exp(-t)));
  }, 100);
  return {
    enter(name, start, end, milliseconds) {
      stage = name; from = start; to = end; expected = milliseconds; began = performance.now();
      report(stage, from);
    },
    done() { clearInterval(timer); },
  };
}

// Python with chainrule importable; `report(stage, fraction)` hears the progress, and
// `timings` gets the milliseconds each step ended at, from the call.
export async function startPython(report = () => {}, timings = {}) {
  const progress = stages(report);
  const started = performance.now();
  try {
    progress.enter("Downloading and starting Python (Pyodide)\u2026", 0.02, 0.8, 4000);
    const code = fetch(new URL("./chainrule.zip", import.meta.url));
    const pyodide = await loadPyodide({
      indexURL: new URL("./pyodide/", import.meta.url).href,
      stdout: (line) => console.log(line),
      stderr: (line) => console.warn(line),
    });
    timings.runtime = Math.round(performance.now() - started);
    progress.enter("Loading chainrule\u2026", 0.8, 0.97, 1000);
    const archive = await code;
    if (!archive.ok) { throw new Error(`chainrule.zip: HTTP ${archive.status}`); }
    pyodide.unpackArchive(await archive.arrayBuffer(), "zip", { extractDir: HOME });
    pyodide.runPython(`import sys\nsys.path.insert(0, ${JSON.stringify(HOME)})`);
    timings.unpacked = Math.round(performance.now() - started);
    return pyodide;
  } finally {
    progress.done();
  }
}
