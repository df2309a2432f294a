"use strict";
// seqcli serve's page: generate (streamed, each token coloured by a unit, its alternatives on
// hover) and classify (each token coloured by its attribution). Model and user text only
// ever reach the page through textContent / text nodes, never as HTML.

const CONFIG = JSON.parse(document.getElementById("config").textContent);
const PALETTE = CONFIG.palette, SCALES = CONFIG.scales;
const KEY = "seqcli-api-key";
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
};

// ---- the API -------------------------------------------------------------------------------

class ApiError extends Error {}

async function api(path, body, signal) {
  const headers = {};
  const key = sessionStorage.getItem(KEY);
  if (key) headers.authorization = "Bearer " + key;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(CONFIG.base + path, {
    method: body === undefined ? "GET" : "POST", headers, signal,
    body: body === undefined ? undefined : JSON.stringify(body)});
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
  if (response.status === 401) askKey(message);
  const error = new ApiError(message);
  error.status = response.status;
  throw error;
}

const post = async (path, body) => (await api(path, body)).json();

function askKey(message) {
  $("key").hidden = false;
  $("key-note").textContent = sessionStorage.getItem(KEY) ? message : "";
  sessionStorage.removeItem(KEY);
  $("key-input").focus();
}

// Server-Sent Events from a fetch body: calls onData with each event's parsed data.
async function readEvents(response, onData) {
  const reader = response.body.getReader(), decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of block.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        onData(JSON.parse(data));
      }
    }
  }
}

// ---- colours: the palette and scales of seqcli/token_view.py, emitted by the server ---------

function intensity(value, scale) {
  if (!Number.isFinite(value) || !(scale.limit > 0)) return 0;
  return Math.min(1, Math.max(scale.sequential ? 0 : -1, value / scale.limit));
}

function paint(span, value, scale) {
  const v = intensity(value, scale), sign = v >= 0 ? "positive" : "negative";
  const step = Math.round(Math.abs(v) * PALETTE.steps), [r, g, b] = PALETTE[sign];
  span.style.backgroundColor = `rgba(${r},${g},${b},${step / PALETTE.steps})`;
  span.className = `l${PALETTE.ink.light[sign][step]} d${PALETTE.ink.dark[sign][step]}`;
}

function unpaint(span) {
  span.style.backgroundColor = "";
  span.className = "";
}

// The BCP 47 hint of seqcli/data/scripts.py's language_hint, from the same ranges.
function scriptsIn(text, found) {
  for (const char of text) {
    const c = char.codePointAt(0);
    for (const name of ["kana", "hangul", "han"]) {
      if (CONFIG.scripts[name].some(([a, b]) => a <= c && c <= b)) found.add(name);
    }
  }
  return found.has("kana") ? "ja" : found.has("hangul") ? "ko" : found.has("han") ? "zh" : "";
}

const shown = (token) => token.replace(/ /g, "␣").replace(/\n/g, "⏎").replace(/\t/g, "⇥");
const percent = (p) => `${(p * 100).toFixed(1)}%`;
const signed = (x, digits = 4) => (x >= 0 ? "+" : "") + x.toFixed(digits);

// ---- a text whose tokens are spans, growing at the end, walked by mouse or keyboard ---------

class TokenText {
  constructor(box, describe) {
    this.box = box;
    this.describe = describe;  // (token index) -> shows its details
    box.addEventListener("mouseover", (e) => this.pointAt(e.target));
    box.addEventListener("click", (e) => this.pointAt(e.target));
    box.addEventListener("focus", () => this.select(this.current < 0 ? 0 : this.current));
    box.addEventListener("keydown", (e) => this.key(e));
    this.reset("");
  }

  reset(lead) {  // `lead`: text shown before the tokens, uncoloured (the prime)
    this.box.textContent = "";
    this.text = "";
    this.covered = 0;
    this.spans = [];
    this.current = -1;
    this.scripts = new Set();
    if (lead) this.box.append(el("span", lead, "prime"));
    this.tail = document.createTextNode("");
    this.box.append(this.tail);
    this.box.lang = scriptsIn(lead, this.scripts);
  }

  extend(piece) {
    this.text += piece;
    this.tail.data = this.text.slice(this.covered);
    this.box.lang = scriptsIn(piece, this.scripts);
  }

  // A token at [start, end) of the text: its span (characters two tokens share are shown once,
  // with the first, as token_view.pieces does).
  token(start, end) {
    if (start > this.covered) {
      this.tail.before(document.createTextNode(this.text.slice(this.covered, start)));
    }
    const span = el("span", this.text.slice(Math.max(start, this.covered), end));
    span.dataset.k = this.spans.length;
    this.spans.push(span);
    if (span.textContent) this.tail.before(span);
    this.covered = Math.max(this.covered, end);
    this.tail.data = this.text.slice(this.covered);
    return span;
  }

  pointAt(target) {
    if (target.dataset && target.dataset.k !== undefined) this.select(+target.dataset.k);
  }

  select(k) {
    if (!this.spans.length) return;
    k = Math.max(0, Math.min(this.spans.length - 1, k));
    if (this.current >= 0) this.spans[this.current].classList.remove("cur");
    this.current = k;
    this.spans[k].classList.add("cur");
    this.describe(k);
  }

  key(e) {
    const moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
    if (e.key in moves) this.select(this.current + moves[e.key]);
    else if (e.key === "Home") this.select(0);
    else if (e.key === "End") this.select(this.spans.length - 1);
    else return;
    e.preventDefault();
    this.spans[this.current]?.scrollIntoView({block: "nearest"});
  }
}

// ---- generate ------------------------------------------------------------------------------

const gen = {model: null, records: [], trace: null, controller: null, top: {}, largest: 1e-6};
const genText = new TokenText($("out"), describeGenerated);

function numberField(id, parse = Number) {
  const raw = $(id).value.trim();
  return raw === "" ? undefined : parse(raw);
}

function completionBody() {
  const body = {model: gen.model.id, prompt: $("prime").value, stream: true, logprobs: 5,
                max_tokens: numberField("length", parseInt) ?? 200,
                temperature: numberField("temperature") ?? 0.8};
  const topP = numberField("top-p"), seed = numberField("seed", parseInt);
  if (topP !== undefined) body.top_p = topP;
  if (seed !== undefined) body.seed = seed;
  const stop = $("stop").value.replace(/\\n/g, "\n");
  if (stop) body.stop = stop;
  if ($("colour").checked) {
    const unit = +$("unit").value, suggested = Object.keys(gen.top).map(Number);
    body.trace = {layer: +$("layer").value, signal: $("signal").value,
                  units: [...new Set([unit, ...suggested])]};
  }
  return body;
}

async function generate() {
  if (gen.controller) return;
  const body = completionBody();
  gen.controller = new AbortController();
  gen.records = [];
  gen.trace = body.trace ?? null;
  gen.reason = null;
  gen.largest = 1e-6;
  genText.reset(body.prompt);
  $("out").dataset.chunks = 0;
  $("details").textContent = "";
  setRunning(true, "generating…");
  try {
    const response = await api("v1/completions", body, gen.controller.signal);
    await readEvents(response, onChunk);
    setRunning(false, `${gen.records.length} tokens` + (gen.reason ? ` (${gen.reason})` : ""));
    if (genText.text.length >= 40) suggest(body.prompt + genText.text);
  } catch (error) {
    const stopped = error.name === "AbortError";
    gen.controller.abort();  // an error event: the stream is over for us too
    setRunning(false, stopped ? `stopped after ${gen.records.length} tokens` : error.message,
               stopped ? "stopped" : "error");
  }
  recolour();
}

function setRunning(running, message, state) {
  if (!running) gen.controller = null;
  $("generate").disabled = running;
  $("halt").disabled = !running;
  $("gen-status").textContent = message;
  $("lm").dataset.state = state ?? (running ? "running" : "done");
}

function onChunk(data) {
  if (data.error) throw new ApiError(data.error.message);
  if (data.warnings) $("gen-status").textContent = data.warnings.join("; ");
  $("out").dataset.chunks = +$("out").dataset.chunks + 1;
  const first = gen.records.length;
  for (const choice of data.choices) {
    genText.extend(choice.text);
    const lp = choice.logprobs;
    for (let i = 0; lp && i < lp.tokens.length; i++) {
      const start = lp.text_offset[i], token = lp.tokens[i];
      const end = Math.min(genText.text.length, start + Math.max(1, token.length));
      gen.records.push({token, logprob: lp.token_logprobs[i], top: lp.top_logprobs[i],
                        values: choice.trace ? choice.trace.values[i] : null,
                        span: genText.token(start, Math.max(start, end))});
    }
    if (choice.finish_reason) gen.reason = choice.finish_reason;
  }
  recolour(first);
}

// How the chosen unit's values are read: the scale and where the unit sits in the trace.
function view() {
  const signal = $("signal").value, unit = +$("unit").value, trace = gen.trace;
  const kind = CONFIG.gates.includes(signal) ? "gate" : signal === "cell" ? "cell" : "hidden";
  const matches = trace && trace.layer === +$("layer").value && trace.signal === signal;
  return {kind, unit, signal, column: matches ? trace.units.indexOf(unit) : -1};
}

// Paints the tokens from `from` on (all of them when the view or, for a cell state, the
// scale changed): a stream paints only its new tokens.
function recolour(from = 0) {
  const v = view(), on = $("colour").checked && v.column >= 0;
  const value = (r) => (on && r.values ? r.values[v.column] : NaN);
  const scale = {...SCALES[v.kind]};
  if (scale.limit === null) {  // the unit's largest magnitude in the text
    const fresh = gen.records.slice(from).map(value).filter(Number.isFinite).map(Math.abs);
    const largest = Math.max(from ? gen.largest : 1e-6, ...fresh);
    if (largest > gen.largest) from = 0;
    gen.largest = scale.limit = largest;
  }
  for (const r of gen.records.slice(from)) on ? paint(r.span, value(r), scale) : unpaint(r.span);
  if (genText.current >= 0) gen.records[genText.current].span.classList.add("cur");
  let legend = "";
  if (on) legend = `layer ${$("layer").value}, ${v.signal}, unit ${v.unit}: ${scale.legend}`;
  else if ($("colour").checked && gen.records.length) {
    legend = `unit ${v.unit} of ${v.signal}, layer ${$("layer").value} was not traced in ` +
             "this text: generate again to colour by it";
  }
  $("legend").textContent = legend;
}

function alternatives(top, chosen) {
  const list = el("ol");
  const entries = Object.entries(top || {}).sort((a, b) => b[1] - a[1]);
  for (const [token, logprob] of entries) {
    const item = el("li", undefined, token === chosen ? "chosen" : "");
    const meter = el("span", undefined, "meter");
    meter.style.width = `${Math.exp(logprob) * 100}%`;
    item.append(el("code", shown(token)), el("span", percent(Math.exp(logprob))), meter);
    list.append(item);
  }
  return list;
}

function describeGenerated(k) {
  const record = gen.records[k], v = view(), box = $("details");
  const head = el("p");
  head.append(el("code", shown(record.token), "tok"),
              ` probability ${percent(Math.exp(record.logprob))}`);
  if (record.values && v.column >= 0) {
    head.append(` · unit ${v.unit} (${v.signal}): ${signed(record.values[v.column])}`);
  }
  box.replaceChildren(head, el("p", "The model's five most likely tokens here:", "note"),
                      alternatives(record.top, record.token));
}

// ---- suggested units (POST /v1/inspect on a text) -------------------------------------------

async function suggest(text) {
  const box = $("suggest");
  const body = {model: gen.model.id, input: text || CONFIG.sample, layer: +$("layer").value,
                signal: $("signal").value, top: 3};
  try {
    const found = await post("v1/inspect", body);
    gen.top = {};
    box.replaceChildren();
    for (const [property, pairs] of Object.entries(found.top)) {
      for (const [unit, r] of pairs) {
        gen.top[unit] = true;
        const button = el("button", `${property.replace(/_/g, " ")}: ${unit} (r ${signed(r, 2)})`);
        button.type = "button";
        button.dataset.unit = unit;
        button.addEventListener("click", () => chooseUnit(unit));
        box.append(button);
      }
    }
    if (!box.children.length) box.append(el("span", "none: no property varies enough", "note"));
    markChosen();
  } catch (error) {
    box.replaceChildren(el("span", error.message, "note"));
  }
  box.dataset.for = `${body.layer}/${body.signal}`;  // what the suggestions are for
}

function chooseUnit(unit) {
  $("unit").value = unit;
  $("colour").checked = true;
  markChosen();
  recolour();
}

function markChosen() {
  for (const button of $("suggest").children) {
    if (button.dataset.unit !== undefined) {
      button.setAttribute("aria-pressed", String(button.dataset.unit === $("unit").value));
    }
  }
}

function setUpGenerate(model) {
  gen.model = model;
  const layer = $("layer"), signal = $("signal");
  layer.replaceChildren(...Array.from({length: model.layers}, (_, i) => new Option(i + 1, i + 1)));
  layer.value = model.layers;
  signal.replaceChildren(...model.signals.map((s) => new Option(s, s)));
  $("unit").max = model.hidden_size - 1;
  for (const control of [layer, signal]) {
    control.addEventListener("change", () => { suggest(sampleText()); recolour(); });
  }
  $("unit").addEventListener("input", () => { markChosen(); recolour(); });
  $("colour").addEventListener("change", recolour);
  $("gen").addEventListener("submit", (e) => { e.preventDefault(); generate(); });
  $("halt").addEventListener("click", () => gen.controller?.abort());
  submitOnEnter($("prime"), $("gen"));
  suggest(sampleText());
}

const sampleText = () =>
  genText.text.length >= 40 ? $("prime").value + genText.text : CONFIG.sample;

// ---- classify ------------------------------------------------------------------------------

const cls = {model: null, tokens: []};
const clsText = new TokenText($("cls-out"), describeClassified);

async function classify() {
  const input = $("cls-text").value, steps = numberField("steps", parseInt) ?? 50;
  if (!input.trim()) return;
  $("classify").disabled = true;
  $("cls-status").textContent = "classifying…";
  $("clf").dataset.state = "running";
  try {
    const [labels, why] = await Promise.all([
      post("v1/classify", {model: cls.model.id, input}),
      post("v1/explain", {model: cls.model.id, input, steps})]);
    showLabels(labels.data[0]);
    showExplanation(why.explanations[0]);
    $("cls-status").textContent = (labels.warnings || []).join("; ");
    $("clf").dataset.state = "done";
  } catch (error) {
    $("cls-status").textContent = error.message;
    $("clf").dataset.state = "error";
  }
  $("classify").disabled = false;
}

function showLabels(result) {
  const verdict = $("verdict");
  verdict.replaceChildren(el("b", result.label), ` ${percent(result.probability)}`);
  const rows = Object.entries(result.probabilities).sort((a, b) => b[1] - a[1]);
  $("probs").replaceChildren(...rows.map(([label, p]) => {
    const item = el("li", undefined, label === result.label ? "chosen" : "");
    const meter = el("span", undefined, "meter");
    meter.style.width = `${p * 100}%`;
    item.append(el("span", label), el("span", percent(p)), meter);
    return item;
  }));
}

function showExplanation(result) {
  clsText.reset("");
  clsText.extend(result.text);
  const scale = {...SCALES.explain};
  scale.limit = Math.max(0, ...result.tokens.map((t) => Math.abs(t.score)));
  cls.tokens = result.tokens;
  cls.target = result.target;
  for (const t of result.tokens) paint(clsText.token(t.start, t.end), t.score, scale);
  $("cls-help2").hidden = false;
  $("gap").textContent = `Scores toward ${result.target}; completeness gap ` +
    `${result.delta.toPrecision(3)} (${scale.legend}; a large gap means more steps are needed)`;
  $("cls-details").textContent = "";
}

function describeClassified(k) {
  const t = cls.tokens[k], head = el("p");
  head.append(el("code", shown(t.token), "tok"), ` ${signed(t.score)} toward ${cls.target}`);
  $("cls-details").replaceChildren(head);
}

function setUpClassify(model) {
  cls.model = model;
  $("cls").addEventListener("submit", (e) => { e.preventDefault(); classify(); });
  submitOnEnter($("cls-text"), $("cls"));
}

// ---- start ---------------------------------------------------------------------------------

function submitOnEnter(area, form) {
  area.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}

function describeModel(m) {
  const shape = `${m.cell} ${m.layers}×${m.hidden_size}, ${m.tokenizer} tokens`;
  return `${m.id} (${m.task === "lm" ? "language model" : "classifier"}: ${shape})`;
}

async function start() {
  let info;
  try {
    info = await (await api("info")).json();
  } catch (error) {
    $("served").textContent = error.message;
    if (error.status === 503) setTimeout(start, 1000);
    return;
  }
  $("key").hidden = true;
  if (document.body.dataset.ready) return;  // a key given again later: already set up
  const lm = info.models.find((m) => m.task === "lm");
  const clf = info.models.find((m) => m.task === "classify");
  $("served").textContent = "Serving " + info.models.map(describeModel).join(" and ");
  const missing = [];
  if (lm) setUpGenerate(lm);
  else missing.push("No language model is served, so there is nothing to generate.");
  if (clf) setUpClassify(clf);
  else missing.push("No classifier is served, so there is nothing to classify.");
  if (missing.length) {
    missing.push("Start seqcli serve with a --model of each task to have both panels.");
  }
  $("lm").hidden = !lm;
  $("clf").hidden = !clf;
  $("missing").textContent = missing.join(" ");
  $("missing").hidden = !missing.length;
  document.body.dataset.ready = "true";
}

$("key").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $("key-input").value);
  $("key-input").value = "";
  start();
});
start();
