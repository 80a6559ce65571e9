// chainrule playground: the page's one seam to its back end. request(method, path, body)
// returns a Promise of the answer's JSON, or rejects with an Error carrying status and
// parameter. Two back ends answer it with the same Python handlers (playground/api.py):
//   data-backend="http"    the server of `python -m playground`, over fetch
//   data-backend="worker"  the static site: a module Web Worker running api.py in Pyodide
// (`python -m playground build` sets the attribute on this script's tag).
(function () {
  "use strict";

  var script = document.currentScript;
  var mode = script && script.dataset.backend === "worker" ? "worker" : "http";
  var base = new URL(".", script ? script.src : location.href);  // where static/ is

  // What a request rejects with: an Error whose message is the server's, with its status,
  // error (the same text) and the parameter it names.
  function failure(status, answer) {
    var error = new Error(answer.error || "request failed (" + status + ")");
    error.error = error.message;
    error.parameter = answer.parameter;
    error.status = status;
    return error;
  }

  function overHTTP(method, path, body) {
    var options = {method: method, headers: {}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    // relative to the page, so that a page served under a prefix still reaches its server
    return fetch(path.replace(/^\//, ""), options).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { throw failure(response.status, answer); }
        return answer;
      });
    });
  }

  // ---- the worker: loading screen, then one message per request -------------------------

  var overlay = document.getElementById("loading");
  function show(text, fraction, failed) {
    if (!overlay) { return; }
    overlay.hidden = false;
    overlay.classList.toggle("failed", Boolean(failed));
    var message = overlay.querySelector(".loading-message");
    var bar = overlay.querySelector("progress");
    if (message) { message.textContent = text; }
    if (bar) {
      if (fraction === null) { bar.removeAttribute("value"); } else { bar.value = fraction; }
      bar.hidden = Boolean(failed);
    }
  }

  // What this browser lacks to run Python in a worker, or null.
  function missing() {
    if (location.protocol === "file:") {
      return "This page must be served over HTTP (python -m http.server -d SITE), " +
        "not opened as a file: browsers do not let a file start a Web Worker.";
    }
    if (typeof WebAssembly !== "object") { return "This browser cannot run WebAssembly."; }
    if (typeof Worker !== "function") { return "This browser cannot run Web Workers."; }
    return null;
  }

  var waiting = {};  // request id -> {resolve, reject}
  var nextId = 1;
  var worker = null;
  var ready = null;

  function startWorker() {
    var lacking = missing();
    if (lacking) {
      show(lacking + " The playground cannot start here; `python demo.py --serve` runs " +
           "it with a Python server instead.", null, true);
      return Promise.reject(failure(503, {error: lacking}));
    }
    show("Starting Python in your browser\u2026", 0.02);
    return new Promise(function (resolve, reject) {
      function fail(text) {
        show("The playground could not start: " + text, null, true);
        reject(failure(503, {error: text}));
      }
      try {
        worker = new Worker(new URL("worker.mjs", base), {type: "module"});
      } catch (e) {
        fail("this browser cannot start a module Web Worker (" + e.message + ").");
        return;
      }
      worker.onerror = function (event) {
        fail((event.message || "the worker's script failed to load") +
             " (this browser may not run module Web Workers).");
      };
      worker.onmessage = function (event) {
        var message = event.data;
        if (message.progress !== undefined) {
          show(message.stage, message.progress);
        } else if (message.ready) {
          show("Python is ready: setting up the network\u2026", 1);
          window.chainruleBackend.loadedIn = message.milliseconds;
          window.chainruleBackend.loadTimes = message.timings;
          resolve();
        } else if (message.failed) {
          fail(message.failed);
        } else {
          var pending = waiting[message.id];
          delete waiting[message.id];
          var answer = JSON.parse(message.answer);
          if (message.status === 200) { pending.resolve(answer); }
          else { pending.reject(failure(message.status, answer)); }
          // The screen stays until the first answer (the page's session) has been handled:
          // the page's own reaction runs before the next click can, as a microtask now.
          if (overlay && !overlay.classList.contains("failed")) { overlay.hidden = true; }
        }
      };
    });
  }

  function inWorker(method, path, body) {
    if (!ready) { ready = startWorker(); }
    return ready.then(function () {
      return new Promise(function (resolve, reject) {
        var id = nextId++;
        waiting[id] = {resolve: resolve, reject: reject};
        worker.postMessage({id: id, method: method, path: path,
                            body: body === undefined ? null : JSON.stringify(body)});
      });
    });
  }

  window.chainruleBackend = {
    mode: mode,
    request: mode === "worker" ? inWorker : overHTTP,
    loadedIn: null,  // milliseconds from the worker's start to chainrule imported
    loadTimes: null,  // {runtime, unpacked, imported}: when each step of that ended
  };
  if (mode === "worker") { ready = startWorker(); }
})();
