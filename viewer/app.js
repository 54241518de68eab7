"use strict";
// The trace viewer: runs newest first, and one run as a step tree with its grounding subgraph,
// live while it runs. Plain DOM and SVG, no build step; every text from the server goes in as
// textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const PAGE = 50; // runs per page of the list
const GRAPH_STEP = 20; // answers whose witness paths are drawn at first; "show more" adds as many again
const JSON_SHOWN = 20000; // characters of a step's input or output shown before it is cut
const SVG = "http://www.w3.org/2000/svg";

let selected = null; // id of the run shown
let listed = 0; // runs in the list

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "onclick") node.onclick = value;
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

// ---- the API ---------------------------------------------------------------------------------

function headers(extra = {}) {
  const key = localStorage.getItem("reasonerKey");
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error?.message || `${response.status} ${response.statusText}`);
  return body;
}

// Server-sent events through fetch (EventSource cannot send the Authorization header).
async function follow(id, onEvent) {
  const response = await fetch(`/api/runs/${encodeURIComponent(id)}/events`, { headers: headers() });
  if (!response.ok) throw new Error(`following run ${id}: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of block.split("\n")) {
        if (line.startsWith("data: ")) onEvent(JSON.parse(line.slice(6)));
      }
    }
  }
}

// ---- the run list ----------------------------------------------------------------------------

async function loadRuns(more = false) {
  const params = new URLSearchParams({ limit: PAGE, offset: more ? listed : 0 });
  if ($("search").value.trim()) params.set("q", $("search").value.trim());
  if ($("status").value) params.set("status", $("status").value);
  const runs = await api(`/api/runs?${params}`);
  if (!more) { $("runs").replaceChildren(); listed = 0; }
  listed += runs.length;
  $("runs").append(...runs.map(runItem));
  $("more").hidden = runs.length < PAGE;
}

function latency(run) {
  return run.finished ? `${(run.finished - run.started).toFixed(2)} s` : "…";
}

function runItem(run) {
  const item = el("li", { "data-id": run.id, class: run.id === selected ? "selected" : null },
    el("div", {}, run.question),
    el("div", { class: "meta" },
      el("span", { class: `status ${run.status}` }, run.status),
      el("span", {}, latency(run)),
      el("span", {}, new Date(run.started * 1000).toLocaleString())));
  item.onclick = () => openRun(run.id).catch((e) => showError(e.message));
  return item;
}

// ---- one run ---------------------------------------------------------------------------------

async function openRun(id) {
  selected = id;
  history.replaceState(null, "", `#run=${id}`);
  for (const item of $("runs").children) item.classList.toggle("selected", item.dataset.id === id);
  const record = await api(`/api/runs/${encodeURIComponent(id)}`);
  if (selected !== id) return;
  renderRun(record);
  if (record.status !== "running") return;
  await follow(id, (event) => {
    if (selected !== id || event.node === "end") return;
    if (!record.steps.some((s) => s.seq === event.seq)) {
      record.steps.push({ seq: event.seq, node: event.node, seconds: event.seconds, input: null, output: event.output });
      renderRun(record);
    }
  });
  if (selected === id) renderRun(await api(`/api/runs/${encodeURIComponent(id)}`));
  await loadRuns();
}

function renderRun(record) {
  const result = record.result || {};
  const answers = record.answers || [];
  const parts = [
    el("h2", {}, record.question),
    el("div", { class: "meta" },
      el("span", { class: `status ${record.status}`, id: "run-status" }, record.status), " · ",
      latency(record), result.planner ? ` · ${result.planner} planner` : "", " · trace ", el("code", {}, record.id)),
  ];
  if (record.status === "answered") {
    const shown = answers.slice(0, 30).join(", ") + (answers.length > 30 ? ` (and ${answers.length - 30} more)` : "");
    parts.push(el("p", { class: "answer", id: "answer" }, "Answer: ", el("b", {}, shown)));
    parts.push(el("p", {}, `Plan from ${result.topic}: ${(result.plan || []).join(" → ")}`));
  } else if (record.status === "running") {
    parts.push(el("p", { class: "answer hint" }, "Answering…"));
  } else {
    parts.push(el("p", { class: "answer", id: "answer" }, result.error || result.message || record.status));
  }
  parts.push(el("div", { class: "card" }, el("h3", {}, "Steps"), stepTree(record.steps)));
  const grounding = evidenceOf(record);
  if (grounding) parts.push(graphCard(grounding.answers, grounding.witnesses));
  $("run").replaceChildren(...parts);
}

// ---- the step tree ---------------------------------------------------------------------------

// link, then one branch per plan attempt (plan → ground → check), then answer.
function stepTree(steps) {
  const root = el("ul", { class: "tree", id: "steps" });
  let branch = null;
  let attempts = 0;
  for (const step of steps) {
    if (step.node === "plan") {
      attempts += 1;
      const feedback = step.input?.feedback?.at(-1);
      const label = attempts === 1 ? "attempt 1" : `attempt ${attempts}: replan after ${feedback || "a failed plan"}`;
      branch = el("ul");
      root.append(el("li", {}, el("details", { open: true }, el("summary", {}, label), branch)));
    }
    const inAttempt = branch && ["plan", "ground", "check"].includes(step.node);
    (inAttempt ? branch : root).append(stepItem(step));
  }
  return root;
}

function stepSummary(step) {
  const out = step.output || {};
  switch (step.node) {
    case "link": return out.topic ? `topic: ${out.topic}` : out.message || "";
    case "plan": return (out.plan?.length ? out.plan.join(" → ") : "no plan left") + (out.llm ? " (LLM call)" : "");
    case "ground": return out.grounding ? `${out.grounding.answers.length} answers, ${out.grounding.evidence_edges} evidence edges` : "";
    case "check": {
      const failed = (out.checks || []).filter((c) => !c.passed);
      return failed.length ? `failed: ${failed.map((c) => c.name).join(", ")}` : "all checks passed";
    }
    case "answer": return out.message || out.status || "";
    default: return "";
  }
}

function stepItem(step) {
  const body = [];
  if (step.input) body.push(el("div", {}, "Input"), jsonBlock(step.input));
  body.push(el("div", {}, "Output"), jsonBlock(step.output));
  const call = step.node === "plan" && step.output?.llm?.at(-1);
  if (call) body.unshift(llmToggle(call));
  if (step.node === "check") {
    body.unshift(el("ul", {}, ...(step.output?.checks || []).map((c) =>
      el("li", { class: c.passed ? "pass" : "fail" }, `${c.passed ? "✓" : "✗"} ${c.name}: ${c.detail}`))));
  }
  const failed = step.node === "check" && (step.output?.checks || []).some((c) => !c.passed);
  return el("li", { "data-node": step.node },
    el("details", {},
      el("summary", {},
        el("span", { class: `node ${failed ? "fail" : ""}` }, step.node), " ", stepSummary(step), " ",
        el("span", { class: "secs" }, `${(step.seconds * 1000).toFixed(1)} ms`)),
      ...body));
}

function jsonBlock(value) {
  const text = JSON.stringify(value, null, 1) ?? "";
  const cut = text.length > JSON_SHOWN ? `${text.slice(0, JSON_SHOWN)}\n… (${text.length - JSON_SHOWN} more characters)` : text;
  return el("pre", {}, cut);
}

function llmToggle(call) {
  const box = el("pre", { hidden: true, class: "llm" });
  const prompt = (call.messages || []).map((m) => `[${m.role}]\n${m.content}`).join("\n\n");
  box.textContent = `${prompt}\n\n[model output${(call.raw || []).length > 1 ? "s" : ""}]\n${(call.raw || []).join("\n")}` +
    `\n\n[${call.seconds} s; tokens ${JSON.stringify(call.usage || {})}]`;
  const button = el("button", { type: "button", class: "plain" }, "Show the LLM prompt and output");
  button.onclick = () => {
    box.hidden = !box.hidden;
    button.textContent = box.hidden ? "Show the LLM prompt and output" : "Hide the LLM prompt and output";
  };
  return el("div", {}, button, box);
}

// ---- the grounding subgraph ------------------------------------------------------------------

// The answers and witness paths: the final answer's evidence, or while running the latest grounding.
function evidenceOf(record) {
  if (record.result?.evidence && record.result.answers?.length) {
    return { answers: record.result.answers, witnesses: record.result.evidence };
  }
  const ground = record.steps.filter((s) => s.node === "ground" && s.output?.grounding).at(-1);
  return ground ? { answers: ground.output.grounding.answers, witnesses: ground.output.grounding.witnesses } : null;
}

// Big groundings are limited, not paginated: the witness paths of the first GRAPH_STEP answers
// (ranked by support) are drawn, and a button adds as many again.
function graphCard(answers, witnesses) {
  const card = el("div", { class: "card" });
  const allEdges = new Set(answers.flatMap((a) => (witnesses[a] || []).flat().map(edgeKey)));
  let shown = Math.min(GRAPH_STEP, answers.length);
  const draw = () => {
    const paths = answers.slice(0, shown).flatMap((a) => witnesses[a] || []);
    const svg = drawGraph(paths, new Set(answers.slice(0, shown)));
    const note = `Witness paths of ${shown} of ${answers.length} answers: ${svg.dataset.edges} of ${allEdges.size} edges drawn.`;
    const more = shown < answers.length
      ? el("button", { type: "button", class: "plain", id: "graph-more" }, `Show ${Math.min(GRAPH_STEP, answers.length - shown)} more answers`)
      : null;
    if (more) more.onclick = () => { shown = Math.min(shown + GRAPH_STEP, answers.length); draw(); };
    card.replaceChildren(el("h3", {}, "Grounding subgraph"), el("p", { class: "graph-note" }, note), more, svg);
  };
  draw();
  return card;
}

function edgeKey(e) { return `${e.source}\t${e.relation}\t${e.target}`; }

// Columns by hop: the topic entity at the left, then each hop's entities; edges carry their relation.
function drawGraph(paths, answerSet) {
  const COL = 250, ROW = 26, PAD = 14;
  const depth = new Map();
  const edges = new Map();
  for (const path of paths) {
    path.forEach((e, i) => {
      if (!depth.has(e.source)) depth.set(e.source, i);
      if (!depth.has(e.target)) depth.set(e.target, i + 1);
      edges.set(edgeKey(e), e);
    });
  }
  const columns = [];
  for (const [name, d] of depth) (columns[d] ||= []).push(name);
  const at = new Map();
  columns.forEach((names, d) => names.forEach((name, i) => at.set(name, [PAD + 6 + d * COL, PAD + 22 + i * ROW])));
  const rows = Math.max(1, ...columns.map((c) => (c || []).length));
  const svg = el("svg:svg", { id: "graph", width: PAD * 2 + Math.max(0, columns.length - 1) * COL + 220, height: PAD * 2 + 14 + rows * ROW,
    "data-nodes": depth.size, "data-edges": edges.size, role: "img", "aria-label": "grounding subgraph" });
  svg.append(el("svg:defs", {}, el("svg:marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" },
    el("svg:path", { d: "M0,0 L10,5 L0,10 z", fill: "#8b95a5" }))));
  // A hop with many edges of one relation gets one label above it instead of one per edge.
  const perHop = new Map();
  for (const e of edges.values()) {
    const key = `${depth.get(e.source)}\t${e.relation}`;
    perHop.set(key, (perHop.get(key) || 0) + 1);
  }
  for (const e of edges.values()) {
    const [x1, y1] = at.get(e.source), [x2, y2] = at.get(e.target);
    const xm = (x1 + x2) / 2;
    svg.append(el("svg:path", { class: "edge", d: `M${x1 + 6},${y1} C${xm},${y1} ${xm},${y2} ${x2 - 7},${y2}`, "marker-end": "url(#arrow)" }));
    if (perHop.get(`${depth.get(e.source)}\t${e.relation}`) <= 6) {
      svg.append(el("svg:text", { class: "rel", x: xm, y: (y1 + y2) / 2 - 3, "text-anchor": "middle" }, e.relation));
    }
  }
  const hopLabels = [...perHop].filter(([, n]) => n > 6);
  hopLabels.forEach(([key, n], i) => {
    const [d, relation] = key.split("\t");
    svg.append(el("svg:text", { class: "rel", x: PAD + 6 + (Number(d) + 0.5) * COL, y: PAD - 2 + 11 * (i % 2), "text-anchor": "middle" },
      `${relation} (${n} edges)`));
  });
  for (const [name, [x, y]] of at) {
    const kind = depth.get(name) === 0 ? "topic" : answerSet.has(name) && depth.get(name) === columns.length - 1 ? "ans" : "mid";
    const label = name.length > 30 ? `${name.slice(0, 29)}…` : name;
    svg.append(el("svg:g", { class: kind, "data-name": name },
      el("svg:title", {}, name), el("svg:circle", { cx: x, cy: y, r: 5 }), el("svg:text", { x: x + 9, y: y + 4 }, label)));
  }
  return svg;
}

// ---- wiring ----------------------------------------------------------------------------------

$("ask").addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  try {
    const body = JSON.stringify({ question, planner: $("planner").value || null });
    const { trace_id: id } = await api("/api/runs", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    $("question").value = "";
    await loadRuns();
    await openRun(id);
  } catch (e) {
    showError(e.message);
  }
});

let typing;
$("search").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => loadRuns().catch((e) => showError(e.message)), 250); });
$("status").addEventListener("change", () => loadRuns().catch((e) => showError(e.message)));
$("more").addEventListener("click", () => loadRuns(true).catch((e) => showError(e.message)));
$("api-key").value = localStorage.getItem("reasonerKey") || "";
$("api-key").addEventListener("change", () => {
  localStorage.setItem("reasonerKey", $("api-key").value.trim());
  loadPlanners().then(() => loadRuns()).catch((e) => showError(e.message));
});
setInterval(() => { if (listed <= PAGE && !document.hidden) loadRuns().catch(() => {}); }, 5000);

async function loadPlanners() {
  const { default: chosen, planners } = await api("/api/planners");
  $("planner").replaceChildren(...planners.map((name) => el("option", { value: name, selected: name === chosen }, `${name} planner`)));
  $("planner").hidden = planners.length < 2;
}

loadPlanners().catch((e) => showError(e.message));
loadRuns().catch((e) => showError(e.message));
const linked = location.hash.match(/^#run=(\w+)$/);
if (linked) openRun(linked[1]).catch((e) => showError(e.message));
