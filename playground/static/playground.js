// chainrule playground: the page's side. The server trains and measures; this script asks
// it for a few epochs at a time while playing, and draws what comes back. Every setting is
// checked by the server: an error it returns is shown beside the control it names.
(function () {
  "use strict";

  var SETTINGS = ["dataset", "noise", "points", "train_fraction", "seed", "hidden",
                  "activation", "optimizer", "lr", "batch_size", "l2"];
  // While playing, each request trains for as long as leaves the page about 8 redraws a
  // second: the frame's time minus what the rest of the last frame took (measuring the
  // heat maps, sending, drawing), kept between 10 and 100 ms.
  var FRAME_MS = 120;
  var budget = 60;
  var COLOURS = [[245, 147, 34], [8, 119, 189], [44, 160, 44]];  // class 0, 1, 2
  var POINTS = [[214, 110, 0], [0, 84, 150], [20, 120, 20]];  // darker, to stand out
  var NEGATIVE = COLOURS[0], POSITIVE = COLOURS[1];

  var session = null;
  var defaults = {};
  var state = null;
  var playing = false;
  var busy = false;
  var inFlight = Promise.resolve();  // the last training request, once answered and drawn
  var selectedPoint = 0;
  var selectedNeuron = null;
  var networkShape = "";
  var frames = 0;  // redraws of the boundary, read by tests to measure the update rate
  var pixelOf = null;  // where the last drawing put a point: [x, y] -> canvas pixel
  var generation = 0;  // counts restarts: an answer about an older model is not drawn

  function $(id) { return document.getElementById(id); }
  function controlOf(name) { return $(name.replace(/\[.*$/, "").replace(/_/g, "-")); }

  // ---- talking to the server -----------------------------------------------------------

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
    box.textContent = (error.parameter ? error.parameter + ": " : "") + error.message;
    box.hidden = false;
  }

  // An expired session (or a restarted server) is replaced by a new one with the same
  // settings, once; any other error stops playing and is shown.
  function withSession(call) {
    return call().catch(function (error) {
      if (error.status === 404 && error.parameter === "session") {
        return start(readControls()).then(call);
      }
      throw error;
    });
  }

  function start(settings) {
    return request("POST", "/api/session", {settings: settings}).then(function (answer) {
      session = answer.session;
      setUp(answer.choices);
      draw(answer.state);
      return answer;
    });
  }

  function configure(settings) {
    stop();
    generation += 1;
    return withSession(function () {
      return request("POST", "/api/configure", {session: session, settings: settings});
    }).then(function (answer) {
      showError(null);
      selectedPoint = 0;
      draw(answer.state);
      clearChainRule();
    }).catch(showError);
  }

  function train(epochs, milliseconds) {
    var asked = generation;
    return withSession(function () {
      return request("POST", "/api/train", {session: session, epochs: epochs,
                                             milliseconds: milliseconds});
    }).then(function (answer) {
      if (asked === generation) { draw(answer.state); }
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

  function setUp(choices) {
    if (!choices) { return; }
    defaults = choices.defaults;
    fillSelect($("dataset"), Object.keys(choices.datasets));
    fillSelect($("activation"), choices.activations);
    fillSelect($("optimizer"), choices.optimizers);
    $("points").max = choices.limits.points;
    $("batch-size").max = choices.limits.points;
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

  function writeAddress(settings) {
    var query = new URLSearchParams();
    SETTINGS.forEach(function (name) {
      if (String(settings[name]) !== String(defaults[name])) { query.set(name, settings[name]); }
    });
    var text = query.toString();
    history.replaceState(null, "", location.pathname + (text ? "?" + text : ""));
  }

  // ---- playing ---------------------------------------------------------------------------

  function play() {
    if (playing) { return; }
    playing = true;
    $("play").textContent = "\u25A0 pause";
    loop();
  }

  function stop() {
    playing = false;
    $("play").textContent = "\u25B6 play";
  }

  // Pausing shows the chain rule of the neuron picked, for the model as it stopped.
  function pause() {
    stop();
    inFlight.then(function () {
      if (selectedNeuron) { explain(selectedNeuron[0], selectedNeuron[1]); }
    });
  }

  // While playing, the next request leaves before the answer to the last one is drawn, so
  // that the server trains while the page draws.
  function loop() {
    if (!playing || busy) { return; }
    busy = true;
    var asked = generation;
    var sent = performance.now();
    inFlight = withSession(function () {
      return request("POST", "/api/train", {session: session, epochs: 100,
                                             milliseconds: budget});
    }).then(function (answer) {
      busy = false;
      var rest = performance.now() - sent - answer.milliseconds;
      budget = Math.round(Math.max(10, Math.min(100, FRAME_MS - rest)));
      if (answer.trained === 0) { stop(); }  // the epoch limit
      if (playing) { loop(); }
      if (asked === generation) { draw(answer.state); }
    }).catch(function (error) {
      busy = false;
      stop();
      showError(error);
    });
  }

  // ---- drawing ---------------------------------------------------------------------------

  function mix(a, b, t) {
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  }

  // -1 .. 1 -> orange .. white .. blue, a little faded so points stay visible
  function diverging(v) {
    if (v === null || isNaN(v)) { return [200, 200, 200]; }
    v = Math.max(-1, Math.min(1, v));
    return v < 0 ? mix([255, 255, 255], NEGATIVE, -v * 0.7) : mix([255, 255, 255], POSITIVE, v * 0.7);
  }

  function paintCells(canvas, colours, side) {
    var small = document.createElement("canvas");
    small.width = side;
    small.height = side;
    var context = small.getContext("2d");
    var image = context.createImageData(side, side);
    for (var i = 0; i < colours.length; i++) {
      image.data[4 * i] = colours[i][0];
      image.data[4 * i + 1] = colours[i][1];
      image.data[4 * i + 2] = colours[i][2];
      image.data[4 * i + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    var target = canvas.getContext("2d");
    target.imageSmoothingEnabled = true;
    target.clearRect(0, 0, canvas.width, canvas.height);
    target.drawImage(small, 0, 0, canvas.width, canvas.height);
  }

  function toPixel(canvas, extent, x, y) {
    return [(x + extent) / (2 * extent) * canvas.width,
            (extent - y) / (2 * extent) * canvas.height];
  }

  function boundaryColours(s) {
    var b = s.boundary;
    if (b.p) { return b.p.map(function (p) { return diverging(p === null ? null : 2 * p - 1); }); }
    var k = s.classes;
    return b.classes.map(function (c, i) {
      var confidence = b.confidence[i];
      if (confidence === null) { return [200, 200, 200]; }
      var strength = Math.max(0, (confidence - 1 / k) / (1 - 1 / k));
      return mix([255, 255, 255], COLOURS[c % COLOURS.length], 0.25 + 0.6 * strength);
    });
  }

  function drawPoints(canvas, s, toXY) {
    var context = canvas.getContext("2d");
    ["train", "test"].forEach(function (part) {
      s.points[part].forEach(function (p, i) {
        var xy = toXY(p);
        context.beginPath();
        context.arc(xy[0], xy[1], part === "train" ? 3.5 : 4, 0, 2 * Math.PI);
        var colour = s.task === "regression" ? [80, 80, 80] : POINTS[p[p.length - 1] % 3];
        context.fillStyle = "rgb(" + colour.join(",") + ")";
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

  function curveRange(s) {
    var ys = s.boundary.ys.concat(s.points.train.map(function (p) { return p[1]; }),
                                  s.points.test.map(function (p) { return p[1]; }));
    ys = ys.filter(function (y) { return y !== null; });
    var low = Math.min.apply(null, ys), high = Math.max.apply(null, ys);
    var pad = (high - low) * 0.1 || 1;
    low = Math.max(low - pad, -1e6);
    high = Math.min(high + pad, 1e6);
    return [low, high];
  }

  function drawBoundary(s) {
    var canvas = $("boundary");
    var context = canvas.getContext("2d");
    if (s.task === "regression") {
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      var range = curveRange(s);
      var toXY = function (p) {
        return [(p[0] + s.extent) / (2 * s.extent) * canvas.width,
                (range[1] - p[1]) / (range[1] - range[0]) * canvas.height];
      };
      drawPoints(canvas, s, toXY);
      pixelOf = toXY;
      context.beginPath();
      s.boundary.xs.forEach(function (x, i) {
        var y = s.boundary.ys[i];
        if (y === null) { return; }
        var xy = toXY([x, y]);
        if (i === 0) { context.moveTo(xy[0], xy[1]); } else { context.lineTo(xy[0], xy[1]); }
      });
      context.strokeStyle = "rgb(" + POSITIVE.join(",") + ")";
      context.lineWidth = 2.5;
      context.stroke();
    } else {
      paintCells(canvas, boundaryColours(s), Math.round(Math.sqrt(boundaryColours(s).length)));
      pixelOf = function (p) { return toPixel(canvas, s.extent, p[0], p[1]); };
      drawPoints(canvas, s, pixelOf);
    }
    frames += 1;
    canvas.setAttribute("data-frames", String(frames));
    canvas.setAttribute("data-dataset", s.settings.dataset);
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
    document.body.className = "task-" + s.task;
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
  var BOX = 40;

  function layout(widths, width, height) {
    var columns = widths.length;
    var gap = (width - BOX - 40) / Math.max(columns - 1, 1);
    return widths.map(function (n, layer) {
      var step = Math.min(BOX + 8, (height - 20) / n);
      var top = (height - step * (n - 1) - BOX) / 2;
      var spots = [];
      for (var j = 0; j < n; j++) { spots.push([30 + layer * gap, top + j * step]); }
      return spots;
    });
  }

  function buildNetwork(net) {
    var box = $("network");
    box.textContent = "";
    var width = box.clientWidth || 480, height = box.clientHeight || 340;
    var spots = layout(net.widths, width, height);
    var edges = document.createElementNS(SVG, "svg");
    edges.setAttribute("class", "edges");
    edges.setAttribute("width", String(width));
    edges.setAttribute("height", String(height));
    box.appendChild(edges);
    for (var layer = 1; layer < spots.length; layer++) {
      spots[layer].forEach(function (to, j) {
        spots[layer - 1].forEach(function (from, i) {
          var line = document.createElementNS(SVG, "line");
          line.setAttribute("x1", String(from[0] + BOX));
          line.setAttribute("y1", String(from[1] + BOX / 2));
          line.setAttribute("x2", String(to[0]));
          line.setAttribute("y2", String(to[1] + BOX / 2));
          line.setAttribute("id", "edge-" + (layer - 1) + "-" + j + "-" + i);
          edges.appendChild(line);
        });
      });
    }
    spots.forEach(function (column, layer) {
      column.forEach(function (spot, j) {
        var node = document.createElement("div");
        var canvas = document.createElement("canvas");
        canvas.width = 20;
        canvas.height = 20;
        node.appendChild(canvas);
        node.style.left = spot[0] + "px";
        node.style.top = spot[1] + "px";
        if (layer === 0) {
          node.className = "feature";
          node.id = "feature-" + j;
          var name = document.createElement("span");
          name.textContent = "x" + (j + 1);
          node.appendChild(name);
        } else {
          node.className = "neuron";
          node.id = "neuron-" + (layer - 1) + "-" + j;
          node.setAttribute("data-layer", String(layer - 1));
          node.setAttribute("data-neuron", String(j));
          node.title = (layer === spots.length - 1 ? "output" : "layer " + layer) +
                       ", neuron " + (j + 1) + ": click for its chain rule";
          node.addEventListener("click", function () { explain(layer - 1, j); });
        }
        box.appendChild(node);
      });
    });
  }

  function drawMap(canvas, values, oneInput) {
    var finite = values.filter(function (v) { return v !== null; });
    var scale = Math.max.apply(null, finite.map(Math.abs).concat([1e-12]));
    if (oneInput) {
      var context = canvas.getContext("2d");
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.beginPath();
      values.forEach(function (v, i) {
        var x = i / (values.length - 1) * canvas.width;
        var y = canvas.height / 2 - (v === null ? 0 : v / scale) * canvas.height * 0.45;
        if (i === 0) { context.moveTo(x, y); } else { context.lineTo(x, y); }
      });
      context.strokeStyle = "#333";
      context.lineWidth = 1;
      context.stroke();
      return;
    }
    var side = Math.round(Math.sqrt(values.length));
    paintCells(canvas, values.map(function (v) { return diverging(v === null ? null : v / scale); }), side);
  }

  function inputMap(s, i) {
    // the input feature itself over the plane, at the neurons' resolution
    var net = s.network, n = net.maps[0][0].length;
    if (net.widths[0] === 1) {
      var out = [];
      for (var k = 0; k < n; k++) { out.push(-1 + 2 * k / (n - 1)); }
      return out;
    }
    var side = Math.round(Math.sqrt(n)), values = [];
    for (var r = 0; r < side; r++) {
      for (var c = 0; c < side; c++) {
        values.push(i === 0 ? -1 + 2 * (c + 0.5) / side : 1 - 2 * (r + 0.5) / side);
      }
    }
    return values;
  }

  function drawNetwork(s) {
    var net = s.network;
    var shape = net.widths.join("-");
    if (shape !== networkShape) {
      buildNetwork(net);
      networkShape = shape;
    }
    var oneInput = net.widths[0] === 1;
    for (var i = 0; i < net.widths[0]; i++) {
      drawMap($("feature-" + i).querySelector("canvas"), inputMap(s, i), oneInput);
    }
    var largest = 1e-12;
    net.weights.forEach(function (m) {
      m.forEach(function (row) { row.forEach(function (w) { largest = Math.max(largest, Math.abs(w || 0)); }); });
    });
    net.weights.forEach(function (m, layer) {
      m.forEach(function (row, j) {
        row.forEach(function (w, i) {
          var line = $("edge-" + layer + "-" + j + "-" + i);
          var colour = (w || 0) >= 0 ? POSITIVE : NEGATIVE;
          line.setAttribute("stroke", "rgb(" + colour.join(",") + ")");
          line.setAttribute("stroke-width", String(0.3 + 4 * Math.abs(w || 0) / largest));
          line.setAttribute("stroke-opacity", "0.75");
        });
      });
      net.maps[layer].forEach(function (values, j) {
        drawMap($("neuron-" + layer + "-" + j).querySelector("canvas"), values, oneInput);
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

  function draw(s) {
    state = s;
    $("epoch").textContent = String(s.epoch);
    if (document.activeElement === document.body || !document.activeElement ||
        document.activeElement.tagName === "BUTTON") {
      writeControls(s.settings);
    }
    writeAddress(s.settings);
    drawBoundary(s);
    drawLosses(s);
    drawMetrics(s);
    drawNetwork(s);
  }

  // ---- the chain rule view ---------------------------------------------------------------

  function clearChainRule() {
    selectedNeuron = null;
    var view = $("chain-rule");
    view.querySelectorAll(".result").forEach(function (el) { el.remove(); });
    view.removeAttribute("data-neuron");
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

  function explain(layer, neuron) {
    selectedNeuron = [layer, neuron];
    if (state) { drawNetwork(state); }
    return withSession(function () {
      return request("POST", "/api/chain-rule", {session: session, layer: layer,
                                                 neuron: neuron, point: selectedPoint});
    }).then(function (answer) {
      var view = $("chain-rule");
      view.querySelectorAll(".result").forEach(function (el) { el.remove(); });
      var result = document.createElement("div");
      result.className = "result";
      var summary = document.createElement("p");
      summary.className = "summary";
      summary.textContent = "layer " + (layer + 1) + ", neuron " + (neuron + 1) +
        ", training point " + (answer.point + 1) + " (x = " +
        answer.x.map(function (v) { return Number(v).toFixed(3); }).join(", ") +
        ", target " + significant(answer.target) + ") at epoch " + answer.epoch + ": a = " +
        significant(answer.a) + ", loss = " + significant(answer.loss) +
        ", d loss / d a = " + significant(answer.dloss_da) + ".";
      result.appendChild(summary);
      answer.notes.forEach(function (text) {
        var p = document.createElement("p"); p.className = "help"; p.textContent = text;
        result.appendChild(p);
      });
      if (answer.svg) {
        var picture = document.createElement("div");
        picture.className = "picture";
        picture.title = "click to see it at full size (and back)";
        picture.addEventListener("click", function () { picture.classList.toggle("natural"); });
        var svg = new DOMParser().parseFromString(answer.svg, "image/svg+xml").documentElement;
        picture.appendChild(document.importNode(svg, true));
        result.appendChild(picture);
      }
      var details = document.createElement("details");
      details.open = !answer.svg;
      var title = document.createElement("summary");
      title.textContent = answer.svg ? "the same numbers as tables" :
        "the numbers (Graphviz's dot is not installed on the server, so no picture)";
      details.appendChild(title);
      tables(answer).forEach(function (t) { details.appendChild(t); });
      result.appendChild(details);
      view.appendChild(result);
      view.setAttribute("data-neuron", layer + "-" + neuron);
    }).catch(showError);
  }

  function pickPoint(event) {
    if (!state || !pixelOf) { return; }
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
    drawBoundary(state);
    if (selectedNeuron) { explain(selectedNeuron[0], selectedNeuron[1]); }
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

  function wire() {
    $("play").addEventListener("click", function () { if (playing) { pause(); } else { play(); } });
    $("step").addEventListener("click", function () {
      stop();
      train(1, 1000).then(function () {
        if (selectedNeuron) { explain(selectedNeuron[0], selectedNeuron[1]); }
      }).catch(showError);
    });
    $("reset").addEventListener("click", function () { configure(readControls()); });
    $("new-data").addEventListener("click", function () {
      $("seed").value = String(Math.floor(Math.random() * 1e6));
      configure(readControls());
    });
    $("add-layer").addEventListener("click", function () { changeLayers(1); });
    $("remove-layer").addEventListener("click", function () { changeLayers(-1); });
    SETTINGS.forEach(function (name) {
      var control = controlOf(name);
      if (control.type === "hidden") { return; }
      control.addEventListener("change", function () {
        var settings = readControls();
        if (name === "dataset") { delete settings.noise; }  // each set's own default noise
        configure(settings);
      });
    });
    $("boundary").addEventListener("click", pickPoint);
    document.addEventListener("keydown", function (event) {
      if (event.key === " " && event.target === document.body) {
        event.preventDefault();
        if (playing) { pause(); } else { play(); }
      }
    });
  }

  // For scripts that drive the page (and its tests): what it shows, and where a training
  // point is drawn on the boundary canvas.
  window.playground = {
    state: function () { return state; },
    pointPixel: function (i) { return pixelOf(state.points.train[i]); }
  };

  function boot() {
    wire();
    var query = new URLSearchParams(location.search);
    start(settingsFromAddress()).catch(function (error) {
      showError(error);  // a bad link: say what was wrong, then open with the defaults
      return start({});
    }).then(function () {
      if (query.get("autoplay") === "1") { play(); }
    }).catch(showError);
  }

  boot();
})();
