"""Rule mining time and memory: `reasoner kg rules` as a user runs it, on MetaQA's graph and on WC2014.

    python bench/rules.py

Each graph is mined in a fresh process (its peak resident memory is the process's own), with the default
thresholds and bodies of up to three atoms. Prints and writes bench/results/rules.json: seconds, peak MB,
rules found, per head the number of rules and the best one.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from kg.rules import read_rules, rules_by_head  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
GRAPHS = {"metaqa": DATA / "metaqa" / "kb.txt", "wc2014": DATA / "wc2014" / "WC2014.txt"}
# `reasoner kg rules KB --out FILE` in a process of its own, which then says its peak resident memory.
MEASURED = """import resource, sys
from agent.cli import app
try:
    app(["kg", "rules", sys.argv[1], "--out", sys.argv[2]])
except SystemExit as e:
    if e.code:
        raise
print("peak_rss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def main() -> None:
    report = {"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}", "command": "reasoner kg rules KB --out FILE",
              "graphs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kb in GRAPHS.items():
            out = Path(tmp) / f"{name}.jsonl"
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", MEASURED, str(kb), str(out)], check=True, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            peak_kb = int(done.stderr.strip().splitlines()[-1].removeprefix("peak_rss_kb "))
            rules = read_rules(out)
            report["graphs"][name] = result = {
                "triples": sum(1 for line in kb.open(encoding="utf-8") if line.strip()), "seconds": round(seconds, 1),
                "peak_rss_mb": round(peak_kb / 1024, 1), "rules": len(rules),
                "by_head": {h: {"rules": len(rs), "best": rs[0].text(), "pca_confidence": rs[0].pca_confidence,
                                "head_coverage": rs[0].head_coverage, "support": rs[0].support}
                            for h, rs in sorted(rules_by_head(rules).items())}}
            print(f"{name}: {json.dumps({k: v for k, v in result.items() if k != 'by_head'})}", flush=True)
    (HERE / "results" / "rules.json").write_text(json.dumps(report, indent=2) + "\n")
    print("wrote bench/results/rules.json")


if __name__ == "__main__":
    main()
