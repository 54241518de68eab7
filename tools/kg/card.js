// The kg tool's card in the trace viewer (served inside /viewer/cards.js; app.js's helpers are in scope).

const GRAPH_STEP = 20; // answers whose witness paths are drawn at first; "show more" adds as many again

// The KG tool's evidence: the witness paths of each answer from the topic. Big groundings are
// limited, not paginated: the paths of the first GRAPH_STEP answers (ranked by support) are drawn,
// and a button adds as many again. `answers` gives the ranking (object keys would sort years first).
function kgCard(evidence, answers) {
  if (evidence.inference?.answers?.length) return inferredCard(evidence);
  if (evidence.missing) return missingCard(evidence);
  if (evidence.decision) return el("div", {}, decisionCard(evidence.decision), groundingCard(evidence, Object.keys(evidence.witnesses)));
  return groundingCard(evidence, answers);
}

// A question over a set: the set grounded in the graph (drawn below), and what clingo decided over it, with the
// program it solved and the facts it was given.
function decisionCard(d) {
  const shown = (names) => names.slice(0, 8).join(", ") + (names.length > 8 ? `, … (${names.length})` : "");
  const rows = [["members", String(d.members)], d.condition ? ["condition", `${d.condition} (by ${d.step})`] : null,
    ["meet it", shown(d.met) || "none"], d.condition ? ["do not", shown(d.failed) || "none"] : null,
    d.unknown.length ? ["unknown (no value in the graph)", shown(d.unknown)] : null].filter(Boolean);
  return el("div", { id: "decision" }, el("h3", {}, `Decided over the set by clingo: ${d.answer}`),
    el("table", {}, el("tbody", {}, ...rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))))),
    el("details", {}, el("summary", {}, `The answer-set program (${d.program.split("\n").length} lines) and what it derived`),
      el("pre", {}, d.program), el("pre", {}, d.derived.join(" "))));
}

function groundingCard(evidence, answers) {
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

// An abstention: the reading of the question that was tried, the edge the graph lacks for it, and the best
// rule tried for that edge, if any.
function missingCard(evidence) {
  const tried = evidence.inference?.rules_tried || [];
  const near = evidence.inference?.below?.[0];
  return el("div", {}, el("h3", {}, "Not in the graph"), el("div", { id: "missing" }, ...missingLines(evidence, " No answer is given."),
    near ? el("p", {}, `The rules suggest ${near.answer} at confidence ${near.confidence.toFixed(2)}, below the `
      + `${evidence.inference.min_confidence.toFixed(2)} asked: `, el("code", {}, near.rule), ".")
      : tried.length ? el("p", {}, "No rule for it derives anything here; the best tried: ", el("code", {}, tried[0]), ".")
      : evidence.inference ? el("p", {}, "No rule mined from the graph concludes ", el("code", {}, evidence.missing.step), ".") : null));
}

function missingLines(evidence, tail) {
  const { missing, plan } = evidence;
  const from = (evidence.topics?.length ? evidence.topics : [evidence.topic]).join(" and ");
  const read = el("p", {}, "The question was read as ", el("code", {}, planText(plan)), ` from ${from}.`);
  if (missing.disjoint?.length) return [read, el("p", {}, `Its branches reach ${missing.disjoint.join(" and ")} entities, none of them in common.${tail}`)];
  const topic = missing.topic || evidence.topic;
  const relation = missing.step.replace(/^~/, ""), direction = missing.step.startsWith("~") ? "to" : "from";
  const where = missing.hop === 1 ? topic
    : `${missing.count} entities that ${missing.before.join(" → ")} reaches from ${topic} (${missing.sources.join(", ")}${missing.count > missing.sources.length ? ", …" : ""})`;
  return [read, el("p", {}, `Hop ${missing.hop} needs a `, el("code", {}, relation), ` edge ${direction} ${where}; the graph has none`
    + (missing.only_topic ? ` other than back to ${topic}, which a path never revisits` : "") + `.${tail}`)];
}

// Answers inferred by rules mined from the graph: each with its rule, the rule's confidence on the graph, and
// the facts it was derived from, drawn as paths from the topic. They are not facts, and the card says so.
function inferredCard(evidence) {
  const shown = evidence.inference.answers.slice(0, GRAPH_STEP);
  const rows = shown.map((a) => el("tr", {}, el("td", {}, a.answer), el("td", {}, a.confidence.toFixed(2)),
    el("td", {}, el("code", {}, a.rule), ` (${a.rule_confidence.toFixed(2)} on the whole graph)`),
    el("td", {}, a.neighbours ? `${a.agree} of ${a.neighbours} sharing ${a.via.slice(0, 2).join(", ")}` : "none"),
    el("td", {}, String(a.rules))));
  const table = el("table", { id: "inferred" },
    el("thead", {}, el("tr", {}, ...["answer", "confidence", "best rule", "its neighbours here agree", "rules that derive it"]
      .map((h) => el("th", {}, h)))), el("tbody", {}, ...rows));
  const svg = drawGraph(shown.flatMap((a) => a.paths), new Set(shown.map((a) => a.answer)), new Set([evidence.topic]));
  return el("div", {}, el("h3", {}, "Inferred, not in the graph"),
    el("div", { id: "missing" }, ...missingLines(evidence, " The answers below are inferred by rules the graph supports, not read from it.")),
    table, el("p", { class: "graph-note" }, `The facts each answer was inferred from (${shown.length} of ${evidence.inference.answers.length} answers).`), svg);
}

function edgeKey(e) { return `${e.source}\t${e.relation}\t${e.target}`; }

// The grounding graph.

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


CARDS.kg = {
  evidence: kgCard,
  headline: (g) => `Plan from ${(g.topics?.length ? g.topics : [g.topic]).join(" and ")}: ${planText(g.plan)}`,
  ground: (result) => [result.answers ? `${result.answers.length} answers`
    + (result.evidence_edges !== undefined ? `, ${result.evidence_edges} evidence edges` : "") : "", false],
};
