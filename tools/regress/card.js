// The regress tool's card in the trace viewer (served inside /viewer/cards.js; app.js's helpers are in scope).

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

CARDS.regress = {
  evidence: regressCard,
  ground: (result) => [result.best ? `best: ${result.best.expression} (validation R² ${fmt(result.best.r2_validation)})` : "no formula holds", !result.best],
};
