"use strict";
// The trace viewer: runs newest first, and one run as a step tree with the routing decision and the
// tool's evidence, live while it runs. Plain DOM and SVG, no build step; every text from the server
// goes in as textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const PAGE = 50; // runs per page of the list
const JSON_SHOWN = 20000; // characters of a step's input or output shown before it is cut
const SVG = "http://www.w3.org/2000/svg";

let selected = null; // id of the run shown
let listed = 0; // runs in the list
let tools = { tools: [], served: [] }; // GET /api/tools: every tool, what it answers, which are served

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
  if ($("tool").value) params.set("tool", $("tool").value);
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
      el("span", { class: "tool", title: "the tool it was routed to" }, run.tool || "routing…"),
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

// What a run's steps say before its result is written: the route step names the tool, the first
// proposal names the KG planner.
const stepOutput = (record, node) => record.steps.find((s) => s.node === node)?.output || {};
const toolOf = (record) => record.tool || record.result?.tool || stepOutput(record, "route").tool || null;
const routeOf = (record) => record.result?.route || stepOutput(record, "route").route || null;
const plannerOf = (record) => record.result?.planner
  || (toolOf(record) === "kg" ? record.steps.find((s) => s.output?.proposals?.length)?.output.proposals[0].by : null);

function renderRun(record) {
  const result = record.result || {};
  const answers = record.answers || [];
  const tool = toolOf(record), planner = plannerOf(record);
  const parts = [
    el("h2", {}, record.question),
    el("div", { class: "meta" },
      el("span", { class: `status ${record.status}`, id: "run-status" }, record.status),
      " · tool ", el("b", { id: "run-tool" }, tool || "…"),
      planner ? ` · ${planner} planner` : "",
      result.degraded ? el("span", { class: "degraded", id: "degraded" }, " (degraded: the model server was down)") : "",
      " · ", latency(record), " · trace ", el("code", {}, record.id)),
  ];
  const link = result.link_candidates?.[0];
  if (link?.weak) parts.push(el("p", { class: "weak", id: "weak-link" }, `Weak link: ${link.entity} for “${link.span}” (${link.weak}).`));
  if (record.status === "answered") {
    const shown = answers.slice(0, 30).join(", ") + (answers.length > 30 ? ` (and ${answers.length - 30} more)` : "");
    parts.push(el("p", { class: "answer", id: "answer" }, "Answer: ", el("b", {}, shown)));
    const grounding = result.grounding;
    const headline = cardOf(grounding?.kind)?.headline;
    parts.push(el("p", {}, headline ? headline(grounding) : result.message));
  } else if (record.status === "running") {
    parts.push(el("p", { class: "answer hint" }, "Answering…"));
  } else {
    parts.push(el("p", { class: "answer", id: "answer" }, result.error || result.message || record.status));
  }
  const evidence = evidenceOf(record, tool);
  const route = routeOf(record);
  // Without evidence the routing decision is what there is to show: open; otherwise one line.
  if (route) parts.push(routingCard(route, !evidence && record.status !== "running"));
  parts.push(el("div", { class: "card" }, el("h3", {}, "Steps"), stepTree(record.steps, tool)));
  if (evidence) parts.push(evidenceCard(evidence));
  $("run").replaceChildren(...parts);
}

// ---- the routing decision --------------------------------------------------------------------

// The tool the run was routed to and why, the checks the route required, and per tool what the
// router saw in the message beside what that tool answers.
function routingCard(route, open) {
  const checks = route.checks || [], signals = route.signals || {};
  const failed = checks.filter((c) => !c.passed);
  const rows = (tools.tools.length ? tools.tools : Object.keys(signals).map((name) => ({ name }))).map((t) =>
    el("tr", { class: t.name === route.tool ? "routed" : null, "data-tool": t.name },
      el("th", {}, t.name),
      el("td", {}, signals[t.name] || "–"),
      el("td", {}, t.answers || ""),
      el("td", { class: t.available && tools.served.includes(t.name) ? "pass" : "hint" },
        t.available === undefined ? "" : !t.available ? "not available yet" : tools.served.includes(t.name) ? "served" : "not served here")));
  return el("details", { class: "card", id: "routing", open },
    el("summary", {},
      el("h3", {}, "Routing: → ", el("span", { class: `node ${failed.length ? "fail" : ""}` }, route.tool)), " ",
      el("span", { class: "reason" }, route.reason)),
    checks.length ? el("ul", { class: "checks" }, ...checks.map(checkItem)) : null,
    rows.length ? el("table", { class: "signals" },
      el("thead", {}, el("tr", {}, el("th", {}, "tool"), el("th", {}, "seen in the message"), el("th", {}, "answers"), el("th", {}, ""))),
      el("tbody", {}, ...rows)) : null);
}

function checkItem(c) {
  return el("li", { class: c.passed ? "pass" : "fail" }, `${c.passed ? "✓" : "✗"} ${c.name}: ${c.detail}`);
}

// ---- the step tree ---------------------------------------------------------------------------

// route and frame, then one branch per plan attempt (plan → ground → check), then answer.
function stepTree(steps, tool) {
  const root = el("ul", { class: "tree", id: "steps" });
  let branch = null;
  let attempts = 0;
  let feedback = null; // the last check's reason to replan, for steps seen live (they carry no input)
  for (const step of steps) {
    if (step.node === "plan") {
      attempts += 1;
      const reason = step.input?.feedback?.at(-1) || feedback;
      const label = attempts === 1 ? "attempt 1" : `attempt ${attempts}: replan after ${reason || "a failed plan"}`;
      branch = el("ul");
      root.append(el("li", {}, el("details", { open: true }, el("summary", {}, label), branch)));
    }
    if (step.node === "check") feedback = step.output?.feedback?.at(-1) || feedback;
    const inAttempt = branch && ["plan", "ground", "check"].includes(step.node);
    (inAttempt ? branch : root).append(stepItem(step, tool));
  }
  return root;
}

// The proposing round a plan step made, if it made one (`proposals` holds every round so far).
const newProposal = (step) => (step.node === "plan" ? step.output?.proposals?.at(-1) : null) || null;

function proposedBy(proposal) {
  if (proposal.calls?.length) return proposal.calls.length === 1 ? "LLM call" : `${proposal.calls.length} LLM calls`;
  return proposal.by === "embedding" ? "embedding search" : `${proposal.by} proposal`;
}

// One line per node, and whether the node failed (marked red).
function stepSummary(step, tool) {
  const out = step.output || {};
  switch (step.node) {
    case "route": {
      const failed = (out.route?.checks || []).filter((c) => !c.passed).map((c) => c.name);
      return [`-> ${out.tool}: ${out.route?.reason || ""}` + (failed.length ? ` (failed: ${failed.join(", ")})` : ""), failed.length > 0];
    }
    case "frame":
      return out.frame ? [out.frame.topic ? `topic: ${(out.frame.topics?.length ? out.frame.topics : [out.frame.topic]).join(", ")}` : "framed", false] : [out.message || out.status || "", true];
    case "plan": {
      const proposal = newProposal(step);
      const rejected = proposal?.rejected?.length ? `; ${proposal.rejected.length} dropped as readings of another question` : "";
      return [(out.candidate ? out.candidate_text : "no candidate left") + (proposal ? ` (${proposedBy(proposal)}${rejected})` : ""),
        !out.candidate];
    }
    case "ground": {
      const result = out.result || {};
      const line = cardOf(result.kind || tool)?.ground;
      return line ? line(result) : [result.answers ? `${result.answers.length} answers` : "", false];
    }
    case "check": {
      const failed = (out.checks || []).filter((c) => !c.passed);
      return [failed.length ? `failed: ${failed.map((c) => c.name).join(", ")}` : "all checks passed", failed.length > 0];
    }
    case "answer": return [out.message || `status ${out.status || step.input?.status || ""}`, false];
    default: return ["", false];
  }
}

function stepItem(step, tool) {
  const body = [];
  const proposal = newProposal(step);
  const calls = proposal?.calls || [];
  if (calls.length) body.push(llmToggle(calls));
  if (proposal?.rejected?.length) body.push(el("ul", { class: "checks" }, ...proposal.rejected.map((r) => el("li", { class: "fail" }, `dropped: ${r}`))));
  if (proposal?.degraded) body.push(el("p", { class: "degraded" }, `degraded: ${proposal.degraded}`));
  const checks = step.node === "check" ? step.output?.checks : step.node === "route" ? step.output?.route?.checks : null;
  if (checks?.length) body.push(el("ul", { class: "checks" }, ...checks.map(checkItem)));
  if (step.input) body.push(el("div", {}, "Input"), jsonBlock(step.input));
  body.push(el("div", {}, "Output"), jsonBlock(step.output));
  const [summary, failed] = stepSummary(step, tool);
  return el("li", { "data-node": step.node },
    el("details", {},
      el("summary", {},
        el("span", { class: `node ${failed ? "fail" : ""}` }, step.node), " ", summary, " ",
        el("span", { class: "secs" }, `${(step.seconds * 1000).toFixed(1)} ms`)),
      ...body));
}

function jsonBlock(value) {
  const text = JSON.stringify(value, null, 1) ?? "";
  const cut = text.length > JSON_SHOWN ? `${text.slice(0, JSON_SHOWN)}\n… (${text.length - JSON_SHOWN} more characters)` : text;
  return el("pre", {}, cut);
}

// The newest proposing round's LLM calls: each prompt as sent, the outputs, their cost.
function llmToggle(calls) {
  const box = el("pre", { hidden: true, class: "llm" });
  box.textContent = calls.map((call, i) => {
    const prompt = (call.messages || []).map((m) => `[${m.role}]\n${m.content}`).join("\n\n");
    const raw = call.raw || [];
    const outputs = raw.map((text, j) => (call.logprobs?.[j] !== undefined ? `${text}    (logprob ${call.logprobs[j].toFixed(3)})` : text));
    const usage = call.usage || {};
    return (calls.length > 1 ? `=== call ${i + 1} of ${calls.length} ===\n` : "") +
      `${prompt}\n\n[model output${raw.length > 1 ? "s" : ""}]\n${outputs.join("\n")}\n\n` +
      `[${call.model}${call.constraint ? `, ${call.constraint} constrained` : ""}; ${call.seconds} s; ` +
      `${usage.prompt_tokens ?? "?"} prompt + ${usage.completion_tokens ?? "?"} completion tokens]`;
  }).join("\n\n");
  const button = el("button", { type: "button", class: "plain" }, "Show the LLM prompt and output");
  button.onclick = () => {
    box.hidden = !box.hidden;
    button.textContent = box.hidden ? "Show the LLM prompt and output" : "Hide the LLM prompt and output";
  };
  return el("div", {}, button, box);
}

// ---- the evidence ----------------------------------------------------------------------------

// Each tool's card, by the `kind` of its evidence: cards.js (loaded first) holds every registered tool's card
// file, each setting CARDS[kind] = { evidence(evidence, answers), headline?(grounding), ground?(result) }.
// A kind without a card, or a cards.js that failed to load, is shown as JSON.
const cardOf = (kind) => (typeof CARDS === "undefined" ? undefined : CARDS[kind]);

// The finished run's grounding, or while running the latest ground step's result, read as the
// routed tool's evidence. Null when there is none (no tool, no entity, no plan, an error).
function evidenceOf(record, tool) {
  if (record.status !== "running") {
    const grounding = record.result?.grounding;
    return grounding ? { kind: grounding.kind, evidence: grounding, answers: record.result.answers } : null;
  }
  const ground = record.steps.filter((s) => s.node === "ground" && s.output?.result).at(-1);
  if (!ground) return null;
  const result = ground.output.result;
  return { kind: result.kind || tool, evidence: result, answers: result.answers };
}

function evidenceCard({ kind, evidence, answers }) {
  const render = cardOf(kind)?.evidence;
  const card = render ? render(evidence, answers) : el("div", {}, el("h3", {}, `Evidence (${kind})`), jsonBlock(evidence));
  card.classList.add("card");
  card.id = "evidence";
  card.dataset.kind = kind;
  return card;
}

// ---- wiring ----------------------------------------------------------------------------------

// Enter asks; Shift+Enter starts a new line (a table of numbers, examples, premises).
$("question").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("ask").requestSubmit();
  }
});

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
for (const filter of ["status", "tool"]) $(filter).addEventListener("change", () => loadRuns().catch((e) => showError(e.message)));
$("more").addEventListener("click", () => loadRuns(true).catch((e) => showError(e.message)));
$("api-key").value = localStorage.getItem("reasonerKey") || "";
$("api-key").addEventListener("change", () => {
  localStorage.setItem("reasonerKey", $("api-key").value.trim());
  loadServed().then(() => loadRuns()).catch((e) => showError(e.message));
});
setInterval(() => { if (listed <= PAGE && !document.hidden) loadRuns().catch(() => {}); }, 5000);

// The planners to choose from, and the tools (for the routing card).
async function loadServed() {
  const [{ default: chosen, planners }, served] = await Promise.all([api("/api/planners"), api("/api/tools")]);
  $("planner").replaceChildren(...planners.map((name) => el("option", { value: name, selected: name === chosen }, `${name} planner`)));
  $("planner").hidden = planners.length < 2;
  tools = served;
}

loadRuns().catch((e) => showError(e.message));
const linked = location.hash.match(/^#run=(\w+)$/);
loadServed().catch((e) => showError(e.message))
  .then(() => linked && openRun(linked[1])).catch((e) => showError(e.message));
