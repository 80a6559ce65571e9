// chainrule playground: the page's side. The server trains and measures; this script keeps
// asking it to train for a short time budget while playing, and draws from the weights each
// answer brings: the decision boundary at GRID x GRID cells and every neuron's map are
// computed here, on every animation frame that has new weights. Every setting is checked by
// the server: an error it returns is shown beside the control it names.
(function () {
  "use strict";

  var SETTINGS = ["dataset", "noise", "points", "train_fraction", "seed", "features", "hidden",
                  "activation", "optimizer", "lr", "batch_size", "regularization",
                  "regularization_rate"];
  var GRID = 100;   // cells per side of the boundary (and of a hovered neuron's map)
  var MAP = 50;     // cells per side of each neuron's little map (every other cell)
  var CURVE = 200;  // points along the x axis for a model of one input
  var BUDGET_MS = 10;  // each training request trains for about this long (one epoch at least)
  var IN_FLIGHT = 1;  // training requests out at once while playing: see loop()
  var EXPLAIN_EVERY_MS = 1000;  // the chain-rule view follows training this often
  var COLOURS = [[245, 147, 34], [8, 119, 189], [44, 160, 44]];  // class 0, 1, 2
  var POINTS = [[214, 110, 0], [0, 84, 150], [20, 120, 20]];  // darker, to stand out
  var NEGATIVE = COLOURS[0], POSITIVE = COLOURS[1];

  // The input features, as session.py computes them from a point (x1, x2) of the plane.
  var FEATURES = {
    "x1": function (a) { return a; },
    "x2": function (a, b) { return b; },
    "x1^2": function (a) { return a * a; },
    "x2^2": function (a, b) { return b * b; },
    "x1*x2": function (a, b) { return a * b; },
    "sin(x1)": function (a) { return Math.sin(a); },
    "sin(x2)": function (a, b) { return Math.sin(b); }
  };

  // erf to about 1e-15: its Taylor series near 0, a continued fraction for erfc beyond.
  function erf(x) {
    var a = Math.abs(x);
    if (a < 2) {
      var term = x, sum = x, x2 = x * x;
      for (var n = 1; n < 60; n++) {
        term *= -x2 / n;
        var t = term / (2 * n + 1);
        sum += t;
        if (Math.abs(t) < 1e-17 * Math.abs(sum)) { break; }
      }
      return sum * 1.1283791670955126;  // 2 / sqrt(pi)
    }
    if (a > 6) { return x > 0 ? 1 : -1; }
    var f = a;
    for (var k = 80; k >= 1; k--) { f = a + (k / 2) / f; }
    var r = Math.exp(-a * a) / (1.7724538509055159 * f);  // sqrt(pi)
    return x > 0 ? 1 - r : r - 1;
  }

  // Each activation on z = w . x + b, written as engine/ieee.py and engine/fused.py write it.
  var ACTIVATIONS = {
    "relu": function (z) { return z < 0 ? 0 : z; },
    "tanh": Math.tanh,
    "sigmoid": function (z) { return 1 / (1 + Math.exp(-z)); },
    "leaky_relu": function (z) { return z > 0 ? z : z * 0.01; },
    "elu": function (z) { return !(z <= 0) ? z : Math.expm1(z) * 1.0; },
    "softplus": function (z) { return z > 20 ? z : Math.log1p(Math.exp(z)); },
    "gelu": function (z) { return z * 0.5 * (1 + erf(z * Math.SQRT1_2)); }
  };
  function identity(z) { return z; }

  var session = null;
  var defaults = {};
  var choices = null;
  var state = null;
  var playing = false;
  var flying = 0;  // training requests sent while playing and not yet answered
  var firstAfterPlay = false;  // the next training request is the first since play
  var inFlight = Promise.resolve();  // the last training request, once answered
  var selectedPoint = null;  // null: the chain rule picks the point of largest loss
  var selectedNeuron = null;
  var hovered = null;  // [layer, neuron] shown full size in the output, or null
  var networkShape = "";
  var drawnFeatures = "";  // the shape whose input features' maps are drawn
  var frames = 0;  // redraws of the boundary, read by tests to measure the update rate
  var pixelOf = null;  // where the last drawing put a point: [x, y] -> canvas pixel
  var mapSquares = {};  // node id -> where its map goes in the network's one map canvas
  var generation = 0;  // counts restarts: an answer about an older model is not drawn
  var dirty = false;  // new numbers to draw at the next animation frame
  var controlsFromState = false;  // the next frame writes the state's settings in the controls
  var grid = null;  // the last evaluation of the network: see evaluate()
  var explaining = false, lastExplained = 0;
  var timings = {};  // how long the page took to show what an action asked for, in ms
  var pending = null;  // [name, started]: the action whose first changed picture is awaited
  var editing = null;  // the weight being edited: [layer, neuron, input or null]

  function $(id) { return document.getElementById(id); }
  function controlOf(name) { return $(name.replace(/\[.*$/, "").replace(/_/g, "-")); }

  // ---- talking to the server: request() is the one place that does -----------------------

  // A Promise of the answer's JSON; rejects with {status, error, parameter, message}.
  function request(method, path, body) {
    return window.chainruleBackend.request(method, path, body);  // backend.js: HTTP or worker
  }

  function showError(error) {
    var box = $("error");
    document.querySelectorAll(".invalid").forEach(function (el) {
      el.classList.remove("invalid");
    });
    if (!error) {
      box.hidden = true;
      box.textContent = "";
      return;
    }
    var control = error.parameter ? controlOf(error.parameter) : null;
    if (control) { control.classList.add("invalid"); }
    box.textContent = (error.parameter ? error.parameter + ": " : "") +
      (error.message || error.error || String(error));
    box.hidden = false;
  }

  function note(text) {
    var box = $("note");
    box.textContent = text || "";
    box.hidden = !text;
  }

  // A closed session (expired, evicted, or a restarted server) is replaced by a new one
  // with the page's settings, once, and the page says so; any other error is passed on.
  function withSession(call) {
    return call().catch(function (error) {
      if (error && error.status === 404 && error.parameter === "session") {
        session = null;
        return start(readControls()).then(function () {
          note("Your session was closed after a while without requests (or the server " +
               "restarted); started a new one with the same settings.");
          return call();
        });
      }
      throw error;
    });
  }

  function start(settings) {
    var body = {settings: settings};
    var previous = null;
    try { previous = sessionStorage.getItem("chainrule-session"); } catch (e) { /* none */ }
    if (previous && session === undefined) { body.session = previous; }
    return request("POST", "/api/session", body).then(function (answer) {
      session = answer.session;
      try { sessionStorage.setItem("chainrule-session", session); } catch (e) { /* none */ }
      setUp(answer.choices);
      receive(answer.state, true);
      return answer;
    });
  }

  // Data, features or shape: a new model. Learning rate, optimizer, regularization or batch
  // size (``live``): the server keeps the model and training goes on.
  function configure(settings, live, action) {
    var wasPlaying = playing;
    if (!live) { stop(); }
    generation += 1;
    pending = [action || "configure", performance.now()];
    return withSession(function () {
      return request("POST", "/api/configure", {session: session, settings: settings,
                                                 live: !!live});
    }).then(function (answer) {
      showError(null);
      if (answer.reset) {
        selectedPoint = null;
        clearChainRule();
      }
      receive(answer.state, answer.reset, true);
      if (live && wasPlaying && !playing) { play(); }
    }).catch(function (error) {
      pending = null;
      showError(error);
      if (state) { writeControls(state.settings); }  // every bad field reverts
    });
  }

  function train(epochs, milliseconds) {
    var asked = generation;
    return withSession(function () {
      return request("POST", "/api/train", {session: session, epochs: epochs,
                                             milliseconds: milliseconds});
    }).then(function (answer) {
      if (asked === generation) { receive(answer.state, false); }
      return answer;
    });
  }

  // ---- controls and the address ----------------------------------------------------------

  function fillSelect(select, names) {
    if (select.options.length) { return; }
    names.forEach(function (name) {
      var option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      select.appendChild(option);
    });
  }

  function setUp(given) {
    if (!given) { return; }
    choices = given;
    defaults = given.defaults;
    fillSelect($("dataset"), Object.keys(given.datasets));
    fillSelect($("activation"), given.activations);
    fillSelect($("optimizer"), given.optimizers);
    fillSelect($("regularization"), given.regularizations);
    $("points").max = given.limits.points;
    $("batch-size").max = given.limits.points;
  }

  function readControls() {
    var settings = {};
    SETTINGS.forEach(function (name) { settings[name] = controlOf(name).value; });
    return settings;
  }

  function writeControls(settings) {
    SETTINGS.forEach(function (name) { controlOf(name).value = settings[name]; });
  }

  function settingsFromAddress() {
    var query = new URLSearchParams(location.search);
    var settings = {};
    SETTINGS.forEach(function (name) {
      if (query.has(name)) { settings[name] = query.get(name); }
    });
    return settings;
  }

  var addressWritten = "";
  function writeAddress(settings) {
    if (settings.dataset === "custom") { return; }  // the points are not in the address
    var asked = JSON.stringify(settings);
    if (asked === addressWritten) { return; }  // at every frame while training: unchanged
    addressWritten = asked;
    var query = new URLSearchParams(location.search);
    SETTINGS.forEach(function (name) {
      if (String(settings[name]) !== String(defaults[name])) { query.set(name, settings[name]); }
      else { query.delete(name); }
    });
    query.delete("autoplay");
    var text = query.toString();
    history.replaceState(null, "", location.pathname + (text ? "?" + text : ""));
  }

  // Classroom mode: ?hide=noise,points,text hides those controls (by setting name or the
  // element's id) and, with "text", the explanations; a teacher links to one lesson.
  function applyHiding() {
    var hide = new URLSearchParams(location.search).get("hide");
    if (!hide) { return; }
    hide.split(",").forEach(function (name) {
      name = name.trim();
      if (name === "text") {
        document.querySelectorAll(".help, .explanation, .tagline").forEach(function (el) {
          el.hidden = true;
        });
        return;
      }
      var control = controlOf(name) || $(name);
      if (!control) { return; }
      var holder = control.closest("label") || control;
      holder.hidden = true;
      holder.classList.add("hidden-by-teacher");
    });
  }

  // ---- playing ---------------------------------------------------------------------------

  function play() {
    if (playing) { return; }
    playing = true;
    firstAfterPlay = true;
    pending = ["play", performance.now()];
    $("play").textContent = "\u25A0 pause";
    loop();
  }

  function stop() {
    playing = false;
    $("play").textContent = "\u25B6 play";
  }

  function pause() {
    stop();
    inFlight.then(function () {
      if (selectedNeuron) { explain(selectedNeuron[0], selectedNeuron[1]); }
    });
  }

  // While playing, IN_FLIGHT requests are out at once, and the next leaves as soon as one is
  // answered: the server trains while the page draws. One, because two (the server trains
  // all the time) left less of a loaded 2-core machine to the page and fewer redraws
  // (bench/README.md). The first request after play trains one epoch alone, so that the
  // first changed picture does not wait for a whole budget.
  function loop() {
    while (playing && flying < IN_FLIGHT) {
      sendTraining(firstAfterPlay ? 1 : 100);
      firstAfterPlay = false;
    }
  }

  function sendTraining(epochs) {
    flying += 1;
    var asked = generation;
    inFlight = withSession(function () {
      return request("POST", "/api/train", {session: session, epochs: epochs,
                                             milliseconds: BUDGET_MS});
    }).then(function (answer) {
      flying -= 1;
      if (answer.trained === 0) { stop(); }  // the epoch limit
      // An answer about the same or an earlier epoch than the picture's (one that left
      // before an edited weight's answer, or overtaken by another) has nothing new to draw.
      if (asked === generation && answer.state.epoch > state.epoch) {
        receive(answer.state, false);
      }
      loop();
      followChainRule();
    }).catch(function (error) {
      flying -= 1;
      stop();
      showError(error);
    });
  }

  // ---- the network, evaluated here -------------------------------------------------------

  // The numbers of the network, from the state: weights as Float64Arrays, per layer.
  function networkOf(s) {
    var net = s.network;
    return {
      features: net.features.map(function (name) { return FEATURES[name]; }),
      layers: net.weights.map(function (rows, l) {
        return {
          nin: rows.length ? rows[0].length : 0, nout: rows.length,
          w: Float64Array.from([].concat.apply([], rows).map(nullToNaN)),
          b: Float64Array.from(net.biases[l].map(nullToNaN)),
          act: net.activations[l] ? ACTIVATIONS[net.activations[l]] : identity
        };
      })
    };
  }

  function nullToNaN(v) { return v === null ? NaN : v; }

  // The input features at every point of ``points`` (x1, x2 pairs, or x1 alone): a
  // Float64Array of points x features, row by row.
  function featuresAt(features, points) {
    var n = points.length, inputs = features.length;
    var h = new Float64Array(n * inputs);
    for (var p = 0; p < n; p++) {
      var x1 = points[p][0], x2 = points[p].length > 1 ? points[p][1] : 0;
      for (var f = 0; f < inputs; f++) { h[p * inputs + f] = features[f](x1, x2); }
    }
    return h;
  }

  // Every layer's outputs at the n points whose features are ``h`` (featuresAt):
  // outputs[l] is a Float64Array of points x width, row by row. The same sums in the same
  // order as engine.linear: z = w1 x1 + ... + wn xn, then + b, then the activation.
  function forward(network, h, n) {
    var outputs = [], width = network.features.length;
    for (var l = 0; l < network.layers.length; l++) {
      var out = layerAt(network.layers[l], h, n, width);
      outputs.push(out);
      h = out;
      width = network.layers[l].nout;
    }
    return outputs;
  }

  // One layer at n points (inputs h, ``width`` each): a function of its own, with only
  // locals in its loops, which the script engine compiles to tight machine code.
  // tanh and no activation are written out: one call site shared by every activation
  // would be polymorphic, and the script engine would call tanh instead of inlining it.
  function layerAt(layer, h, n, width) {
    var nout = layer.nout, w = layer.w, b = layer.b, act = layer.act;
    var tanh = act === Math.tanh, none = act === identity;
    var out = new Float64Array(n * nout);
    for (var q = 0; q < n; q++) {
      var base = q * width;
      for (var j = 0; j < nout; j++) {
        var z = 0, row = j * width;
        for (var i = 0; i < width; i++) { z += w[row + i] * h[base + i]; }
        z += b[j];
        out[q * nout + j] = tanh ? Math.tanh(z) : none ? z : act(z);
      }
    }
    return out;
  }

  // The points the page evaluates: cell centres of a GRID x GRID square over the plane, row
  // by row from the top, or CURVE points along the x axis.
  function cellsOf(s) {
    var e = s.extent, cells = [];
    if (s.inputs === 1) {
      for (var k = 0; k < CURVE; k++) { cells.push([-e + 2 * e * k / (CURVE - 1)]); }
      return cells;
    }
    var step = 2 * e / GRID;
    for (var r = 0; r < GRID; r++) {
      var y = e - step * (r + 0.5);
      for (var c = 0; c < GRID; c++) { cells.push([-e + step * (c + 0.5), y]); }
    }
    return cells;
  }

  // The cells and their input features depend on the plane and the features alone, not on
  // the weights: made once for each, not at every redraw while training.
  var plane = {key: null, cells: null, inputs: null};
  function evaluate(s) {
    var network = networkOf(s);
    var key = s.extent + "|" + s.inputs + "|" + s.network.features.join();
    if (plane.key !== key) {
      var cells = cellsOf(s);
      plane = {key: key, cells: cells, inputs: featuresAt(network.features, cells)};
    }
    return {cells: plane.cells, outputs: forward(network, plane.inputs, plane.cells.length),
            widths: s.network.widths.slice(1)};
  }

  // ---- receiving and drawing -------------------------------------------------------------

  // A new state to draw. Only the answers that set the settings (a start, a configure, own
  // points) write them into the controls: a training answer that left before a change of
  // the learning rate may arrive after it, and must not undo what the user just chose.
  function receive(s, reset, settingsChanged) {
    if (!s.points) { s.points = state.points; }  // a training answer: the same points
    if (reset || settingsChanged) { controlsFromState = true; }
    state = s;
    dirty = true;
    if (reset) { networkShape = drawnFeatures = ""; }
    $("epoch").textContent = String(s.epoch);
  }

  function frame() {
    if (dirty && state) {
      dirty = false;
      var started = performance.now();
      draw(state);
      timings.draw = performance.now() - started;
      if (pending) {
        timings[pending[0]] = performance.now() - pending[1];
        pending = null;
      }
    }
    requestAnimationFrame(frame);
  }

  function mix(a, b, t) {
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  }

  // -1 .. 1 -> orange .. white .. blue, a little faded so points stay visible. Colours come
  // from tables made once, so that painting 10,000 cells allocates nothing.
  var LEVELS = 256;
  var GREY = [200, 200, 200];
  var DIVERGING = [];
  for (var level = 0; level < LEVELS; level++) {
    var t = 2 * level / (LEVELS - 1) - 1;
    DIVERGING.push(t < 0 ? mix([255, 255, 255], NEGATIVE, -t * 0.7) :
      mix([255, 255, 255], POSITIVE, t * 0.7));
  }
  var CLASS_SHADES = COLOURS.map(function (colour) {
    var shades = [];
    for (var k = 0; k < LEVELS; k++) {
      shades.push(mix([255, 255, 255], colour, 0.25 + 0.6 * k / (LEVELS - 1)));
    }
    return shades;
  });

  function diverging(v) {
    if (v === null || isNaN(v)) { return GREY; }
    v = v < -1 ? -1 : v > 1 ? 1 : v;
    return DIVERGING[Math.round((v + 1) * (LEVELS - 1) / 2)];
  }

  // Where a picture goes: a canvas, and the rectangle of it (in its own pixels) to fill,
  // faded by ``alpha``. The boundary fills its canvas; the network's maps share one canvas
  // (see buildNetwork), each in the square of its neuron.
  function whole(canvas) {
    return {canvas: canvas, x: 0, y: 0, width: canvas.width, height: canvas.height, alpha: 1};
  }

  var scratch = {};
  function paintCells(to, colourAt, side) {
    var small = scratch[side];
    if (!small) {
      var made = document.createElement("canvas");
      made.width = side;
      made.height = side;
      var context = made.getContext("2d");
      small = scratch[side] = {canvas: made, context: context,
                               image: context.createImageData(side, side)};
    }
    var data = small.image.data;
    for (var i = 0; i < side * side; i++) {
      var c = colourAt(i);
      data[4 * i] = c[0];
      data[4 * i + 1] = c[1];
      data[4 * i + 2] = c[2];
      data[4 * i + 3] = 255;
    }
    small.context.putImageData(small.image, 0, 0);
    var target = to.canvas.getContext("2d");
    target.imageSmoothingEnabled = true;
    target.globalAlpha = to.alpha;
    target.clearRect(to.x, to.y, to.width, to.height);
    target.drawImage(small.canvas, to.x, to.y, to.width, to.height);
    target.globalAlpha = 1;
  }

  function discretized() { return $("discretize").checked; }

  // The colour of the model's answer at cell i of the grid.
  function outputColour(s, g) {
    var last = g.outputs[g.outputs.length - 1], k = s.network.widths[s.network.widths.length - 1];
    var sharp = discretized();
    if (s.task === "regression") {
      var top = targetScale(s);
      return function (i) { return diverging(sharp ? Math.sign(last[i]) : last[i] / top); };
    }
    if (k === 1) {
      return function (i) {
        var z = last[i];
        if (isNaN(z)) { return GREY; }
        var p = 1 / (1 + Math.exp(-z));
        return diverging(sharp ? (p >= 0.5 ? 1 : -1) : 2 * p - 1);
      };
    }
    return function (i) {
      var best = 0, top = -Infinity, total = 0;
      for (var c = 0; c < k; c++) { if (last[i * k + c] > top) { top = last[i * k + c]; best = c; } }
      if (!isFinite(top)) { return GREY; }
      for (c = 0; c < k; c++) { total += Math.exp(last[i * k + c] - top); }
      var confidence = 1 / total;
      var strength = sharp ? 1 : Math.max(0, (confidence - 1 / k) / (1 - 1 / k));
      return CLASS_SHADES[best % COLOURS.length][Math.round(strength * (LEVELS - 1))];
    };
  }

  function targetScale(s) {
    var top = 1e-12;
    s.points.train.forEach(function (p) { top = Math.max(top, Math.abs(p[p.length - 1])); });
    return top;
  }

  function toPixel(canvas, extent, x, y) {
    return [(x + extent) / (2 * extent) * canvas.width,
            (extent - y) / (2 * extent) * canvas.height];
  }

  function pointColour(s, p) {
    if (s.task !== "regression") { return POINTS[p[p.length - 1] % 3]; }
    if (s.inputs === 1) { return [80, 80, 80]; }
    var v = p[p.length - 1] / targetScale(s);
    return v < 0 ? mix([120, 120, 120], POINTS[0], Math.min(1, -v)) :
      mix([120, 120, 120], POINTS[1], Math.min(1, v));
  }

  function drawPoints(canvas, s, toXY) {
    var context = canvas.getContext("2d");
    var parts = $("show-test").checked ? ["train", "test"] : ["train"];
    parts.forEach(function (part) {
      s.points[part].forEach(function (p, i) {
        var xy = toXY(p);
        context.beginPath();
        context.arc(xy[0], xy[1], part === "train" ? 3.5 : 4, 0, 2 * Math.PI);
        context.fillStyle = "rgb(" + pointColour(s, p).join(",") + ")";
        context.fill();
        context.lineWidth = part === "train" ? 1 : 1.5;
        context.strokeStyle = part === "train" ? "#fff" : "#000";
        context.stroke();
        if (part === "train" && i === selectedPoint) {
          context.beginPath();
          context.arc(xy[0], xy[1], 8, 0, 2 * Math.PI);
          context.lineWidth = 2;
          context.strokeStyle = "#d62728";
          context.stroke();
        }
      });
    });
  }

  function curveRange(s, ys) {
    var all = Array.prototype.slice.call(ys).concat(
      s.points.train.map(function (p) { return p[1]; }),
      s.points.test.map(function (p) { return p[1]; })).filter(isFinite);
    var low = Math.min.apply(null, all), high = Math.max.apply(null, all);
    var pad = (high - low) * 0.1 || 1;
    return [Math.max(low - pad, -1e6), Math.min(high + pad, 1e6)];
  }

  // The values of one neuron over the grid: column j of layer l's outputs.
  function column(g, layer, j) {
    var width = g.widths[layer], all = g.outputs[layer], n = g.cells.length;
    var out = new Float64Array(n);
    for (var i = 0; i < n; i++) { out[i] = all[i * width + j]; }
    return out;
  }

  function drawBoundary(s, g) {
    var canvas = $("boundary");
    var context = canvas.getContext("2d");
    var showing = hovered ? column(g, hovered[0], hovered[1]) : null;
    if (s.inputs === 1) {
      var ys = showing || column(g, g.outputs.length - 1, 0);
      var range = curveRange(s, ys);
      var toXY = function (p) {
        return [(p[0] + s.extent) / (2 * s.extent) * canvas.width,
                (range[1] - p[1]) / (range[1] - range[0]) * canvas.height];
      };
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      drawPoints(canvas, s, toXY);
      pixelOf = toXY;
      context.beginPath();
      for (var i = 0; i < g.cells.length; i++) {
        var xy = toXY([g.cells[i][0], ys[i]]);
        if (i === 0) { context.moveTo(xy[0], xy[1]); } else { context.lineTo(xy[0], xy[1]); }
      }
      context.strokeStyle = "rgb(" + POSITIVE.join(",") + ")";
      context.lineWidth = 2.5;
      context.stroke();
    } else {
      var colourAt = outputColour(s, g);
      if (showing) {
        var scale = largest(showing);
        colourAt = function (i) {
          return diverging(discretized() ? Math.sign(showing[i]) : showing[i] / scale);
        };
      }
      paintCells(whole(canvas), colourAt, GRID);
      pixelOf = function (p) { return toPixel(canvas, s.extent, p[0], p[1]); };
      drawPoints(canvas, s, pixelOf);
    }
    frames += 1;
    canvas.setAttribute("data-frames", String(frames));
    canvas.setAttribute("data-dataset", s.settings.dataset);
    canvas.setAttribute("data-epoch", String(s.epoch));
    $("showing").textContent = hovered ? "showing " + neuronName(hovered[0], hovered[1]) +
      " (hovered)" : "showing the network's output";
  }

  function largest(values) {
    var top = 1e-12;
    for (var i = 0; i < values.length; i++) {
      if (isFinite(values[i])) { top = Math.max(top, Math.abs(values[i])); }
    }
    return top;
  }

  function drawLosses(s) {
    var canvas = $("loss-chart");
    var context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    var h = s.history;
    if (h.epoch.length < 1) { return; }
    var values = h.train_loss.concat(h.test_loss).filter(function (v) { return v !== null; });
    var top = Math.max.apply(null, values.concat([1e-9]));
    var last = Math.max(h.epoch[h.epoch.length - 1], 1);
    [["train_loss", "#333"], ["test_loss", "#e8710a"]].forEach(function (line) {
      context.beginPath();
      h[line[0]].forEach(function (v, i) {
        if (v === null) { return; }
        var x = 4 + (canvas.width - 8) * h.epoch[i] / last;
        var y = canvas.height - 4 - (canvas.height - 8) * Math.min(v / top, 1);
        if (i === 0) { context.moveTo(x, y); } else { context.lineTo(x, y); }
      });
      context.strokeStyle = line[1];
      context.lineWidth = 1.5;
      context.stroke();
    });
  }

  function number(v, digits) {
    return v === null || v === undefined ? "\u2013" : Number(v).toFixed(digits);
  }

  // 4 significant digits, small and large numbers in exponent form (gradients get tiny)
  function significant(v) {
    if (v === null || v === undefined) { return "\u2013"; }
    var size = Math.abs(v);
    if (v === 0) { return "0"; }
    return size < 1e-3 || size >= 1e5 ? Number(v).toExponential(3) : String(Number(v.toPrecision(4)));
  }

  function drawMetrics(s) {
    var m = s.metrics;
    $("train-loss").textContent = number(s.train_loss, 4);
    $("test-loss").textContent = number(s.test_loss, 4);
    document.body.classList.toggle("task-regression", s.task === "regression");
    document.body.classList.toggle("task-classification", s.task !== "regression");
    var diverged = s.diverged || s.network.weights.some(function (m) {
      return m.some(function (row) { return row.some(function (w) { return w === null; }); });
    });
    $("diverged").hidden = !diverged;
    if (s.diverged) { $("diverged").textContent = s.diverged + " and press reset."; }
    if (s.task === "regression") {
      $("test-r2").textContent = number(m.r2, 3);
      $("test-mae").textContent = number(m.mae, 4);
      $("test-mse").textContent = number(m.mse, 4);
      return;
    }
    $("test-accuracy").textContent = number(m.accuracy, 3);
    $("test-precision").textContent = number(m.precision, 3);
    $("test-recall").textContent = number(m.recall, 3);
    $("test-f1").textContent = number(m.f1, 3);
    $("test-roc-auc").textContent = number(m.roc_auc, 3);
    var table = $("confusion-matrix");
    table.textContent = "";
    var caption = table.createCaption();
    caption.textContent = "confusion matrix (rows: true, columns: predicted)";
    var head = table.insertRow();
    head.appendChild(document.createElement("th"));
    m.confusion_matrix.forEach(function (_, j) {
      var th = document.createElement("th");
      th.textContent = String(j);
      head.appendChild(th);
    });
    m.confusion_matrix.forEach(function (row, i) {
      var tr = table.insertRow();
      var th = document.createElement("th");
      th.textContent = String(i);
      tr.appendChild(th);
      row.forEach(function (n) { tr.insertCell().textContent = String(n); });
    });
  }

  // ---- the network diagram ----------------------------------------------------------------

  var SVG = "http://www.w3.org/2000/svg";

  function neuronName(layer, j) {
    var last = state && layer === state.network.weights.length - 1;
    return (last ? "output" : "layer " + (layer + 1)) + ", neuron " + (j + 1);
  }

  // The features the data set has (x2's only for a plane), in the page's order.
  function availableFeatures(s) {
    return choices.features.filter(function (f) { return s.inputs === 2 || f.indexOf("x2") < 0; });
  }

  // Boxes and their places: each column's boxes evenly spaced, small enough that the
  // tallest column fits without two boxes touching (at 16 neurons, 22 px boxes 6 px apart).
  function layout(columns, width) {
    var tallest = Math.max.apply(null, columns);
    var box = tallest > 10 ? 22 : tallest > 7 ? 30 : 36;
    var step = box + (tallest > 10 ? 6 : 10);
    var height = Math.max(300, tallest * step + 20);
    var gap = (width - box - 70) / Math.max(columns.length - 1, 1);
    return {box: box, height: height, spots: columns.map(function (n, c) {
      var top = (height - step * (n - 1) - box) / 2;
      var spots = [];
      for (var j = 0; j < n; j++) { spots.push([60 + c * gap, top + j * step]); }
      return spots;
    })};
  }

  function buildNetwork(s) {
    var net = s.network;
    var box = $("network");
    box.textContent = "";
    var features = availableFeatures(s);
    var width = box.clientWidth || 480;
    var plan = layout([features.length].concat(net.widths.slice(1)), width);
    var spots = plan.spots, size = plan.box;
    box.style.height = plan.height + "px";
    var edges = document.createElementNS(SVG, "svg");
    edges.setAttribute("class", "edges");
    edges.setAttribute("width", String(width));
    edges.setAttribute("height", String(plan.height));
    box.appendChild(edges);
    // Every node's map is drawn into one canvas under the nodes: a canvas each (26 for
    // 2-8-8-3 and seven inputs) made the browser composite 26 layers at every frame.
    var maps = document.createElement("canvas");
    var ratio = window.devicePixelRatio || 1;
    maps.className = "maps";
    maps.width = Math.round(width * ratio);
    maps.height = Math.round(plan.height * ratio);
    maps.style.width = width + "px";
    maps.style.height = plan.height + "px";
    box.appendChild(maps);
    mapSquares = {};
    var active = net.features;
    for (var layer = 1; layer < spots.length; layer++) {
      var weights = layer - 1;  // the layer of weights these lines draw (read by the clicks)
      spots[layer].forEach(function (to, j) {
        var l = weights;
        var sources = l === 0 ? active.map(function (f) {
          return spots[0][features.indexOf(f)];
        }) : spots[layer - 1];
        sources.forEach(function (from, i) {
          // The line drawn, and a wider invisible one over it that takes the mouse.
          var name = "edge-" + l + "-" + j + "-" + i;
          [name, name + "-hit"].forEach(function (id, hit) {
            var line = document.createElementNS(SVG, "line");
            line.setAttribute("x1", String(from[0] + size));
            line.setAttribute("y1", String(from[1] + size / 2));
            line.setAttribute("x2", String(to[0]));
            line.setAttribute("y2", String(to[1] + size / 2));
            line.setAttribute("id", id);
            line.setAttribute("class", hit ? "weight-hit" : "weight");
            if (hit) {
              line.appendChild(document.createElementNS(SVG, "title"));
              line.addEventListener("mouseenter", function () {  // the value, when asked
                var w = state.network.weights[l][j][i];
                line.firstChild.textContent = "weight " + significant(w) + " (from " +
                  (l === 0 ? state.network.features[i] : "neuron " + (i + 1)) + " to " +
                  neuronName(l, j) + "); click to edit";
              });
              line.addEventListener("click", function (event) {
                startEditing(event, l, j, i);
              });
            }
            edges.appendChild(line);
          });
        });
      });
    }
    spots.forEach(function (column, layer) {
      column.forEach(function (spot, j) {
        var node = document.createElement("div");
        node.style.left = spot[0] + "px";
        node.style.top = spot[1] + "px";
        node.style.width = node.style.height = size + "px";
        var square = {canvas: maps, x: Math.round((spot[0] + 1) * ratio),
                      y: Math.round((spot[1] + 1) * ratio), width: Math.round((size - 2) * ratio),
                      height: Math.round((size - 2) * ratio), alpha: 1};
        if (layer === 0) {
          var feature = features[j];
          var on = active.indexOf(feature) >= 0;
          square.alpha = on ? 1 : 0.35;  // as faded as the off feature's node
          mapSquares["feature-" + feature] = square;
          node.className = "feature" + (on ? " on" : " off");
          node.id = "feature-" + feature;
          node.setAttribute("data-feature", feature);
          node.title = feature + (on ? ": a feature the network sees; click to drop it" :
                                  ": click to give it to the network");
          var name = document.createElement("span");
          name.textContent = feature;
          node.appendChild(name);
          node.addEventListener("click", function () { toggleFeature(feature); });
        } else {
          node.className = "neuron";
          node.id = "neuron-" + (layer - 1) + "-" + j;
          mapSquares[node.id] = square;
          node.setAttribute("data-layer", String(layer - 1));
          node.setAttribute("data-neuron", String(j));
          node.title = neuronName(layer - 1, j) + ": click for its chain rule; hover to " +
            "see it full size";
          node.addEventListener("click", function () {
            explain(layer - 1, j);
            showTab("chain-rule");
          });
          node.addEventListener("mouseenter", function () { hover([layer - 1, j]); });
          node.addEventListener("mouseleave", function () { hover(null); });
          var bias = document.createElement("b");
          bias.className = "bias";
          bias.id = "bias-" + (layer - 1) + "-" + j;
          bias.addEventListener("click", function (event) {
            event.stopPropagation();
            startEditing(event, layer - 1, j, null);
          });
          node.appendChild(bias);
        }
        box.appendChild(node);
      });
    });
  }

  function hover(which) {
    hovered = which;
    if (state && grid) { drawBoundary(state, grid); }
  }

  // A map of ``count`` values for the cells of the grid (or the points of the curve): cell
  // i's is values[first + i * step]. Read straight from the array, with no function call
  // per cell: 19 maps of 10,000 cells are scanned at every redraw.
  function drawMap(to, values, first, step, count, oneInput, side) {
    var scale = 1e-12, i, v;
    for (i = 0; i < count; i++) {
      v = values[first + i * step];
      if (isFinite(v) && Math.abs(v) > scale) { scale = Math.abs(v); }
    }
    if (oneInput) {
      var context = to.canvas.getContext("2d");
      context.globalAlpha = to.alpha;
      context.fillStyle = "#fff";
      context.fillRect(to.x, to.y, to.width, to.height);
      context.beginPath();
      for (i = 0; i < count; i++) {
        v = values[first + i * step];
        var x = to.x + i / (count - 1) * to.width;
        var y = to.y + to.height / 2 - (isFinite(v) ? v / scale : 0) * to.height * 0.45;
        if (i === 0) { context.moveTo(x, y); } else { context.lineTo(x, y); }
      }
      context.strokeStyle = "#333";
      context.lineWidth = 2 * to.width / MAP;
      context.stroke();
      context.globalAlpha = 1;
      return;
    }
    var stride = GRID / side, sharp = discretized();
    paintCells(to, function (k) {
      var r = Math.floor(k / side), c = k % side;
      var value = values[first + ((r * stride) * GRID + c * stride) * step];
      return diverging(sharp ? Math.sign(value) : value / scale);
    }, side);
  }

  function featureValues(s, g, feature) {
    var f = FEATURES[feature];
    return g.cells.map(function (p) { return f(p[0], p.length > 1 ? p[1] : 0); });
  }

  function drawNetwork(s, g) {
    var net = s.network;
    var shape = availableFeatures(s).join() + "|" + net.features.join() + "|" + net.widths.join("-");
    if (shape !== networkShape) {
      buildNetwork(s);
      networkShape = shape;
    }
    var oneInput = s.inputs === 1, count = g.cells.length;
    if (shape !== drawnFeatures) {  // the features' maps never change: drawn once
      drawnFeatures = shape;
      availableFeatures(s).forEach(function (feature) {
        var values = featureValues(s, g, feature);
        drawMap(mapSquares["feature-" + feature], values, 0, 1, count,
                oneInput, MAP);
      });
    }
    var top = 1e-12;
    net.weights.forEach(function (m) {
      m.forEach(function (row) { row.forEach(function (w) { top = Math.max(top, Math.abs(w || 0)); }); });
    });
    net.weights.forEach(function (m, layer) {
      m.forEach(function (row, j) {
        row.forEach(function (w, i) {
          var line = $("edge-" + layer + "-" + j + "-" + i);
          // The look changes the picture only when it changes by a visible step: an SVG
          // attribute written is a repaint, and a frame has a hundred lines to write.
          var look = ((w || 0) >= 0 ? "+" : "-") +
            (0.5 + Math.round(20 * Math.abs(w || 0) / top) / 4).toFixed(2);
          if (line.getAttribute("data-look") === look) { return; }
          line.setAttribute("data-look", look);
          line.setAttribute("stroke", "rgb(" + (look[0] === "+" ? POSITIVE : NEGATIVE).join(",") + ")");
          line.setAttribute("stroke-width", look.slice(1));
        });
        var bias = $("bias-" + layer + "-" + j);
        var b = net.biases[layer][j];
        var background = "rgb(" + diverging(b / top).join(",") + ")";
        if (bias.style.background !== background) { bias.style.background = background; }
        var title = "bias " + significant(b) + "; click to edit";
        if (bias.title !== title) { bias.title = title; }
        var outputs = g.outputs[layer], width = g.widths[layer];
        drawMap(mapSquares["neuron-" + layer + "-" + j], outputs, j, width,
                count, oneInput, MAP);
      });
    });
    document.querySelectorAll(".neuron.selected").forEach(function (el) {
      el.classList.remove("selected");
    });
    if (selectedNeuron) {
      var chosen = $("neuron-" + selectedNeuron[0] + "-" + selectedNeuron[1]);
      if (chosen) { chosen.classList.add("selected"); }
    }
  }

  function offerCustom(s) {
    var select = $("dataset");
    if (s.settings.dataset === "custom" && !select.querySelector("option[value=custom]")) {
      var option = document.createElement("option");
      option.value = "custom";
      option.textContent = "your own points";
      select.appendChild(option);
    }
  }

  function draw(s) {
    offerCustom(s);
    if (controlsFromState) {
      controlsFromState = false;
      writeControls(s.settings);
    }
    writeAddress(s.settings);
    grid = evaluate(s);
    if (!$("network-panel").hidden) { drawNetwork(s, grid); }
    drawBoundary(s, grid);
    drawLosses(s);
    drawMetrics(s);
  }

  // ---- editing a weight or a bias ------------------------------------------------------

  function startEditing(event, layer, neuron, input) {
    var box = $("edit-weight");
    var value = input === null ? state.network.biases[layer][neuron] :
      state.network.weights[layer][neuron][input];
    editing = [layer, neuron, input];
    box.hidden = false;
    var field = $("edit-value");
    field.value = String(value);
    $("edit-label").textContent = (input === null ? "bias of " : "weight " + (input + 1) +
      " of ") + neuronName(layer, neuron);
    var r = $("network").getBoundingClientRect();
    box.style.left = Math.max(0, event.clientX - r.left - 60) + "px";
    box.style.top = Math.max(0, event.clientY - r.top + 8) + "px";
    field.focus();
    field.select();
  }

  function finishEditing(save) {
    var box = $("edit-weight");
    box.hidden = true;
    if (!save || !editing) { editing = null; return; }
    var body = {session: session, layer: editing[0], neuron: editing[1],
                value: $("edit-value").value};
    if (editing[2] !== null) { body.input = editing[2]; }
    editing = null;
    var asked = generation;
    withSession(function () { return request("POST", "/api/parameter", body); })
      .then(function (answer) {
        showError(null);
        if (asked === generation) { receive(answer.state, false); }
      }).catch(showError);
  }

  // ---- the chain rule view ---------------------------------------------------------------

  function clearChainRule() {
    selectedNeuron = null;
    var view = $("chain-rule");
    view.querySelectorAll(".result").forEach(function (el) { el.remove(); });
    view.removeAttribute("data-neuron");
    $("tab-neuron").textContent = "";
    showTab("network");
  }

  // The left side shows the network or, in the same place near the top of the page, the
  // chain rule at the neuron last clicked: a click on a neuron opens it, Esc goes back.
  function showTab(name) {
    var chain = name === "chain-rule";
    if ($("chain-rule").hidden === !chain) { return; }
    $("network-panel").hidden = chain;
    $("chain-rule").hidden = !chain;
    $("tab-network").setAttribute("aria-selected", String(!chain));
    $("tab-chain-rule").setAttribute("aria-selected", String(chain));
    if (chain) {
      hover(null);  // the hovered neuron is hidden now: it gets no mouseleave
      if (selectedNeuron && !explaining) { explain(selectedNeuron[0], selectedNeuron[1]); }
    } else {
      dirty = true;  // the network's maps were not drawn while hidden
    }
  }

  // The neuron ``step`` places after (or before) the chosen one, layer by layer.
  function neighbour(step) {
    var widths = state.network.widths.slice(1), order = [];
    widths.forEach(function (width, layer) {
      for (var j = 0; j < width; j++) { order.push([layer, j]); }
    });
    var at = selectedNeuron ? order.findIndex(function (n) {
      return n[0] === selectedNeuron[0] && n[1] === selectedNeuron[1];
    }) : -1;
    return order[(at + step + order.length) % order.length];
  }

  function explainNeighbour(step) {
    if (!state) { return; }
    var next = neighbour(step);
    explain(next[0], next[1]);
  }

  function cell(row, text, name) {
    var td = row.insertCell();
    td.textContent = text;
    if (name) { td.className = "name"; }
  }

  function tables(answer) {
    var names = {};
    answer.nodes.forEach(function (n) { names[n.name] = n.label || n.name; });
    var nodes = document.createElement("table");
    nodes.className = "nodes";
    nodes.createCaption().textContent = "nodes: value (forward) and grad = d loss / d node (backward)";
    var head = nodes.insertRow();
    ["node", "op", "value", "grad"].forEach(function (t) {
      var th = document.createElement("th"); th.textContent = t; head.appendChild(th);
    });
    answer.nodes.forEach(function (n) {
      var row = nodes.insertRow();
      cell(row, names[n.name], true);
      cell(row, n.op || "(leaf)", true);
      cell(row, significant(n.value));
      cell(row, significant(n.grad));
    });
    var edges = document.createElement("table");
    edges.className = "edges";
    edges.createCaption().textContent = "edges: upstream \u00d7 local = contribution";
    head = edges.insertRow();
    ["from", "to", "upstream", "local", "contribution"].forEach(function (t) {
      var th = document.createElement("th"); th.textContent = t; head.appendChild(th);
    });
    answer.edges.forEach(function (e) {
      var row = edges.insertRow();
      cell(row, names[e.from], true);
      cell(row, names[e.to], true);
      cell(row, significant(e.upstream));
      cell(row, significant(e.local));
      cell(row, significant(e.contribution));
    });
    return [nodes, edges];
  }

  // While playing, the view of the chosen neuron is asked for again about once a second.
  function followChainRule() {
    if (!selectedNeuron || explaining || $("chain-rule").hidden) { return; }
    if (performance.now() - lastExplained < EXPLAIN_EVERY_MS) { return; }
    explain(selectedNeuron[0], selectedNeuron[1]);
  }

  function explain(layer, neuron) {
    selectedNeuron = [layer, neuron];
    $("tab-neuron").textContent = "(" + neuronName(layer, neuron) + ")";
    if (state && grid && !$("network-panel").hidden) { drawNetwork(state, grid); }
    explaining = true;
    lastExplained = performance.now();
    var asked = generation;
    var body = {session: session, layer: layer, neuron: neuron};
    if (selectedPoint !== null) { body.point = selectedPoint; }
    return withSession(function () {
      return request("POST", "/api/chain-rule", body);
    }).then(function (answer) {
      explaining = false;
      if (asked !== generation) { return; }
      if (selectedPoint === null) {
        selectedPoint = answer.point;  // the point of largest loss, kept from now on
        dirty = true;
      }
      showChainRule(answer, layer, neuron);
    }).catch(function (error) {
      explaining = false;
      showError(error);
    });
  }

  function showChainRule(answer, layer, neuron) {
    var view = $("chain-rule");
    var open = view.querySelector("details");
    var wasOpen = open ? open.open : null;
    view.querySelectorAll(".result").forEach(function (el) { el.remove(); });
    var result = document.createElement("div");
    result.className = "result";
    var summary = document.createElement("p");
    summary.className = "summary";
    summary.textContent = neuronName(layer, neuron) + ", training point " +
      (answer.point + 1) + " (x = " +
      answer.x.map(function (v) { return Number(v).toFixed(3); }).join(", ") +
      ", target " + significant(answer.target) + ") at epoch " + answer.epoch + ": a = " +
      significant(answer.a) + ", loss = " + significant(answer.loss) +
      ", d loss / d a = " + significant(answer.dloss_da) + ".";
    if (layer === 0 && state && state.network.weights.length === 1) {
      summary.textContent = summary.textContent.replace(/^output/, "layer 1");
    }
    result.appendChild(summary);
    answer.notes.forEach(function (text) {
      var p = document.createElement("p"); p.className = "help"; p.textContent = text;
      result.appendChild(p);
    });
    if (answer.svg) {
      var picture = document.createElement("div");
      picture.className = "picture";
      var svg = new DOMParser().parseFromString(answer.svg, "image/svg+xml").documentElement;
      picture.appendChild(document.importNode(svg, true));
      result.appendChild(picture);
    }
    var details = document.createElement("details");
    details.open = wasOpen === null ? !answer.svg : wasOpen;
    var title = document.createElement("summary");
    title.textContent = answer.svg ? "the same numbers as tables" :
      "the numbers (no picture: the server lacks " + (answer.missing || "Graphviz") + ")";
    details.appendChild(title);
    tables(answer).forEach(function (t) { details.appendChild(t); });
    result.appendChild(details);
    view.appendChild(result);
    view.setAttribute("data-neuron", layer + "-" + neuron);
  }

  function pickPoint(event) {
    if (!state || !pixelOf || $("paint").value !== "off") { return; }
    var canvas = $("boundary");
    var r = canvas.getBoundingClientRect();
    var x = (event.clientX - r.left) * canvas.width / r.width;
    var y = (event.clientY - r.top) * canvas.height / r.height;
    var best = -1, distance = 12 * 12;
    state.points.train.forEach(function (p, i) {
      var xy = pixelOf(p);
      var d = (xy[0] - x) * (xy[0] - x) + (xy[1] - y) * (xy[1] - y);
      if (d < distance) { best = i; distance = d; }
    });
    if (best < 0) { return; }
    selectedPoint = best;
    drawBoundary(state, grid);
    if (selectedNeuron) { explain(selectedNeuron[0], selectedNeuron[1]); }
  }

  // ---- your own data -------------------------------------------------------------------

  // Every point of the run (training and test), on the plane: [x1, x2, label or target].
  function allPoints() {
    return state.points.train.concat(state.points.test).map(function (p) {
      return p.length === 2 ? [p[0], 0, p[1]] : p.slice();
    });
  }

  function sendPoints(points, task, standardize) {
    var settings = readControls();
    delete settings.dataset;
    delete settings.noise;
    delete settings.points;
    generation += 1;
    pending = ["points", performance.now()];
    var wasPlaying = playing;
    stop();
    return withSession(function () {
      return request("POST", "/api/points", {session: session, points: points, task: task,
                                             standardize: !!standardize, settings: settings});
    }).then(function (answer) {
      showError(null);
      selectedPoint = null;
      clearChainRule();
      receive(answer.state, true);
      if (wasPlaying) { play(); }
    }).catch(function (error) {
      pending = null;
      showError(error);
    });
  }

  function planeAt(event) {
    var canvas = $("boundary"), r = canvas.getBoundingClientRect(), e = state.extent;
    var px = (event.clientX - r.left) / r.width, py = (event.clientY - r.top) / r.height;
    return [-e + 2 * e * px, e - 2 * e * py];
  }

  var painting = null;  // the points being painted while the mouse button is down

  function paintTask(mode) {
    return mode === "target" ? "regression" : "classification";
  }

  function paintPoint(event) {
    var mode = $("paint").value, xy = planeAt(event);
    if (mode === "erase") {
      var canvas = $("boundary"), r = canvas.getBoundingClientRect();
      var x = (event.clientX - r.left) * canvas.width / r.width;
      var y = (event.clientY - r.top) * canvas.height / r.height;
      var kept = painting.filter(function (p) {
        var at = toPixel(canvas, state.extent, p[0], p[1]);
        return (at[0] - x) * (at[0] - x) + (at[1] - y) * (at[1] - y) > 12 * 12;
      });
      kept.task = painting.task;
      painting = kept;
      return;
    }
    var label = mode === "target" ? Number($("paint-target").value) : Number(mode);
    var last = painting[painting.length - 1];
    if (last && last.painted && Math.abs(last[0] - xy[0]) + Math.abs(last[1] - xy[1]) <
        state.extent / 25) { return; }  // while dragging, a point every few pixels
    var point = [xy[0], xy[1], label];
    point.painted = true;
    painting.push(point);
    var context = $("boundary").getContext("2d"), at = pixelOf(xy);
    context.beginPath();
    context.arc(at[0], at[1], 3.5, 0, 2 * Math.PI);
    context.fillStyle = mode === "target" ? "#555" : "rgb(" + POINTS[label].join(",") + ")";
    context.fill();
  }

  function startPainting(event) {
    if ($("paint").value === "off" || !state || state.inputs !== 2) { return false; }
    var mode = $("paint").value;
    var task = mode === "erase" ? state.task : paintTask(mode);
    // Painting targets onto classes (or classes onto targets) starts a new set.
    if (sketch) { painting = sketch; }
    else { painting = task === state.task && !emptyCanvas ? allPoints() : []; }
    emptyCanvas = false;
    painting.task = task;
    paintPoint(event);
    return true;
  }

  var emptyCanvas = false;
  var sketch = null;  // painted points too few to send yet

  function csvOf(points) {
    return "x1,x2,label\n" + points.map(function (p) { return p.join(","); }).join("\n") + "\n";
  }

  function download(name, text, type) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], {type: type}));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.playground.downloaded = {name: name, text: text};
  }

  // x1,x2,label lines; a first line that is not numbers is a header. Labels that are all
  // 0, 1 or 2 make classes, anything else real targets.
  function readCsv(text) {
    var rows = text.split(/\r?\n/).map(function (line) { return line.trim(); })
      .filter(function (line) { return line; });
    if (rows.length && rows[0].split(",").some(function (v) { return isNaN(Number(v)); })) {
      rows.shift();
    }
    var points = rows.map(function (line, i) {
      var values = line.split(",").map(Number);
      if (values.length !== 3 || values.some(isNaN)) {
        throw {message: "line " + (i + 1) + " of the file is not x1,x2,label: " + line.slice(0, 40),
               parameter: "upload"};
      }
      return values;
    });
    var classes = points.every(function (p) { return [0, 1, 2].indexOf(p[2]) >= 0; });
    return {points: points, task: classes ? "classification" : "regression"};
  }

  function wireOwnData() {
    var canvas = $("boundary");
    canvas.addEventListener("mousedown", function (event) {
      if (startPainting(event)) { event.preventDefault(); }
    });
    canvas.addEventListener("mousemove", function (event) {
      if (painting && event.buttons & 1) { paintPoint(event); }
    });
    window.addEventListener("mouseup", function () {
      if (!painting) { return; }
      var points = painting, task = painting.task;
      painting = null;
      var labels = {};
      points.forEach(function (p) { labels[p[2]] = true; });
      if (points.length < 4 || (task === "classification" && Object.keys(labels).length < 2)) {
        sketch = points;  // not enough to learn from yet: kept for the next stroke
        note("Paint at least 4 points" + (task === "classification" ? ", of two classes" : "") +
             " (" + points.length + " so far).");
        return;
      }
      sketch = null;
      note(null);
      sendPoints(points, task, false);
    });
    $("clear-points").addEventListener("click", function () {
      emptyCanvas = true;
      sketch = null;
      var context = $("boundary").getContext("2d");
      context.fillStyle = "#fff";
      context.fillRect(0, 0, $("boundary").width, $("boundary").height);
      if ($("paint").value === "off") { $("paint").value = "0"; }
      note("Empty canvas: click or drag on the output to paint points (at least 4, of " +
           "two classes or with targets).");
    });
    $("upload").addEventListener("change", function () {
      var file = $("upload").files[0];
      if (!file) { return; }
      file.text().then(function (text) {
        var read = readCsv(text);
        return sendPoints(read.points, read.task, true);
      }).catch(showError);
    });
    $("download-data").addEventListener("click", function () {
      download("chainrule-data.csv", csvOf(allPoints()), "text/csv");
    });
    $("download-model").addEventListener("click", function () {
      withSession(function () {
        return request("GET", "/api/model?session=" + encodeURIComponent(session));
      }).then(function (model) {
        download("chainrule-model.json", JSON.stringify(model, null, 1), "application/json");
      }).catch(showError);
    });
  }

  // ---- wiring ----------------------------------------------------------------------------

  function changeLayers(delta) {
    var widths = $("hidden").value.split(",").map(function (t) { return t.trim(); })
      .filter(function (t) { return t !== ""; });
    if (delta > 0) { widths.push(widths.length ? widths[widths.length - 1] : "4"); }
    else { widths.pop(); }
    $("hidden").value = widths.join(",");
    configure(readControls());
  }

  function toggleFeature(feature) {
    var chosen = $("features").value.split(",").filter(function (f) { return f; });
    var at = chosen.indexOf(feature);
    if (at >= 0) { chosen.splice(at, 1); } else { chosen.push(feature); }
    $("features").value = chosen.join(",");
    configure(readControls(), false, "features");
  }

  function wire() {
    $("play").addEventListener("click", function () { if (playing) { pause(); } else { play(); } });
    $("step").addEventListener("click", function () {
      stop();
      train(1, 1000).then(function () {
        if (selectedNeuron) { explain(selectedNeuron[0], selectedNeuron[1]); }
      }).catch(showError);
    });
    $("reset").addEventListener("click", function () { configure(readControls(), false, "reset"); });
    $("new-data").addEventListener("click", function () {
      $("seed").value = String(Math.floor(Math.random() * 1e6));
      configure(readControls(), false, "new-data");
    });
    $("add-layer").addEventListener("click", function () { changeLayers(1); });
    $("remove-layer").addEventListener("click", function () { changeLayers(-1); });
    SETTINGS.forEach(function (name) {
      var control = controlOf(name);
      if (control.type === "hidden") { return; }
      control.addEventListener("change", function () {
        var settings = readControls();
        if (name === "dataset") {
          delete settings.noise;  // each set's own default noise, shown at once
          var chosen = choices && choices.datasets[settings.dataset];
          if (chosen) { $("noise").value = chosen.noise; }
        }
        var live = choices && choices.live.indexOf(name) >= 0;
        configure(settings, live, name === "dataset" ? "dataset" : name);
      });
    });
    ["show-test", "discretize"].forEach(function (id) {
      $(id).addEventListener("change", function () { drawnFeatures = ""; dirty = true; });
    });
    $("boundary").addEventListener("click", pickPoint);
    wireOwnData();
    $("edit-value").addEventListener("keydown", function (event) {
      if (event.key === "Enter") { finishEditing(true); }
      if (event.key === "Escape") { finishEditing(false); }
    });
    $("edit-save").addEventListener("click", function () { finishEditing(true); });
    $("edit-cancel").addEventListener("click", function () { finishEditing(false); });
    $("tab-network").addEventListener("click", function () { showTab("network"); });
    $("tab-chain-rule").addEventListener("click", function () { showTab("chain-rule"); });
    $("back-to-network").addEventListener("click", function () { showTab("network"); });
    $("previous-neuron").addEventListener("click", function () { explainNeighbour(-1); });
    $("next-neuron").addEventListener("click", function () { explainNeighbour(1); });
    document.addEventListener("keydown", function (event) {
      if (event.target !== document.body) { return; }
      if (event.key === " ") {
        event.preventDefault();
        if (playing) { pause(); } else { play(); }
      } else if (event.key === "Escape") {
        showTab("network");
      } else if ((event.key === "," || event.key === ".") && !$("chain-rule").hidden) {
        explainNeighbour(event.key === "," ? -1 : 1);
      }
    });
  }

  // For scripts that drive the page (and its tests): what it shows, where a training point
  // is drawn, the cells it evaluated and every layer's output there, and its timings.
  window.playground = {
    state: function () { return state; },
    session: function () { return session; },
    pointPixel: function (i) { return pixelOf(state.points.train[i]); },
    grid: function () { return grid; },
    // [cell, [layer outputs at that cell, one list per layer]] for each cell index asked
    cells: function (indices) {
      return indices.map(function (i) {
        return [grid.cells[i], grid.outputs.map(function (out, l) {
          var w = grid.widths[l];
          return Array.prototype.slice.call(out, i * w, (i + 1) * w);
        })];
      });
    },
    // where on the screen (client pixels) the point (x1, x2) of the plane is drawn
    clientAt: function (x1, x2) {
      var canvas = $("boundary"), r = canvas.getBoundingClientRect();
      var at = toPixel(canvas, state.extent, x1, x2);
      return [r.left + at[0] * r.width / canvas.width, r.top + at[1] * r.height / canvas.height];
    },
    frames: function () { return frames; },
    timings: function () { return timings; },
    hover: hover
  };

  function boot() {
    wire();
    applyHiding();
    var query = new URLSearchParams(location.search);
    session = undefined;  // may resume the session this tab had
    start(settingsFromAddress()).catch(function (error) {
      showError(error);  // a bad link: say what was wrong, then open with the defaults
      return start({});
    }).then(function () {
      if (query.get("autoplay") === "1") { play(); }
    }).catch(showError);
    requestAnimationFrame(frame);
  }

  boot();
})();
