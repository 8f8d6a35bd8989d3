// actlab playground — the page. Plain JavaScript and canvas; the server trains, the page draws.
// State that tests read lives on window.playground.
"use strict";

const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const NEG = [245, 147, 34];   // orange: negative values, class 0
const MID = [232, 234, 235];  // near white
const POS = [8, 119, 189];    // blue: positive values, class 1
const CLASS_COLOURS = [[245, 147, 34], [8, 119, 189], [46, 160, 67], [148, 103, 189], [214, 39, 40],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
const SERVER_KEYS = ["dataset", "seed", "n_points", "noise", "train_ratio", "features", "layers",
  "activations", "optimizer", "lr", "batch_size", "regularization", "reg_rate", "init"];
const LIST_KEYS = new Set(["features", "layers", "activations"]);
const STRING_KEYS = new Set(["dataset", "optimizer", "regularization", "init"]);
const NODE = 34, ROW = 46, TOP = 84;

const pg = window.playground = {
  config: null, settings: null, session: null, data: null, last: null, frames: 0,
  history: [], connected: false, errors: null, playing: false, ui: { showTest: false, discretize: false, plotLayer: 0 },
};
const $ = (id) => document.getElementById(id);
let ws = null;
const curveCache = {};

// ---------------------------------------------------------------------------------------------
// colours
function lerp(a, b, t) { return [0, 1, 2].map((i) => a[i] + (b[i] - a[i]) * t); }
function diverging(t) {  // t in [-1, 1]
  t = Math.max(-1, Math.min(1, t));
  return t < 0 ? lerp(MID, NEG, -t) : lerp(MID, POS, t);
}
function rgb(c, alpha) { return alpha === undefined ? `rgb(${c.map(Math.round).join(",")})` : `rgba(${c.map(Math.round).join(",")},${alpha})`; }
function decode(b64) {
  const s = atob(b64); const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// ---------------------------------------------------------------------------------------------
// URL hash: every setting, so a link reproduces the view
function readHash() {
  const out = {}; const ui = {};
  const text = location.hash.replace(/^#/, "");
  if (!text) return { settings: out, ui };
  for (const part of text.split("&")) {
    const [k, v = ""] = part.split("=").map(decodeURIComponent);
    if (k === "showTest") { ui.showTest = v === "true"; continue; }
    if (k === "discretize") { ui.discretize = v === "true"; continue; }
    if (!SERVER_KEYS.includes(k)) { out[k] = v; continue; }  // unknown keys go to the server, which names them
    if (LIST_KEYS.has(k)) out[k] = v === "" ? [] : v.split(",").map((x) => (k === "layers" ? Number(x) : x));
    else if (STRING_KEYS.has(k)) out[k] = v;
    else out[k] = Number(v);
  }
  return { settings: out, ui };
}
function writeHash() {
  if (!pg.settings) return;
  const parts = SERVER_KEYS.map((k) => {
    const v = pg.settings[k];
    return `${k}=${encodeURIComponent(Array.isArray(v) ? v.join(",") : String(v))}`;
  });
  parts.push(`showTest=${pg.ui.showTest}`, `discretize=${pg.ui.discretize}`);
  history.replaceState(null, "", "#" + parts.join("&"));
}

// ---------------------------------------------------------------------------------------------
// connection
function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}
function configure(partial) { send({ type: "configure", settings: partial }); }

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(`${proto}//${location.host}/ws`);
  ws.onopen = () => { pg.connected = true; setStatus("connected", "ok"); };
  ws.onclose = () => {
    pg.connected = false; pg.playing = false; updatePlay();
    setStatus("disconnected — reload the page", "bad");
  };
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "hello") onHello(msg);
    else if (msg.type === "settings") onSettings(msg.settings);
    else if (msg.type === "data") onData(msg);
    else if (msg.type === "frame") onFrame(msg);
    else if (msg.type === "error") onError(msg);
  };
}
function setStatus(text, cls) { const s = $("status"); s.textContent = text; s.className = "status " + (cls || ""); }

function onHello(msg) {
  pg.session = msg.session;
  $("export-weights").href = `/api/session/${msg.session}/model.safetensors`;
  $("export-code").href = `/api/session/${msg.session}/model.py`;
  onSettings(msg.settings, true);
  const wanted = readHash();
  Object.assign(pg.ui, wanted.ui);
  $("show-test").checked = pg.ui.showTest; $("discretize").checked = pg.ui.discretize;
  if (Object.keys(wanted.settings).length) configure(wanted.settings);
  else writeHash();
}

function onSettings(settings, quiet) {
  pg.settings = settings;
  clearErrors();
  syncControls();
  if (!quiet) writeHash();
}

function onError(msg) {
  const lines = [];
  document.querySelectorAll(".field-error").forEach((e) => e.remove());
  document.querySelectorAll(".field.invalid").forEach((e) => e.classList.remove("invalid"));
  if (msg.message) lines.push(msg.message);
  if (msg.errors) {
    for (const [field, text] of Object.entries(msg.errors)) {
      lines.push(`${field}: ${text}`);
      const box = document.querySelector(`.field[data-field="${CSS.escape(field)}"]`);
      if (box) {
        box.classList.add("invalid");
        const e = document.createElement("div"); e.className = "field-error"; e.textContent = text; box.appendChild(e);
      }
    }
  }
  pg.errors = msg;
  const el = $("errors"); el.textContent = lines.join("\n"); el.hidden = false;
  if (msg.settings) { pg.settings = msg.settings; syncControls(); }
}
function clearErrors() {
  pg.errors = null; $("errors").hidden = true;
  document.querySelectorAll(".field-error").forEach((e) => e.remove());
  document.querySelectorAll(".field.invalid").forEach((e) => e.classList.remove("invalid"));
}

function onData(msg) {
  pg.data = msg; pg.history = [];
  $("problem-kind").textContent = msg.kind === "multiclass" ? `${msg.n_classes} classes` : msg.kind;
  $("output-kind").textContent = msg.output;
  $("loss-kind").textContent = msg.loss;
  let legend = "";
  if (msg.kind === "regression") legend = "colour = predicted value, orange −1 … blue +1";
  else legend = msg.label_names.map((n, i) => `<span class="swatch" style="background:${rgb(CLASS_COLOURS[i])}"></span> ${n}`).join(" &nbsp;");
  $("legend").innerHTML = legend;
}

function onFrame(frame) {
  pg.last = frame; pg.frames += 1;
  pg.playing = frame.playing; updatePlay();
  if (pg.history.length && frame.epoch < pg.history[pg.history.length - 1].epoch) pg.history = [];
  pg.history.push({ epoch: frame.epoch + (frame.steps ? 0 : 0), train_loss: frame.train_loss, test_loss: frame.test_loss,
    train_acc: frame.train_acc, test_acc: frame.test_acc });
  if (pg.history.length > 3000) pg.history = pg.history.filter((_, i) => i % 2 === 0);
  $("epoch").textContent = String(frame.epoch).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fmt = (v) => (v === null || v === undefined ? "–" : v.toFixed(3));
  $("test-loss").textContent = frame.diverged ? "diverged" : fmt(frame.test_loss);
  $("train-loss").textContent = frame.diverged ? "diverged" : fmt(frame.train_loss);
  $("test-acc").textContent = frame.test_acc === null ? "–" : (100 * frame.test_acc).toFixed(1) + "%";
  $("train-acc").textContent = frame.train_acc === null ? "–" : (100 * frame.train_acc).toFixed(1) + "%";
  drawHeatmap(); drawNetwork(); drawCurves(); drawGradBars(); drawConfusion();
}

// ---------------------------------------------------------------------------------------------
// controls
function fillSelect(el, values, label) {
  el.innerHTML = "";
  for (const v of values) {
    const o = document.createElement("option"); o.value = String(v); o.textContent = label ? label(v) : String(v); el.appendChild(o);
  }
}
function activationOptions(select) {
  const byFamily = {};
  for (const a of pg.config.activations) if (pg.config.hidden.includes(a.name)) (byFamily[a.family] ||= []).push(a);
  for (const [family, items] of Object.entries(byFamily)) {
    const group = document.createElement("optgroup"); group.label = family;
    for (const a of items) {
      const o = document.createElement("option"); o.value = a.name; o.textContent = a.name; o.title = a.summary; group.appendChild(o);
    }
    select.appendChild(group);
  }
}

function buildControls() {
  const c = pg.config;
  fillSelect($("optimizer"), c.optimizers, (v) => ({ sgd: "SGD", momentum: "SGD + momentum", adam: "Adam" }[v] || v));
  fillSelect($("lr"), LEARNING_RATES);
  fillSelect($("regularization"), c.regularizations, (v) => ({ none: "None", l1: "L1", l2: "L2" }[v] || v));
  fillSelect($("reg_rate"), REG_RATES);
  fillSelect($("init"), c.inits);
  $("batch_size").max = c.limits.max_batch;
  $("n_points").max = c.limits.max_points;
  activationOptions($("activation-all"));
  const box = $("datasets");
  for (const name of Object.keys(c.datasets)) {
    const b = document.createElement("button"); b.textContent = name; b.dataset.dataset = name; b.title = c.datasets[name];
    b.onclick = () => configure({ dataset: name });
    box.appendChild(b);
  }
  const feats = $("features");
  for (const f of c.features) {
    const l = document.createElement("label");
    const i = document.createElement("input"); i.type = "checkbox"; i.value = f.name; i.dataset.feature = f.name;
    i.onchange = () => {
      const chosen = [...feats.querySelectorAll("input:checked")].map((x) => x.value);
      configure({ features: chosen });
    };
    l.appendChild(i); l.appendChild(document.createTextNode(f.label)); feats.appendChild(l);
  }
  for (const id of ["optimizer", "regularization", "init"]) $(id).onchange = () => configure({ [id]: $(id).value });
  $("lr").onchange = () => configure({ lr: Number($("lr").value) });
  $("reg_rate").onchange = () => configure({ reg_rate: Number($("reg_rate").value) });
  for (const id of ["batch_size", "n_points", "seed"]) $(id).onchange = () => configure({ [id]: Number($(id).value) });
  for (const id of ["noise", "train_ratio"]) {
    $(id).oninput = () => { $(id + "-value").textContent = $(id).value; };
    $(id).onchange = () => configure({ [id]: Number($(id).value) });
  }
  $("regenerate").onclick = () => configure({ seed: (pg.settings.seed + 1) % 2147483647 });
  $("activation-all").onchange = () => {
    const name = $("activation-all").value;
    if (name) configure({ activations: pg.settings.layers.map(() => name) });
    $("activation-all").value = "";
  };
  $("add-layer").onclick = () => {
    const s = pg.settings;
    configure({ layers: [...s.layers, s.layers.length ? s.layers[s.layers.length - 1] : 2],
      activations: [...s.activations, s.activations.length ? s.activations[s.activations.length - 1] : "tanh"] });
  };
  $("remove-layer").onclick = () => {
    const s = pg.settings;
    configure({ layers: s.layers.slice(0, -1), activations: s.activations.slice(0, -1) });
  };
  $("play").onclick = () => send({ type: pg.playing ? "pause" : "play" });
  $("step").onclick = () => send({ type: "step" });
  $("reset").onclick = () => send({ type: "reset" });
  $("show-test").onchange = () => { pg.ui.showTest = $("show-test").checked; writeHash(); drawHeatmap(); };
  $("discretize").onchange = () => { pg.ui.discretize = $("discretize").checked; writeHash(); drawHeatmap(); };
  $("plot-layer").onchange = () => { pg.ui.plotLayer = Number($("plot-layer").value); drawActivationPlot(); };
  $("copy-link").onclick = async () => {
    try { await navigator.clipboard.writeText(location.href); $("copy-link").textContent = "Copied"; }
    catch (e) { prompt("Copy this link", location.href); }
    setTimeout(() => { $("copy-link").textContent = "Share link"; }, 1500);
  };
  $("upload").onchange = uploadFile;
}

async function uploadFile() {
  const file = $("upload").files[0];
  if (!file) return;
  const info = $("upload-info");
  if (file.size > pg.config.limits.max_upload_bytes) {
    onError({ errors: { dataset: `file of ${file.size} bytes is over the limit of ${pg.config.limits.max_upload_bytes}` } });
    return;
  }
  info.textContent = "uploading…";
  const response = await fetch("/api/upload", { method: "POST", body: file, headers: { "Content-Type": "text/csv" } });
  const body = await response.json().catch(() => ({ error: `upload failed (${response.status})` }));
  if (!response.ok) { info.textContent = ""; onError({ errors: { dataset: body.error || `upload failed (${response.status})` } }); return; }
  info.textContent = `${file.name}: ${body.rows} rows, ${body.kind}${body.n_classes ? " (" + body.n_classes + " classes)" : ""}`;
  configure({ dataset: body.dataset });
}

function syncControls() {
  const s = pg.settings;
  if (!s || !pg.config) return;
  for (const id of ["optimizer", "regularization", "init"]) $(id).value = s[id];
  for (const [id, list] of [["lr", LEARNING_RATES], ["reg_rate", REG_RATES]]) {
    const select = $(id);
    if (!list.includes(s[id]) && ![...select.options].some((o) => Number(o.value) === s[id])) {
      const o = document.createElement("option"); o.value = String(s[id]); o.textContent = String(s[id]); select.appendChild(o);
    }
    select.value = [...select.options].find((o) => Number(o.value) === s[id]).value;
  }
  for (const id of ["batch_size", "n_points", "seed", "noise", "train_ratio"]) $(id).value = s[id];
  $("noise-value").textContent = s.noise; $("train_ratio-value").textContent = s.train_ratio;
  document.querySelectorAll("#datasets button").forEach((b) => b.classList.toggle("selected", b.dataset.dataset === s.dataset));
  document.querySelectorAll("#features input").forEach((i) => { i.checked = s.features.includes(i.value); });
  $("layer-count").textContent = s.layers.length;
  $("add-layer").disabled = s.layers.length >= pg.config.limits.max_layers;
  $("remove-layer").disabled = s.layers.length === 0;
  buildLayerControls();
  const plot = $("plot-layer");
  fillSelect(plot, s.layers.map((_, i) => i), (i) => String(i + 1));
  if (pg.ui.plotLayer >= s.layers.length) pg.ui.plotLayer = 0;
  plot.value = String(pg.ui.plotLayer);
  drawActivationPlot();
  drawNetwork();
}

function buildLayerControls() {
  const s = pg.settings;
  const box = $("layers"); box.innerHTML = "";
  const xs = columnXs();
  s.layers.forEach((width, i) => {
    const div = document.createElement("div"); div.className = "layer-controls field"; div.dataset.layer = i;
    div.style.position = "absolute"; div.style.left = `${(xs[i + 1] / $("network").width) * 100}%`;
    div.style.transform = "translateX(-50%)"; div.style.width = "112px";
    const plus = document.createElement("button"); plus.textContent = "+"; plus.className = "add-neuron";
    plus.disabled = width >= pg.config.limits.max_width;
    plus.onclick = () => { const l = [...s.layers]; l[i] += 1; configure({ layers: l }); };
    const minus = document.createElement("button"); minus.textContent = "−"; minus.className = "remove-neuron";
    minus.disabled = width <= 1;
    minus.onclick = () => { const l = [...s.layers]; l[i] -= 1; configure({ layers: l }); };
    const label = document.createElement("div"); label.textContent = `${width} neuron${width === 1 ? "" : "s"}`;
    const select = document.createElement("select"); select.className = "activation"; select.dataset.layer = i;
    activationOptions(select); select.value = s.activations[i];
    select.onchange = () => {
      const acts = [...s.activations]; acts[i] = select.value; pg.ui.plotLayer = i; configure({ activations: acts });
    };
    select.onfocus = () => { pg.ui.plotLayer = i; $("plot-layer").value = String(i); drawActivationPlot(); };
    label.className = "layer-width";
    const row = document.createElement("div"); row.append(plus, minus, label);
    label.style.display = "inline-block"; label.style.marginLeft = "4px";
    div.append(row, select);
    box.appendChild(div);
  });
}

function updatePlay() {
  $("play").textContent = pg.playing ? "II" : "▶";
}

// ---------------------------------------------------------------------------------------------
// drawing: output heatmap with points
const heatCanvas = document.createElement("canvas");
function drawHeatmap() {
  const f = pg.last, d = pg.data;
  if (!f || !d) return;
  const n = d.heatmap_size;
  heatCanvas.width = n; heatCanvas.height = n;
  const hctx = heatCanvas.getContext("2d");
  const img = hctx.createImageData(n, n);
  const heat = decode(f.heatmap);
  const conf = f.confidence ? decode(f.confidence) : null;
  for (let i = 0; i < n * n; i++) {
    let c;
    if (d.kind === "multiclass") {
      const k = d.n_classes;
      const strength = pg.ui.discretize ? 1 : Math.max(0, (conf[i] / 255 - 1 / k) / (1 - 1 / k));
      c = lerp(MID, CLASS_COLOURS[heat[i] % CLASS_COLOURS.length], 0.25 + 0.6 * strength);
    } else {
      let t = heat[i] / 127.5 - 1;
      if (pg.ui.discretize) t = t >= 0 ? 1 : -1;
      c = diverging(t * 0.85);
    }
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
  }
  hctx.putImageData(img, 0, 0);
  const canvas = $("heatmap"), ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(heatCanvas, 0, 0, canvas.width, canvas.height);
  const toPx = (x, y) => [(x + d.view) / (2 * d.view) * canvas.width, (d.view - y) / (2 * d.view) * canvas.height];
  const drawSet = (set, test) => {
    for (let i = 0; i < set.x.length; i++) {
      const [px, py] = toPx(set.x[i][0], set.x[i][1]);
      const y = set.y[i];
      const c = d.kind === "regression" ? diverging(y) : CLASS_COLOURS[y % CLASS_COLOURS.length];
      ctx.beginPath(); ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = rgb(c); ctx.fill();
      ctx.lineWidth = 1; ctx.strokeStyle = test ? "#000" : "#fff"; ctx.stroke();
    }
  };
  drawSet(d.train, false);
  if (pg.ui.showTest) drawSet(d.test, true);
}

// drawing: the network
function columnXs() {
  const s = pg.settings, W = $("network").width;
  const n = s ? s.layers.length : 0;
  const left = 50, right = W - 40;
  const xs = [left];
  for (let i = 0; i < n; i++) xs.push(left + 70 + (i + 0.5) * ((right - left - 120) / Math.max(n, 1)));
  xs.push(right);
  return xs;
}
function thumbnail(bytes, size, colour) {
  const c = document.createElement("canvas"); c.width = size; c.height = size;
  const ctx = c.getContext("2d"); const img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const col = colour(bytes[i]);
    img.data[4 * i] = col[0]; img.data[4 * i + 1] = col[1]; img.data[4 * i + 2] = col[2]; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}
function featureThumb(name, size, view) {
  const bytes = new Uint8Array(size * size);
  const fn = { x1: (a) => a / view, x2: (a, b) => b / view, x1sq: (a) => (a * a) / (view * view) * 2 - 1,
    x2sq: (a, b) => (b * b) / (view * view) * 2 - 1, x1x2: (a, b) => (a * b) / (view * view),
    sinx1: (a) => Math.sin(a), sinx2: (a, b) => Math.sin(b) }[name];
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) {
    const x = -view + (c + 0.5) * 2 * view / size, y = view - (r + 0.5) * 2 * view / size;
    bytes[r * size + c] = Math.round(128 + 127 * Math.max(-1, Math.min(1, fn(x, y))));
  }
  return bytes;
}
function drawNetwork() {
  const s = pg.settings, f = pg.last, d = pg.data, canvas = $("network");
  if (!s || !pg.config) return;
  const widths = [s.features.length, ...s.layers, f && f.weights.length ? f.weights[f.weights.length - 1].length : 1];
  const H = TOP + Math.max(...widths) * ROW + 10;
  if (canvas.height !== H) canvas.height = H;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const xs = columnXs();
  const ys = widths.map((n) => Array.from({ length: n }, (_, i) => TOP + i * ROW + NODE / 2));
  // links first, nodes on top
  if (f && f.weights.length === widths.length - 1) {
    f.weights.forEach((W, l) => {
      W.forEach((row, j) => row.forEach((w, i) => {
        if (ys[l][i] === undefined || ys[l + 1][j] === undefined) return;
        ctx.beginPath();
        ctx.moveTo(xs[l] + NODE / 2, ys[l][i]); ctx.lineTo(xs[l + 1] - NODE / 2, ys[l + 1][j]);
        ctx.strokeStyle = rgb(w >= 0 ? POS : NEG, Math.min(1, 0.25 + Math.abs(w)));
        ctx.lineWidth = Math.max(0.5, Math.min(8, Math.abs(w) * 3));
        ctx.stroke();
      }));
    });
  }
  const diverge = (b) => diverging((b - 128) / 127);
  const view = d ? d.view : 6, size = d ? d.thumb_size : 20;
  const labels = Object.fromEntries(pg.config.features.map((x) => [x.name, x.label]));
  s.features.forEach((name, i) => {
    const img = thumbnail(featureThumb(name, size, view), size, diverge);
    ctx.drawImage(img, xs[0] - NODE / 2, ys[0][i] - NODE / 2, NODE, NODE);
    ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.strokeRect(xs[0] - NODE / 2, ys[0][i] - NODE / 2, NODE, NODE);
    ctx.fillStyle = "#333"; ctx.font = "10px system-ui"; ctx.textAlign = "center";
    ctx.fillText(labels[name], xs[0], ys[0][i] + NODE / 2 + 10);
  });
  s.layers.forEach((width, l) => {
    for (let j = 0; j < width; j++) {
      const x = xs[l + 1] - NODE / 2, y = ys[l + 1][j] - NODE / 2;
      if (f && f.neurons[l] && f.neurons[l][j]) ctx.drawImage(thumbnail(decode(f.neurons[l][j]), size, diverge), x, y, NODE, NODE);
      const dead = f && f.dead[l] && f.dead[l][j];
      ctx.strokeStyle = dead ? "#c0392b" : "#999"; ctx.lineWidth = dead ? 3 : 1; ctx.strokeRect(x, y, NODE, NODE);
      if (dead) {
        ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + NODE, y + NODE); ctx.moveTo(x + NODE, y); ctx.lineTo(x, y + NODE);
        ctx.strokeStyle = "rgba(192,57,43,0.8)"; ctx.lineWidth = 2; ctx.stroke();
      }
    }
  });
  // output node(s): a miniature of the output heatmap
  const out = widths.length - 1;
  ys[out].forEach((y) => {
    const x = xs[out] - NODE / 2;
    if (f) ctx.drawImage($("heatmap"), x, y - NODE / 2, NODE, NODE);
    ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.strokeRect(x, y - NODE / 2, NODE, NODE);
  });
  ctx.fillStyle = "#555"; ctx.textAlign = "center"; ctx.font = "11px system-ui";
  ctx.fillText("output", xs[out], TOP - 8);
  ctx.fillText("input", xs[0], TOP - 8);
  const deadCount = f ? f.dead.flat().filter(Boolean).length : 0;
  ctx.textAlign = "left";
  if (deadCount) { ctx.fillStyle = "#c0392b"; ctx.fillText(`${deadCount} dead neuron${deadCount > 1 ? "s" : ""}`, 4, canvas.height - 4); }
}

// drawing: loss and accuracy curves
function drawCurves() {
  const canvas = $("curves"), ctx = canvas.getContext("2d"), h = pg.history;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (h.length < 1) return;
  const W = canvas.width, H = canvas.height, pad = 4;
  const losses = h.flatMap((p) => [p.train_loss, p.test_loss]).filter((v) => v !== null && isFinite(v));
  const maxLoss = Math.max(1e-6, ...losses);
  const x = (i) => pad + (W - 2 * pad) * (h.length === 1 ? 0 : i / (h.length - 1));
  const line = (key, scale, colour, dash) => {
    ctx.beginPath(); ctx.setLineDash(dash || []); let started = false;
    h.forEach((p, i) => {
      const v = p[key]; if (v === null || v === undefined || !isFinite(v)) return;
      const y = H - pad - (H - 2 * pad) * Math.min(1, v / scale);
      if (!started) { ctx.moveTo(x(i), y); started = true; } else ctx.lineTo(x(i), y);
    });
    ctx.strokeStyle = colour; ctx.lineWidth = 1.5; ctx.stroke(); ctx.setLineDash([]);
  };
  line("train_loss", maxLoss, "#999"); line("test_loss", maxLoss, "#222");
  line("train_acc", 1, "rgba(8,119,189,0.5)", [4, 3]); line("test_acc", 1, "rgb(8,119,189)", [4, 3]);
  ctx.fillStyle = "#777"; ctx.font = "10px system-ui"; ctx.textAlign = "left";
  ctx.fillText(`loss (max ${maxLoss.toFixed(3)}): grey train, black test · accuracy dashed blue`, 6, 12);
}

function drawGradBars() {
  const f = pg.last, canvas = $("gradbars"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!f) return;
  const g = f.grad_norms.map((v) => (v === null ? 0 : v));
  const max = Math.max(1e-12, ...g), n = g.length, W = canvas.width, H = canvas.height;
  const bw = Math.min(60, (W - 20) / n - 10);
  g.forEach((v, i) => {
    const bh = (H - 30) * (v / max), x = 10 + i * (bw + 10);
    ctx.fillStyle = "#183d4e"; ctx.fillRect(x, H - 16 - bh, bw, bh);
    ctx.fillStyle = "#555"; ctx.font = "10px system-ui"; ctx.textAlign = "center";
    ctx.fillText(i === n - 1 ? "out" : `L${i + 1}`, x + bw / 2, H - 4);
    ctx.fillText(v.toExponential(1), x + bw / 2, H - 19 - bh);
  });
}

function drawConfusion() {
  const f = pg.last, d = pg.data, table = $("confusion");
  if (!f || !f.confusion || !d) { table.innerHTML = "<tr><td>regression: no classes</td></tr>"; return; }
  let html = "<tr><th></th>" + d.label_names.map((n) => `<th>${n}</th>`).join("") + "</tr>";
  f.confusion.forEach((row, i) => { html += `<tr><th>${d.label_names[i]}</th>` + row.map((v) => `<td>${v}</td>`).join("") + "</tr>"; });
  table.innerHTML = html;
}

// drawing: the chosen activation and its derivative
async function drawActivationPlot() {
  const s = pg.settings; if (!s || !s.activations.length) { $("plot-name").textContent = "(no hidden layers)"; return; }
  const name = s.activations[Math.min(pg.ui.plotLayer, s.activations.length - 1)];
  if (!curveCache[name]) {
    const r = await fetch(`/api/activation/${encodeURIComponent(name)}`);
    if (!r.ok) return;
    curveCache[name] = await r.json();
  }
  const c = curveCache[name];
  $("plot-name").textContent = name;
  $("activation-formula").textContent = `${c.formula}\n${c.derivative_formula}`;
  const canvas = $("activation-plot"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  const values = [...c.f, ...c.df].filter((v) => v !== null);
  let lo = Math.min(...values), hi = Math.max(...values);
  lo = Math.max(lo, -6); hi = Math.min(hi, 6);
  if (hi - lo < 1e-9) { hi += 1; lo -= 1; }
  const x0 = c.x[0], x1 = c.x[c.x.length - 1];
  const px = (x) => 30 + (W - 40) * (x - x0) / (x1 - x0), py = (y) => H - 16 - (H - 26) * (y - lo) / (hi - lo);
  ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1; ctx.beginPath();
  ctx.moveTo(px(x0), py(0)); ctx.lineTo(px(x1), py(0)); ctx.moveTo(px(0), py(lo)); ctx.lineTo(px(0), py(hi)); ctx.stroke();
  const curve = (ys, colour, dash) => {
    ctx.beginPath(); ctx.setLineDash(dash); let pen = false;
    ys.forEach((y, i) => {
      if (y === null) { pen = false; return; }
      const yy = py(Math.max(lo, Math.min(hi, y)));
      if (!pen) { ctx.moveTo(px(c.x[i]), yy); pen = true; } else ctx.lineTo(px(c.x[i]), yy);
    });
    ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.stroke(); ctx.setLineDash([]);
  };
  curve(c.f, "rgb(8,119,189)", []); curve(c.df, "rgb(245,147,34)", [5, 3]);
  ctx.fillStyle = "#555"; ctx.font = "11px system-ui"; ctx.textAlign = "left";
  ctx.fillText(`f (blue), f′ (orange dashed) on [${x0}, ${x1}]`, 34, 12);
  ctx.textAlign = "right"; ctx.fillText(hi.toFixed(2), 28, py(hi) + 8); ctx.fillText(lo.toFixed(2), 28, py(lo));
}

// ---------------------------------------------------------------------------------------------
async function start() {
  const r = await fetch("/api/config");
  pg.config = await r.json();
  buildControls();
  connect();
  window.addEventListener("hashchange", () => {
    const wanted = readHash();
    if (Object.keys(wanted.settings).length) configure(wanted.settings);
  });
}
start();
