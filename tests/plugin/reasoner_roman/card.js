// The roman tool's card in the trace viewer: each numeral beside the value it adds, and the number written back.

const VALUES = { M: 1000, D: 500, C: 100, L: 50, X: 10, V: 5, I: 1 };

function romanCard(evidence) {
  const letters = [...evidence.numeral];
  const signed = letters.map((c, i) => (i + 1 < letters.length && VALUES[c] < VALUES[letters[i + 1]] ? -VALUES[c] : VALUES[c]));
  return el("div", {}, el("h3", {}, "Reading the numeral"),
    el("table", { id: "roman" }, el("tr", {}, ...letters.map((c) => el("th", {}, c))), el("tr", {}, ...signed.map((v) => el("td", {}, String(v))))),
    el("p", {}, `${signed.join(" + ").replaceAll("+ -", "- ")} = ${evidence.value}, written back as ${evidence.written_back}.`));
}

CARDS.roman = { evidence: romanCard };
