// The logic tool's card in the trace viewer (served inside /viewer/cards.js; app.js's helpers are in scope).

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


CARDS.logic = { evidence: logicCard };
