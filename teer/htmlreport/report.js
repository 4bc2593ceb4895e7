// teer report: sortable tables and each file's timeline, drawn as SVG from the page's JSON blocks.
// No library and no network: a file's data is parsed when its timeline is first shown.
(function () {
  "use strict";
  var body = document.body;
  var started = performance.now();
  var DATA = JSON.parse(document.getElementById("teer-data").textContent);
  var NAMES = DATA.timelines;
  var BAND_LABELS = ["missed", "false alarm", "emotion conf.", "speaker conf."];
  var BAND_TEXT = ["missed speaker(s)", "false-alarm speaker(s)", "emotion confusion(s)", "speaker confusion(s)"];
  var PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                 "#9c755f", "#86bcb6"];
  var NONE_COLOUR = "#bdbdbd";
  var LABEL_W = 180, AXIS_H = 20, LANE_H = 18, LANE_GAP = 3, BAND_H = 10, BAND_GAP = 3, OVERVIEW_H = 26;
  var SVGNS = "http://www.w3.org/2000/svg";

  function colour(e) {
    if (e < 0) return NONE_COLOUR;
    if (e < PALETTE.length) return PALETTE[e];
    return "hsl(" + ((e * 137.508) % 360).toFixed(1) + ",55%,55%)";
  }
  function emotionName(e) { return e < 0 ? "(no emotion)" : DATA.emotions[e]; }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }
  function fmt(t) {
    var s = t.toFixed(2) + " s";
    if (Math.abs(t) >= 60) {
      var m = Math.floor(Math.abs(t) / 60), r = Math.abs(t) - 60 * m;
      s += " (" + (t < 0 ? "-" : "") + m + ":" + (r < 10 ? "0" : "") + r.toFixed(2) + ")";
    }
    return s;
  }
  function niceStep(span) {
    var raw = span, p = Math.pow(10, Math.floor(Math.log10(raw))), steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= raw) return steps[i] * p;
    return 10 * p;
  }
  function tickLabel(t, step) {
    var d = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
    if (Math.abs(t) >= 60 && step >= 1) {
      var m = Math.floor(t / 60), s = t - 60 * m;
      return m + ":" + (s < 10 ? "0" : "") + s.toFixed(0);
    }
    return t.toFixed(d);
  }

  // ------------------------------------------------------------------ tooltip
  var tip = document.createElement("div");
  tip.id = "tooltip";
  tip.hidden = true;
  body.appendChild(tip);
  function showTip(text, ev) {
    tip.textContent = text;
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = ev.clientX - tip.offsetWidth - 10;
    if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 10;
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; }

  // ------------------------------------------------------------------ a file's timeline
  // d: {file, extent: [t0, t1], row, lanes: [[side, speaker, mapped, [s, e, emo, ...]]],
  //     grey: [s, e, kind, ...], bands: [[s, e, count, ...] x 4]}
  function Timeline(root, d) {
    var self = this;
    this.d = d;
    this.full = [d.extent[0], Math.max(d.extent[1], d.extent[0] + 1e-3)];
    this.t0 = this.full[0];
    this.t1 = this.full[1];
    this.rows = d.lanes.map(function (lane) { return subRows(lane[3]); });
    var box = document.createElement("div");
    box.className = "tl";
    box.setAttribute("data-file", d.file);
    var row = d.row || {};
    var summary = ["TEER", "sTEER", "DER"].filter(function (k) { return k in row; }).map(function (k) {
      return k + " " + (row[k] === null ? "n/a" : (100 * row[k]).toFixed(2) + " %");
    }).join(" · ");
    box.innerHTML = "<div class=\"tl-head\"><span class=\"name\">" + esc(d.file) + "</span><span>" + esc(summary) +
      "</span><button type=\"button\" data-act=\"in\">+</button><button type=\"button\" data-act=\"out\">−</button>" +
      "<button type=\"button\" data-act=\"fit\">whole file</button>" +
      "<label>from <input type=\"number\" step=\"any\" data-act=\"from\"></label>" +
      "<label>to <input type=\"number\" step=\"any\" data-act=\"to\"></label>" +
      "<button type=\"button\" data-act=\"go\">show</button></div>";
    this.svg = document.createElementNS(SVGNS, "svg");
    this.svg.setAttribute("class", "timeline");
    this.svg.setAttribute("data-file", d.file);
    this.overview = document.createElementNS(SVGNS, "svg");
    this.overview.setAttribute("class", "overview");
    box.appendChild(this.svg);
    box.appendChild(this.overview);
    root.appendChild(box);
    this.box = box;
    this.from = box.querySelector("input[data-act=from]");
    this.to = box.querySelector("input[data-act=to]");
    box.querySelector(".tl-head").addEventListener("click", function (ev) {
      var act = ev.target.getAttribute && ev.target.getAttribute("data-act");
      var mid = (self.t0 + self.t1) / 2, half = (self.t1 - self.t0) / 2;
      if (act === "in") self.setWindow(mid - half / 2, mid + half / 2);
      else if (act === "out") self.setWindow(mid - 2 * half, mid + 2 * half);
      else if (act === "fit") self.setWindow(self.full[0], self.full[1]);
      else if (act === "go") self.setWindow(parseFloat(self.from.value), parseFloat(self.to.value));
    });
    [this.from, this.to].forEach(function (input) {
      input.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter") self.setWindow(parseFloat(self.from.value), parseFloat(self.to.value));
      });
    });
    this.bindEvents();
    this.render();
    this.renderOverview();
    body.setAttribute("data-timelines", String(+body.getAttribute("data-timelines") + 1));
  }

  // Overlapping segments of one lane (several emotions at once) share its height: each
  // segment gets the first sub-row free at its start.
  function subRows(flat) {
    var ends = [], rowOf = [];
    for (var i = 0; i < flat.length; i += 3) {
      var r = 0;
      while (r < ends.length && ends[r] > flat[i]) r++;
      ends[r] = flat[i + 1];
      rowOf.push(r);
    }
    return {of: rowOf, n: Math.max(ends.length, 1)};
  }

  // the width is read once per drawing (reading it after each timeline would lay the page out again)
  Timeline.prototype.width = function () {
    if (!this.W) this.W = Math.max(viewerWidth() - 14, LABEL_W + 200);
    return this.W;
  };

  Timeline.prototype.setWindow = function (a, b) {
    if (!isFinite(a) || !isFinite(b)) return;
    if (b < a) { var t = a; a = b; b = t; }
    var span = this.full[1] - this.full[0];
    var w = Math.min(Math.max(b - a, Math.min(0.05, span)), span);
    var mid = (a + b) / 2;
    a = Math.min(Math.max(mid - w / 2, this.full[0]), this.full[1] - w);
    this.t0 = a;
    this.t1 = a + w;
    this.render();
    this.moveWindow();
    keepAddress(this);
  };

  Timeline.prototype.x = function (t) {
    return LABEL_W + (t - this.t0) / (this.t1 - this.t0) * (this.plotW);
  };

  // the whole SVG of the current window; only what is in it is drawn
  Timeline.prototype.render = function () {
    var d = this.d, W = this.width(), self = this;
    this.plotW = W - LABEL_W - 4;
    var nLanes = d.lanes.length;
    var lanesH = nLanes * (LANE_H + LANE_GAP);
    var bandTop = AXIS_H + lanesH + 6;
    var H = bandTop + 4 * (BAND_H + BAND_GAP) + 2;
    this.height = H;
    var t0 = this.t0, t1 = this.t1, out = [];
    var clip = "clip-" + this.uid;
    out.push("<defs><clipPath id=\"" + clip + "\"><rect x=\"" + LABEL_W + "\" y=\"0\" width=\"" + this.plotW +
             "\" height=\"" + H + "\"/></clipPath></defs>");
    // axis
    var step = niceStep((t1 - t0) / Math.max(this.plotW / 90, 1));
    out.push("<g class=\"axis\">");
    for (var t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) {
      var x = this.x(t).toFixed(1);
      out.push("<line x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + (AXIS_H - 4) + "\" y2=\"" + H + "\"/>" +
               "<text x=\"" + x + "\" y=\"" + (AXIS_H - 7) + "\" text-anchor=\"middle\">" + tickLabel(t, step) + "</text>");
    }
    out.push("</g>");
    // lane labels and backgrounds
    for (var l = 0; l < nLanes; l++) {
      var lane = d.lanes[l], y = AXIS_H + l * (LANE_H + LANE_GAP);
      var name = lane[0] === 0 ? "ref " + lane[1] : "hyp " + lane[1] + (lane[2] === null ? " (unmapped)" : " → " + lane[2]);
      var shown = name.length > 28 ? name.slice(0, 27) + "…" : name;
      out.push("<rect class=\"" + (lane[0] === 0 ? "lane-ref" : "lane-hyp") + "\" x=\"" + LABEL_W + "\" y=\"" + y +
               "\" width=\"" + this.plotW + "\" height=\"" + LANE_H + "\"/>" +
               "<text x=\"" + (LABEL_W - 6) + "\" y=\"" + (y + LANE_H / 2 + 4) + "\" text-anchor=\"end\">" +
               "<title>" + esc(name) + "</title>" + esc(shown) + "</text>");
    }
    for (var b = 0; b < 4; b++) {
      out.push("<text x=\"" + (LABEL_W - 6) + "\" y=\"" + (bandTop + b * (BAND_H + BAND_GAP) + BAND_H - 1) +
               "\" text-anchor=\"end\">" + BAND_LABELS[b] + "</text>");
    }
    out.push("<g clip-path=\"url(#" + clip + ")\">");
    // segments
    for (l = 0; l < nLanes; l++) {
      var segs = d.lanes[l][3], rows = this.rows[l], top = AXIS_H + l * (LANE_H + LANE_GAP);
      var h = LANE_H / rows.n;
      for (var i = 0; i < segs.length; i += 3) {
        if (segs[i + 1] <= t0 || segs[i] >= t1) continue;
        var x0 = this.x(Math.max(segs[i], t0)), x1 = this.x(Math.min(segs[i + 1], t1));
        out.push("<rect class=\"seg\" x=\"" + x0.toFixed(1) + "\" y=\"" + (top + rows.of[i / 3] * h).toFixed(1) +
                 "\" width=\"" + Math.max(x1 - x0, 0.6).toFixed(1) + "\" height=\"" + h.toFixed(1) +
                 "\" fill=\"" + colour(segs[i + 2]) + "\" data-h=\"s," + l + "," + i + "\"/>");
      }
    }
    // unscored time, over every lane
    var g = d.grey;
    for (i = 0; i < g.length; i += 3) {
      if (g[i + 1] <= t0 || g[i] >= t1) continue;
      x0 = this.x(Math.max(g[i], t0));
      x1 = this.x(Math.min(g[i + 1], t1));
      out.push("<rect class=\"g" + g[i + 2] + "\" x=\"" + x0.toFixed(1) + "\" y=\"" + AXIS_H + "\" width=\"" +
               Math.max(x1 - x0, 0.6).toFixed(1) + "\" height=\"" + (H - AXIS_H) + "\" data-h=\"g," + i + "\"/>");
    }
    // error bands
    for (b = 0; b < 4; b++) {
      var band = d.bands[b], y0 = bandTop + b * (BAND_H + BAND_GAP);
      for (i = 0; i < band.length; i += 3) {
        if (band[i + 1] <= t0 || band[i] >= t1) continue;
        x0 = this.x(Math.max(band[i], t0));
        x1 = this.x(Math.min(band[i + 1], t1));
        out.push("<rect class=\"b" + b + "\" x=\"" + x0.toFixed(1) + "\" y=\"" + y0 + "\" width=\"" +
                 Math.max(x1 - x0, 0.6).toFixed(1) + "\" height=\"" + BAND_H + "\" data-h=\"b," + b + "," + i + "\"/>");
      }
    }
    out.push("</g>");
    this.svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    this.svg.setAttribute("width", W);
    this.svg.setAttribute("height", H);
    this.svg.innerHTML = out.join("");
    this.svg.setAttribute("data-window", t0.toFixed(3) + " " + t1.toFixed(3));
    this.from.value = t0.toFixed(2);
    this.to.value = t1.toFixed(2);
  };

  Timeline.prototype.describe = function (key) {
    var p = key.split(","), d = this.d, i;
    if (p[0] === "s") {
      var lane = d.lanes[+p[1]], segs = lane[3];
      i = +p[2];
      return (lane[0] === 0 ? "reference " : "hypothesis ") + lane[1] +
        (lane[0] === 1 ? (lane[2] === null ? " (mapped to no reference speaker)" : " (mapped to " + lane[2] + ")") : "") +
        "\nemotion: " + emotionName(segs[i + 2]) + "\nstart " + fmt(segs[i]) + "\nend   " + fmt(segs[i + 1]) +
        "\n" + (segs[i + 1] - segs[i]).toFixed(2) + " s";
    }
    if (p[0] === "g") {
      i = +p[1];
      return "not scored: " + DATA.unscored[d.grey[i + 2]] + "\n" + fmt(d.grey[i]) + " – " + fmt(d.grey[i + 1]);
    }
    var band = d.bands[+p[1]];
    i = +p[2];
    return band[i + 2] + " " + BAND_TEXT[+p[1]] + "\n" + fmt(band[i]) + " – " + fmt(band[i + 1]) + "\n" +
      (band[i + 2] * (band[i + 1] - band[i])).toFixed(2) + " s of " + DATA.bands[+p[1]].replace("_", " ");
  };

  Timeline.prototype.timeAt = function (clientX) {
    var r = this.svg.getBoundingClientRect();
    var x = (clientX - r.left) * (this.svg.viewBox.baseVal.width / r.width);
    return {x: x, t: this.t0 + (x - LABEL_W) / this.plotW * (this.t1 - this.t0)};
  };

  Timeline.prototype.bindEvents = function () {
    var self = this, svg = this.svg, drag = null;
    svg.addEventListener("wheel", function (ev) {
      var at = self.timeAt(ev.clientX);
      if (at.x < LABEL_W) return;
      ev.preventDefault();
      var w = self.t1 - self.t0;
      if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
        var dt = (ev.shiftKey ? ev.deltaY : ev.deltaX) / self.plotW * w;
        self.setWindow(self.t0 + dt, self.t1 + dt);
        return;
      }
      var k = Math.exp(Math.max(Math.min(ev.deltaY, 200), -200) * 0.002);
      self.setWindow(at.t - (at.t - self.t0) * k, at.t + (self.t1 - at.t) * k);
    }, {passive: false});
    svg.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) return;
      drag = {x: ev.clientX, t0: self.t0, t1: self.t1};
      svg.setPointerCapture(ev.pointerId);
      svg.classList.add("dragging");
      hideTip();
    });
    svg.addEventListener("pointermove", function (ev) {
      if (drag) {
        var r = svg.getBoundingClientRect();
        var dx = (ev.clientX - drag.x) * (svg.viewBox.baseVal.width / r.width);
        var dt = -dx / self.plotW * (drag.t1 - drag.t0);
        self.setWindow(drag.t0 + dt, drag.t1 + dt);
        return;
      }
      var key = ev.target.getAttribute && ev.target.getAttribute("data-h");
      if (key) showTip(self.describe(key), ev); else hideTip();
    });
    function stop() { drag = null; svg.classList.remove("dragging"); }
    svg.addEventListener("pointerup", stop);
    svg.addEventListener("pointercancel", stop);
    svg.addEventListener("pointerleave", function () { if (!drag) hideTip(); });
    this.overview.addEventListener("pointerdown", function (ev) {
      var r = self.overview.getBoundingClientRect();
      var x = (ev.clientX - r.left) * (self.overview.viewBox.baseVal.width / r.width);
      var t = self.full[0] + (x - LABEL_W) / self.plotW * (self.full[1] - self.full[0]);
      var half = (self.t1 - self.t0) / 2;
      self.setWindow(t - half, t + half);
    });
  };

  // the whole file: its error bands, and the window shown above
  Timeline.prototype.renderOverview = function () {
    var d = this.d, W = this.width(), f0 = this.full[0], f1 = this.full[1], plotW = this.plotW, out = [];
    function X(t) { return LABEL_W + (t - f0) / (f1 - f0) * plotW; }
    out.push("<text x=\"" + (LABEL_W - 6) + "\" y=\"16\" text-anchor=\"end\">whole file</text>");
    out.push("<rect class=\"lane-ref\" x=\"" + LABEL_W + "\" y=\"2\" width=\"" + plotW + "\" height=\"" +
             (OVERVIEW_H - 4) + "\"/>");
    for (var b = 0; b < 4; b++) {
      var band = d.bands[b];
      for (var i = 0; i < band.length; i += 3) {
        out.push("<rect class=\"b" + b + "\" x=\"" + X(band[i]).toFixed(1) + "\" y=\"" + (3 + 5 * b) + "\" width=\"" +
                 Math.max(X(band[i + 1]) - X(band[i]), 0.6).toFixed(1) + "\" height=\"4\"/>");
      }
    }
    out.push("<rect class=\"win\" x=\"0\" y=\"1\" width=\"0\" height=\"" + (OVERVIEW_H - 2) + "\"/>");
    this.overview.setAttribute("viewBox", "0 0 " + W + " " + OVERVIEW_H);
    this.overview.setAttribute("width", W);
    this.overview.setAttribute("height", OVERVIEW_H);
    this.overview.innerHTML = out.join("");
    this.X = X;
    this.moveWindow();
  };

  Timeline.prototype.moveWindow = function () {
    var win = this.overview.querySelector("rect.win");
    if (!win || !this.X) return;
    var x0 = this.X(this.t0), x1 = this.X(this.t1);
    win.setAttribute("x", x0.toFixed(1));
    win.setAttribute("width", Math.max(x1 - x0, 2).toFixed(1));
  };

  Timeline.prototype.resize = function () {
    this.W = 0;
    this.render();
    this.renderOverview();
  };

  // ------------------------------------------------------------------ the viewer
  var viewer = document.getElementById("viewer");
  var select = document.getElementById("file-select");
  var parsed = {}, shown = [], uid = 0, knownWidth = 0;
  function viewerWidth() {
    if (!knownWidth) knownWidth = viewer.clientWidth || 1000;
    return knownWidth;
  }
  function fileData(k) {
    if (!(k in parsed)) parsed[k] = JSON.parse(document.getElementById("teer-file-" + k).textContent);
    return parsed[k];
  }
  function draw(k, root) {
    var tl = Object.create(Timeline.prototype);
    tl.uid = uid++;  // names its clip path, one per timeline
    Timeline.call(tl, root || viewer, fileData(k));
    shown.push(tl);
    return tl;
  }
  var observer = null;
  function clear() {
    if (observer) observer.disconnect();
    observer = null;
    viewer.innerHTML = "";
    shown = [];
  }
  function showFile(name, scroll) {
    var k = NAMES.indexOf(name);
    if (k < 0) return;
    clear();
    draw(k);
    select.value = name;
    markRow(name);
    if (scroll) document.getElementById("timeline").scrollIntoView();
  }
  // Up to EAGER files, every timeline is drawn at once; beyond, each is drawn as it comes near
  // the screen, so that a page of hundreds of files stays responsive.
  var EAGER = 40;
  function showAll() {
    clear();
    markRow(null);
    if (NAMES.length <= EAGER || !("IntersectionObserver" in window)) {
      for (var k = 0; k < NAMES.length; k++) draw(k);
      return;
    }
    observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        var slot = entry.target;
        observer.unobserve(slot);
        slot.textContent = "";
        slot.className = "";
        draw(+slot.getAttribute("data-k"), slot);
      });
    }, {rootMargin: "800px 0px"});
    for (k = 0; k < NAMES.length; k++) {
      var slot = document.createElement("div");
      slot.className = "tl-wait";
      slot.setAttribute("data-k", String(k));
      slot.textContent = NAMES[k];
      viewer.appendChild(slot);
      observer.observe(slot);
    }
  }
  function markRow(name) {
    var rows = document.querySelectorAll("#file-table tbody tr");
    for (var i = 0; i < rows.length; i++) rows[i].classList.toggle("current", rows[i].getAttribute("data-file") === name);
  }
  function fromHash(scroll) {
    var h = location.hash;
    if (h === "#all") { showAll(); if (scroll) document.getElementById("timeline").scrollIntoView(); return true; }
    if (h.indexOf("#file=") === 0) {
      // #file=NAME, or #file=NAME&from=T0&to=T1: a window of it (names are URI-encoded: no raw "&")
      var parts = h.slice(6).split("&"), name = decodeURIComponent(parts[0]), window_ = {};
      parts.slice(1).forEach(function (p) { var kv = p.split("="); window_[kv[0]] = parseFloat(kv[1]); });
      if (NAMES.indexOf(name) >= 0) {
        showFile(name, scroll);
        if (isFinite(window_.from) && isFinite(window_.to)) shown[0].setWindow(window_.from, window_.to);
        return true;
      }
    }
    return false;
  }
  // the address names the window shown (a link to it shows the same), at most every 300 ms
  var addressTimer = null;
  function keepAddress(tl) {
    if (shown.length !== 1 || !window.history || !history.replaceState) return;
    clearTimeout(addressTimer);
    addressTimer = setTimeout(function () {
      try {
        history.replaceState(null, "", "#file=" + encodeURIComponent(tl.d.file) + "&from=" + tl.t0.toFixed(3) +
                             "&to=" + tl.t1.toFixed(3));
      } catch (e) { /* some browsers limit how often the address may change: it is only a convenience */ }
    }, 300);
  }
  if (select) {
    select.addEventListener("change", function () { location.hash = "file=" + encodeURIComponent(select.value); });
    document.getElementById("prev-file").addEventListener("click", function () { step(-1); });
    document.getElementById("next-file").addEventListener("click", function () { step(1); });
  }
  function step(k) {
    var i = Math.max(NAMES.indexOf(select.value), 0) + k;
    if (i >= 0 && i < NAMES.length) location.hash = "file=" + encodeURIComponent(NAMES[i]);
  }
  window.addEventListener("hashchange", function () { fromHash(true); });
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      knownWidth = 0;
      shown.forEach(function (tl) { tl.resize(); });
    }, 150);
  });

  // ------------------------------------------------------------------ legend
  var legend = document.getElementById("legend");
  if (legend) {
    var keys = DATA.emotions.map(function (name, e) {
      return "<span class=\"key\"><i style=\"background:" + colour(e) + "\"></i>" + esc(name) + "</span>";
    });
    keys.push("<span class=\"key\"><i style=\"background:" + NONE_COLOUR + "\"></i>(no emotion)</span>");
    BAND_TEXT.forEach(function (text, b) {
      keys.push("<span class=\"key\"><svg width=\"12\" height=\"12\"><rect class=\"b" + b +
                "\" width=\"12\" height=\"12\"/></svg> " + BAND_LABELS[b] + "</span>");
    });
    DATA.unscored_shown.forEach(function (k) {
      var text = DATA.unscored[k];
      keys.push("<span class=\"key\"><svg width=\"12\" height=\"12\"><rect class=\"g" + k +
                "\" width=\"12\" height=\"12\"/></svg> not scored: " + esc(text) + "</span>");
    });
    legend.innerHTML = keys.join("");
  }

  // ------------------------------------------------------------------ sortable tables
  function sortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var text = th.getAttribute("data-type") === "text";
        var tbody = table.tBodies[0];
        var rows = Array.prototype.slice.call(tbody.rows);
        rows.sort(function (a, b) {
          var va = JSON.parse(a.cells[col].getAttribute("data-v")), vb = JSON.parse(b.cells[col].getAttribute("data-v"));
          if (va === null && vb === null) return 0;
          if (va === null) return 1;  // n/a last, whichever the order
          if (vb === null) return -1;
          var c = text ? String(va).localeCompare(String(vb)) : va - vb;
          return asc ? c : -c;
        });
        rows.forEach(function (r) { tbody.appendChild(r); });
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);

  if (!fromHash(false) && NAMES.length) showFile(NAMES[0], false);
  body.setAttribute("data-draw-ms", (performance.now() - started).toFixed(0));
  body.setAttribute("data-ready", "1");
})();
