// chainrule playground, static site: the back end as a module Web Worker. The page posts
// {id, method, path, body (JSON text)}; the worker answers {id, status, answer (JSON text)}
// by calling playground/browser.py, which calls the same handlers as the HTTP server
// (playground/api.py). Before that it posts {progress, stage} while Python starts, then
// {ready, milliseconds, timings} (when Python was up, chainrule unpacked, imported), or
// {failed} with what went wrong.
//
// Messages are answered one at a time, in order: a training request trains for the time
// it asks (the page asks for 10 ms at a time while playing, one epoch at least), and the
// page draws the answer while the worker already trains on the next request, so the page
// never waits.
import { startPython } from "./python.mjs";

const started = performance.now();
let answer = null;  // playground.browser.answer, once Python is ready
let idle = null;    // playground.browser.idle: work for when no message waits
let viz = null;     // Graphviz in WebAssembly, loaded on the first chain-rule picture
const queue = [];

async function picture(dot) {
  if (!viz) {
    const { instance } = await import("./viz/viz.js");
    viz = await instance();
  }
  return viz.renderString(dot, { format: "svg" });
}

async function reply(message) {
  const result = answer(message.method, message.path, message.body);
  const [status, text] = result.toJs();
  result.destroy();
  let body = text;
  if (status === 200 && message.path === "/api/chain-rule") {
    const view = JSON.parse(text);
    if (!view.svg && view.dot) {
      const svg = await picture(view.dot);
      view.svg = svg.slice(svg.indexOf("<svg"));
      if ("missing" in view) { view.missing = null; }  // what the server lacked: drawn here
    }
    body = JSON.stringify(view);
  }
  postMessage({ id: message.id, status, answer: body });
}

let running = false;
async function drain() {
  if (running || !answer) { return; }
  running = true;
  while (queue.length) {
    const message = queue.shift();
    try {
      await reply(message);
    } catch (error) {
      postMessage({ id: message.id, status: 500,
                    answer: JSON.stringify({ error: `internal error: ${error.message}` }) });
    }
    if (!queue.length) {  // every answer is out: build a new model's step now
      try { idle(); } catch (error) { /* the next training request reports it */ }
    }
  }
  running = false;  // no await since the queue was seen empty: no message is left behind
}

onmessage = (event) => {
  queue.push(event.data);
  drain();
};

try {
  const timings = {};
  const pyodide = await startPython((stage, progress) => postMessage({ stage, progress }),
                                    timings);
  const browser = pyodide.pyimport("playground.browser");
  answer = browser.answer;
  idle = browser.idle;
  const milliseconds = Math.round(performance.now() - started);
  postMessage({ ready: true, milliseconds, timings: { ...timings, imported: milliseconds } });
  drain();
} catch (error) {
  postMessage({ failed: String(error && error.message || error) });
}
