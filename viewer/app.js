"use strict";
// The trace viewer: runs newest first, and one run as a step tree with the routing decision and the
// tool's evidence, live while it runs. Plain DOM and SVG, no build step; every text from the server
// goes in as textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const PAGE = 50; // runs per page of the list
const GRAPH_STEP = 20; // answers whose witness paths are drawn at first; "show more" adds as many again
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
    parts.push(el("p", {}, grounding?.kind === "kg" ? `Plan from ${(grounding.topics?.length ? grounding.topics : [grounding.topic]).join(" and ")}: ${planText(grounding.plan)}` : result.message));
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
      const edges = tool === "kg" && result.evidence_edges !== undefined ? `, ${result.evidence_edges} evidence edges` : "";
      if (result.kind === "regress") return [result.best ? `best: ${result.best.expression} (validation R² ${fmt(result.best.r2_validation)})` : "no formula holds", !result.best];
      return [result.answers ? `${result.answers.length} answers${edges}` : "", false];
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

// A renderer per kind of evidence (the `kind` of a tool's grounding); a kind without one is shown as JSON.
const EVIDENCE = { kg: kgCard, logic: logicCard, induce: induceCard, regress: regressCard };

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
  const render = EVIDENCE[kind];
  const card = render ? render(evidence, answers) : el("div", {}, el("h3", {}, `Evidence (${kind})`), jsonBlock(evidence));
  card.classList.add("card");
  card.id = "evidence";
  card.dataset.kind = kind;
  return card;
}

// The KG tool's evidence: the witness paths of each answer from the topic. Big groundings are
// limited, not paginated: the paths of the first GRAPH_STEP answers (ranked by support) are drawn,
// and a button adds as many again. `answers` gives the ranking (object keys would sort years first).
function kgCard(evidence, answers) {
  if (evidence.missing) return missingCard(evidence);
  const witnesses = evidence.witnesses || {};
  const ranked = answers || evidence.answers || Object.keys(witnesses);
  const topics = new Set(evidence.topics?.length ? evidence.topics : [evidence.topic]); // a conjunctive plan has two
  const card = el("div");
  const allEdges = new Set(ranked.flatMap((a) => (witnesses[a] || []).flat().map(edgeKey)));
  let shown = Math.min(GRAPH_STEP, ranked.length);
  const draw = () => {
    const paths = ranked.slice(0, shown).flatMap((a) => witnesses[a] || []);
    const svg = drawGraph(paths, new Set(ranked.slice(0, shown)), topics);
    const note = `Witness paths of ${shown} of ${ranked.length} answers: ${svg.dataset.edges} of ${allEdges.size} edges drawn.`;
    const more = shown < ranked.length
      ? el("button", { type: "button", class: "plain", id: "graph-more" }, `Show ${Math.min(GRAPH_STEP, ranked.length - shown)} more answers`)
      : null;
    if (more) more.onclick = () => { shown = Math.min(shown + GRAPH_STEP, ranked.length); draw(); };
    card.replaceChildren(...[el("h3", {}, "Grounding subgraph"), el("p", { class: "graph-note" }, note), more, svg].filter(Boolean));
  };
  draw();
  return card;
}

// A plan as text: steps joined by arrows, the branches of a conjunctive plan by "&".
const planText = (plan) => plan.join(" → ").replaceAll(" → & → ", " & ");

// An abstention: the reading of the question that was tried, and the edge the graph lacks for it.
function missingCard(evidence) {
  const { missing, plan } = evidence;
  const from = (evidence.topics?.length ? evidence.topics : [evidence.topic]).join(" and ");
  if (missing.disjoint?.length) {
    return el("div", {}, el("h3", {}, "Not in the graph"), el("div", { id: "missing" },
      el("p", {}, "The question was read as ", el("code", {}, planText(plan)), ` from ${from}.`),
      el("p", {}, `Its branches reach ${missing.disjoint.join(" and ")} entities, none of them in common. No answer is given.`)));
  }
  const topic = missing.topic || evidence.topic;
  const relation = missing.step.replace(/^~/, ""), direction = missing.step.startsWith("~") ? "to" : "from";
  const where = missing.hop === 1 ? topic
    : `${missing.count} entities that ${missing.before.join(" → ")} reaches from ${topic} (${missing.sources.join(", ")}${missing.count > missing.sources.length ? ", …" : ""})`;
  return el("div", {}, el("h3", {}, "Not in the graph"), el("div", { id: "missing" },
    el("p", {}, "The question was read as ", el("code", {}, planText(plan)), ` from ${from}.`),
    el("p", {}, `Hop ${missing.hop} needs a `, el("code", {}, relation), ` edge ${direction} ${where}; the graph has none`
      + (missing.only_topic ? ` other than back to ${topic}, which a path never revisits` : "") + ". No answer is given.")));
}

// The logic tool's evidence: each premise beside its formula (in the translation that won the vote),
// every translation's checks and verdict, the vote, and the proof (E's, or the program and an order).
function logicCard(evidence) {
  const { samples, outcomes, votes } = evidence;
  const shown = evidence.winner ?? 0;
  const sample = samples[shown] || { premises: [], options: {} };
  const rows = evidence.premises.map((p, i) => el("tr", {}, el("td", {}, p), el("td", {}, el("code", {}, sample.premises[i] ?? ""))));
  if (evidence.conclusion != null) {
    rows.push(el("tr", { class: "conclusion" }, el("td", {}, `Conclusion: ${evidence.conclusion}`), el("td", {}, el("code", {}, sample.conclusion ?? ""))));
  }
  for (const [letter, text] of evidence.options) {
    rows.push(el("tr", { class: "option" }, el("td", {}, `${letter}) ${text}`), el("td", {}, el("code", {}, sample.options?.[letter] ?? ""))));
  }
  const formulas = el("table", { id: "formulas" }, el("tr", {}, el("th", {}, "Sentence"),
    el("th", {}, `Translation ${shown + 1}` + (evidence.winner != null ? " (voted with the majority)" : ""))), ...rows);
  const verdicts = el("table", { id: "samples" }, el("tr", {}, el("th", {}, "#"), el("th", {}, "Verdict"), el("th", {}, "Checks")),
    ...outcomes.map((o, i) => el("tr", { "data-verdict": o.verdict ?? "dropped" }, el("td", {}, String(i + 1)),
      el("td", {}, o.verdict ?? "dropped"),
      el("td", {}, el("ul", { class: "checks" }, ...o.checks.map((c) => el("li", { class: c.passed ? "pass" : "fail" }, `${c.passed ? "✓" : "✗"} ${c.name}: ${c.detail}`)))))));
  const tally = Object.entries(votes).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  const proof = outcomes[shown]?.proof;
  return el("div", {}, el("h3", {}, "Translation and proof"), el("p", { class: "why" }, evidence.why), formulas,
    el("p", { id: "votes" }, `Votes of ${outcomes.length} translations: ${tally}.`), verdicts,
    proof ? el("details", { id: "proof" }, el("summary", {}, evidence.mode === "asp" ? "Program and an order" : "Proof"), el("pre", {}, proof)) : null);
}

// The induction tool's evidence: the examples (grids drawn as coloured cells), each program run in the
// sandbox with its pass/fail per example (hover for what it gave), the winner first, and its predictions.
const ARC_COLOURS = ["#000", "#0074d9", "#ff4136", "#2ecc40", "#ffdc00", "#aaa", "#f012be", "#ff851b", "#7fdbff", "#870c25"];

function valueView(value, kind) {
  if (kind === "grid" && Array.isArray(value)) {
    return el("table", { class: "grid" }, ...value.map((row) => el("tr", {}, ...row.map((c) => el("td", { style: `background:${ARC_COLOURS[c] ?? "#fff"}`, title: String(c) })))));
  }
  return el("code", {}, JSON.stringify(value));
}

function inputsView(inputs, kind) {
  return kind === "grid" ? valueView(inputs[0], kind) : el("code", {}, inputs.map((v) => JSON.stringify(v)).join(", "));
}

function induceCard(evidence) {
  const { task, checked } = evidence;
  const winner = checked.length && checked[0].passed.every(Boolean) ? checked[0] : null;
  const examples = el("table", { id: "examples" }, el("tr", {}, el("th", {}, "#"), el("th", {}, "Input"), el("th", {}, "Output")),
    ...task.train.map((ex, i) => el("tr", {}, el("td", {}, String(i + 1)), el("td", {}, inputsView(ex.inputs, task.kind)),
      el("td", {}, valueView(ex.output, task.kind)))));
  const programs = el("table", { id: "programs" },
    el("tr", {}, el("th", {}, "Program"), el("th", {}, "By"), ...task.train.map((_, i) => el("th", {}, `#${i + 1}`))),
    ...checked.map((c, k) => el("tr", { class: k === 0 && winner ? "winner" : "" }, el("td", {}, el("code", {}, c.program.code)),
      el("td", {}, c.program.by),
      ...c.passed.map((ok, i) => el("td", { class: ok ? "pass" : "fail", title: ok ? "reproduced" : (c.errors[i] || `gave ${JSON.stringify(c.outputs[i])}`) }, ok ? "✓" : "✗")))));
  const tried = `${evidence.tried} programs run in the sandbox (${Object.entries(evidence.by).map(([k, v]) => `${v} by the ${k}`).join(", ")}), `
    + `${evidence.sandbox_calls} sandbox call${evidence.sandbox_calls === 1 ? "" : "s"} in ${evidence.sandbox_seconds.toFixed(2)} s; the closest ${checked.length} are shown.`;
  const parts = [el("h3", {}, "Examples and programs"), examples, el("p", { id: "tried" }, tried), programs];
  if (winner) {
    parts.push(el("p", { id: "winner" }, "Winning program: ", el("code", {}, winner.program.code), ` (by the ${winner.program.by}).`));
    if (task.test.length) {
      parts.push(el("table", { id: "predictions" }, el("tr", {}, el("th", {}, "Test input"), el("th", {}, "Predicted output")),
        ...task.test.map((ex, i) => el("tr", {}, el("td", {}, inputsView(ex.inputs, task.kind)), el("td", {}, valueView(evidence.predictions[i], task.kind))))));
    }
  } else {
    parts.push(el("p", { id: "winner" }, "No program reproduces every example."));
  }
  return el("div", {}, ...parts);
}

// The regression tool's evidence: the points with the answer's curve and each round's best (one variable),
// or measured against predicted (several); the formula; every fitted form with its R² and complexity.
const PLOT_W = 520, PLOT_H = 300, PLOT_PAD = 36;
const CURVE_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"];

function fmt(v) { return v == null ? "–" : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : String(+v.toPrecision(4)); }

function drawPlot(plot) {
  const xs = plot.points.map((p) => p[0]).concat(plot.curves.flatMap((c) => c.x));
  const ys = plot.points.map((p) => p[1]).concat(plot.curves.flatMap((c) => c.y.filter((v) => v != null)));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => PLOT_PAD + ((x - x0) / (x1 - x0 || 1)) * (PLOT_W - 2 * PLOT_PAD);
  const sy = (y) => PLOT_H - PLOT_PAD - ((y - y0) / (y1 - y0 || 1)) * (PLOT_H - 2 * PLOT_PAD);
  const svg = el("svg:svg", { id: "plot", width: PLOT_W, height: PLOT_H, viewBox: `0 0 ${PLOT_W} ${PLOT_H}` });
  svg.append(el("svg:line", { x1: PLOT_PAD, y1: PLOT_H - PLOT_PAD, x2: PLOT_W - PLOT_PAD, y2: PLOT_H - PLOT_PAD, class: "axis" }),
    el("svg:line", { x1: PLOT_PAD, y1: PLOT_PAD, x2: PLOT_PAD, y2: PLOT_H - PLOT_PAD, class: "axis" }),
    el("svg:text", { x: PLOT_W / 2, y: PLOT_H - 6, "text-anchor": "middle" }, plot.x),
    el("svg:text", { x: 4, y: PLOT_PAD - 10 }, plot.y),
    el("svg:text", { x: PLOT_PAD, y: PLOT_H - PLOT_PAD + 14, "text-anchor": "middle", class: "tick" }, fmt(x0)),
    el("svg:text", { x: PLOT_W - PLOT_PAD, y: PLOT_H - PLOT_PAD + 14, "text-anchor": "middle", class: "tick" }, fmt(x1)),
    el("svg:text", { x: PLOT_PAD - 4, y: PLOT_H - PLOT_PAD, "text-anchor": "end", class: "tick" }, fmt(y0)),
    el("svg:text", { x: PLOT_PAD - 4, y: PLOT_PAD + 4, "text-anchor": "end", class: "tick" }, fmt(y1)));
  if (plot.x === "predicted") {
    const lo = Math.max(x0, y0), hi = Math.min(x1, y1);
    svg.append(el("svg:line", { x1: sx(lo), y1: sy(lo), x2: sx(hi), y2: sy(hi), class: "diagonal" }));
  }
  plot.curves.forEach((c, i) => {
    let d = "", pen = "M";
    c.x.forEach((x, k) => {
      const y = c.y[k];
      if (y == null || y < y0 - (y1 - y0) || y > y1 + (y1 - y0)) { pen = "M"; return; }
      d += `${pen}${sx(x).toFixed(1)},${sy(y).toFixed(1)} `;
      pen = "L";
    });
    svg.append(el("svg:path", { d, class: `curve${i === 0 && c.label === "answer" ? " answer" : ""}`, stroke: CURVE_COLOURS[i % CURVE_COLOURS.length] },
      el("svg:title", {}, `${c.label}: ${c.expression}`)));
  });
  for (const [x, y, validation] of plot.points) {
    svg.append(el("svg:circle", { cx: sx(x).toFixed(1), cy: sy(y).toFixed(1), r: 3, class: validation ? "point validation" : "point" }));
  }
  return svg;
}

function regressCard(evidence) {
  const { best, fits, plot } = evidence;
  const parts = [el("h3", {}, "Data and formula")];
  parts.push(el("p", { id: "formula" }, ...(best
    ? [`${evidence.target} = `, el("code", {}, best.expression), ` — training R² ${fmt(best.r2_train)}, validation R² ${fmt(best.r2_validation)}, ${best.complexity} nodes (by the ${best.by}, round ${best.round + 1}).`]
    : ["No formula holds on the validation rows."])));
  parts.push(el("p", { class: "graph-note" }, `${evidence.train_rows} training rows (filled), ${evidence.validation_rows} validation rows (open)`
    + `${evidence.notes.length ? "; " + evidence.notes.join("; ") : ""}. `
    + (plot?.x === "predicted" ? "Measured against predicted, with the diagonal." : "Curves: the answer, and the best of each round.")));
  if (plot) parts.push(drawPlot(plot));
  if (plot?.curves?.length) {
    parts.push(el("ul", { id: "curves" }, ...plot.curves.map((c, i) => el("li", { style: `color:${CURVE_COLOURS[i % CURVE_COLOURS.length]}` },
      `${c.label}: `, el("code", {}, c.expression)))));
  }
  const rows = fits.map((f, k) => el("tr", { class: k === 0 && best && f.expression === best.expression ? "winner" : f.error ? "rejected" : "" },
    el("td", {}, el("code", {}, f.form)), el("td", {}, f.expression ? el("code", {}, f.expression) : f.error),
    el("td", {}, f.by), el("td", {}, String(f.round + 1)), el("td", {}, fmt(f.r2_train)), el("td", {}, fmt(f.r2_validation)),
    el("td", {}, f.complexity == null ? "–" : String(f.complexity))));
  parts.push(el("p", { id: "tried" }, `${evidence.tried} forms fitted this round (${Object.entries(evidence.by).map(([k, v]) => `${v} ${k === "kept" ? "kept from earlier rounds" : "by the " + k}`).join(", ")}) in ${evidence.seconds.toFixed(1)} s; the best are shown.`));
  parts.push(el("table", { id: "fits" }, el("tr", {}, el("th", {}, "Form"), el("th", {}, "Fitted"), el("th", {}, "By"), el("th", {}, "Round"),
    el("th", {}, "R² train"), el("th", {}, "R² validation"), el("th", {}, "Nodes")), ...rows));
  return el("div", {}, ...parts);
}

function edgeKey(e) { return `${e.source}\t${e.relation}\t${e.target}`; }

// ---- the grounding graph ---------------------------------------------------------------------

const COL = 250, ROW = 26, PAD = 14; // column and row spacing of the graph, its margin
const NAME_FONT = "11px system-ui, sans-serif", LABEL_FONT = "10px system-ui, sans-serif"; // as style.css draws them
const PER_EDGE_LABELS = 6; // a hop's relation with more edges than this is named once above the graph
const measure = document.createElement("canvas").getContext("2d");

// The box a text takes, anchored at (x, baseline) as SVG anchors it.
function textBox(text, font, x, baseline, anchor = "start") {
  measure.font = font;
  const m = measure.measureText(text);
  const left = anchor === "middle" ? x - m.width / 2 : anchor === "end" ? x - m.width : x;
  return { left: left - 1, right: left + m.width + 1, top: baseline - m.fontBoundingBoxAscent, bottom: baseline + m.fontBoundingBoxDescent };
}

function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) {
    if (!groups.has(key(item))) groups.set(key(item), []);
    groups.get(key(item)).push(item);
  }
  return groups;
}

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

// A cubic Bézier's point at t.
function pointAt([p0, p1, p2, p3], t) {
  const u = 1 - t, w = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
  return [0, 1].map((k) => w[0] * p0[k] + w[1] * p1[k] + w[2] * p2[k] + w[3] * p3[k]);
}

// The curve of an edge: forward edges run from the source's right to the target's left, bent apart
// by `bend` when parallel; edges back to an earlier (or the same) column bow below, so they never
// lie on the forward edge between the same two entities.
function edgeCurve([x1, y1], [x2, y2], bend) {
  if (x2 > x1) {
    const xm = (x1 + x2) / 2;
    return [[x1 + 6, y1], [xm, y1 + bend], [xm, y2 + bend], [x2 - 7, y2]];
  }
  const drop = Math.max(y1, y2) + ROW * 0.9 + Math.abs(bend);
  const reach = Math.max(40, (x1 - x2) / 3);
  return [[x1 - 3, y1 + 5], [x1 - reach, drop], [x2 + reach, drop], [x2 + 3, y2 + 6]];
}

// Columns by hop: the topic entities at the left, then each hop's entities; edges carry their relation.
// Relation labels never overlap each other or a name: each goes to the first free spot along its edge;
// edges of a fan (one source or one target, one relation) share one label; a hop's relation whose
// labels find no room, or that has many edges, is named once above the graph.
function drawGraph(paths, answerSet, topics) {
  const depth = new Map();
  const edges = new Map(); // key -> the edge and its hop
  for (const path of paths) {
    path.forEach((e, i) => {
      if (!depth.has(e.source)) depth.set(e.source, i);
      if (!depth.has(e.target)) depth.set(e.target, i + 1);
      if (!edges.has(edgeKey(e))) edges.set(edgeKey(e), { ...e, hop: i });
    });
  }
  const columns = [];
  for (const [name, d] of depth) (columns[d] ||= []).push(name);
  const at = new Map();
  columns.forEach((names, d) => names.forEach((name, i) => at.set(name, [d * COL, i * ROW])));

  // Parallel edges (same source and target) are bent apart.
  for (const group of groupBy(edges.values(), (e) => `${e.source}\t${e.target}`).values()) group.forEach((e, j) => { e.curve = edgeCurve(at.get(e.source), at.get(e.target), (j - (group.length - 1) / 2) * 12); });

  const names = [...at].map(([name, [x, y]]) => {
    const kind = topics.has(name) || (!topics.size && depth.get(name) === 0) ? "topic" : answerSet.has(name) ? "ans" : "mid";
    const label = name.length > 30 ? `${name.slice(0, 29)}…` : name;
    return { name, x, y, kind, label, box: textBox(label, NAME_FONT, x + 9, y + 4) };
  });
  const taken = names.flatMap((n) => [n.box, { left: n.x - 6, right: n.x + 6, top: n.y - 6, bottom: n.y + 6 }]);

  // The labels, one hop's relation at a time.
  const groups = groupBy(edges.values(), (e) => `${e.hop}\t${e.relation}`);
  const labels = []; // {text, x, y, anchor, box}
  const headers = []; // [relation, edges, x] named above the graph
  for (const group of groups.values()) {
    const placed = group.length <= PER_EDGE_LABELS ? placeGroup(group, taken) : null;
    if (placed) {
      labels.push(...placed);
      taken.push(...placed.map((l) => l.box));
    } else {
      // Over the gap between columns that most of its edges cross.
      const gaps = group.map((e) => (at.get(e.source)[0] + at.get(e.target)[0]) / 2 - (depth.get(e.source) === depth.get(e.target) ? COL / 2 : 0));
      const x = gaps.reduce((best, g) => (gaps.filter((h) => h === g).length > gaps.filter((h) => h === best).length ? g : best));
      headers.push([group[0].relation, group.length, x]);
    }
  }
  // Above everything drawn: each header on the first row where it is clear of the others.
  const top = Math.min(-12, ...taken.map((b) => b.top)) - 4;
  const headerBoxes = [];
  for (const [relation, n, x] of headers) {
    const text = n > 1 ? `${relation} (${n} edges)` : relation;
    for (let row = 0; ; row++) {
      const box = textBox(text, LABEL_FONT, x, top - row * 13, "middle");
      if (headerBoxes.some((b) => overlaps(b, box))) continue;
      headerBoxes.push(box);
      labels.push({ text, x, y: top - row * 13, anchor: "middle", box });
      break;
    }
  }

  // Everything was laid out around the topic at (0, 0); shift it into the margin.
  const curves = [...edges.values()].flatMap((e) => e.curve);
  const boxes = [{ left: 0, right: 0, top: 0, bottom: 0 }, ...taken, ...headerBoxes, ...curves.map(([x, y]) => ({ left: x, right: x, top: y, bottom: y }))];
  const left = Math.min(...boxes.map((b) => b.left)), right = Math.max(...boxes.map((b) => b.right));
  const high = Math.min(...boxes.map((b) => b.top)), low = Math.max(...boxes.map((b) => b.bottom));
  const svg = el("svg:svg", { id: "graph", width: Math.ceil(right - left + 2 * PAD), height: Math.ceil(low - high + 2 * PAD),
    "data-nodes": depth.size, "data-edges": edges.size, role: "img", "aria-label": "grounding subgraph" });
  svg.append(el("svg:defs", {}, el("svg:marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" },
    el("svg:path", { d: "M0,0 L10,5 L0,10 z", fill: "#8b95a5" }))));
  const drawing = el("svg:g", { transform: `translate(${PAD - left},${PAD - high})` });
  for (const e of edges.values()) {
    const [p0, p1, p2, p3] = e.curve;
    drawing.append(el("svg:path", { class: "edge", d: `M${p0} C${p1} ${p2} ${p3}`, "marker-end": "url(#arrow)" },
      el("svg:title", {}, `${e.source} —${e.relation}→ ${e.target}`)));
  }
  for (const l of labels) drawing.append(el("svg:text", { class: "rel", x: l.x, y: l.y, "text-anchor": l.anchor }, l.text));
  for (const n of names) {
    drawing.append(el("svg:g", { class: n.kind, "data-name": n.name },
      el("svg:title", {}, n.name), el("svg:circle", { cx: n.x, cy: n.y, r: 5 }), el("svg:text", { x: n.x + 9, y: n.y + 4 }, n.label)));
  }
  svg.append(drawing);
  return svg;
}

// Labels for one hop's edges of one relation, each at the first spot along its edge clear of `taken`
// and of the group's other labels; an edge whose source or target already has the group's label
// needs none. Null when some edge finds no room.
function placeGroup(group, taken) {
  const placed = [];
  const labelled = new Set(); // entities whose fan is named
  for (const e of group) {
    if (labelled.has(e.source) || labelled.has(e.target)) continue;
    const spot = labelSpots(e).find((s) => ![...taken, ...placed.map((l) => l.box)].some((b) => overlaps(b, s.box)));
    if (!spot) return null;
    placed.push(spot);
    labelled.add(e.source).add(e.target);
  }
  return placed;
}

function labelSpots(e) {
  const spots = [];
  for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.8, 0.2]) {
    const [x, y] = pointAt(e.curve, t);
    for (const baseline of [y - 3, y + 11]) {
      spots.push({ text: e.relation, x, y: baseline, anchor: "middle", box: textBox(e.relation, LABEL_FONT, x, baseline, "middle") });
    }
  }
  return spots;
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
