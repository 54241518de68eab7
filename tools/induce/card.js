// The induce tool's card in the trace viewer (served inside /viewer/cards.js; app.js's helpers are in scope).

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

CARDS.induce = { evidence: induceCard };
