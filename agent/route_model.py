"""The learned router: for the messages the tools' rules leave undecided, a linear head over the sentence embedder
(all-MiniLM-L6-v2) says which tool's kind of task a message is, or none.

The rules decide where they are certain (a table, input -> output examples, a reasoning problem's question, an
entity of the graph in a question that reads like the graph's own). What they leave, the head decides, and only
when it is sure: each tool has its own least probability, calibrated on messages the head never trained on so
that what it sends there is right at least `PRECISION` of the time. The KG is held to more: a message reaches it
only when the KG tool linked an entity of the graph in it, and the head's KG probability is above that of every
off-topic calibration message, so off-topic messages never reach the KG.

Trained by `python -m agent.route_model` on agent/route_data.py's messages; the head (weights, thresholds and the
figures of its calibration) is shipped as agent/route_head.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from agent.route_data import LABELS, messages

HEAD = Path(__file__).with_name("route_head.json")
PRECISION = 0.98  # of what the head routes to a tool, on calibration messages
FLOOR = 0.75  # and never below this probability: generated messages are easier than people's
CALIBRATION_SHARE = 0.25


class RouteModel:
    """The head, loaded from its file; the embedder is loaded on the first message the rules leave undecided."""

    def __init__(self, head: dict) -> None:
        self.labels: list[str] = head["labels"]
        self.weights = np.array(head["weights"], dtype=np.float32)  # labels x dimensions
        self.bias = np.array(head["bias"], dtype=np.float32)
        self.thresholds: dict[str, float] = head["thresholds"]

    @classmethod
    def load(cls, path: Path = HEAD) -> RouteModel | None:
        return cls(json.loads(path.read_text())) if path.is_file() else None

    def probabilities(self, text: str) -> dict[str, float]:
        from kg.search import shared_encoder

        vector = shared_encoder().encode([text[:2000]])[0]
        return dict(zip(self.labels, map(float, _softmax(self.weights @ vector + self.bias))))

    def decide(self, text: str, allowed: set[str]) -> tuple[str, float, dict[str, float]]:
        """(the tool, or "none"; its probability; every label's probability). Only tools in `allowed` may be chosen,
        and each only above its threshold."""
        probabilities = self.probabilities(text)
        label = max(probabilities, key=probabilities.get)
        if label != "none" and (label not in allowed or probabilities[label] < self.thresholds[label]):
            label = "none"
        return label, probabilities[label], probabilities


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _calibration(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < CALIBRATION_SHARE


def train(data: Path, per_label: int = 1200, seed: int = 0, log=print) -> dict:
    """The head and its figures: fitted on the training side of the messages, thresholds set on the rest."""
    from sklearn.linear_model import LogisticRegression

    from kg.search import TextEncoder

    started = time.perf_counter()
    pairs = list(dict(messages(data, per_label, seed)).items())  # one label per distinct message
    log(f"{len(pairs)} distinct messages: " + ", ".join(f"{label} {sum(y == label for _, y in pairs)}" for label in LABELS))
    vectors = TextEncoder(threads=None).encode([m[:2000] for m, _ in pairs])
    labels = np.array([LABELS.index(y) for _, y in pairs])
    held = np.array([_calibration(m) for m, _ in pairs])
    model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
    model.fit(vectors[~held], labels[~held])
    probabilities = model.predict_proba(vectors[held])
    truth = labels[held]
    thresholds, figures = {}, {}
    for k, label in enumerate(LABELS):
        if label == "none":
            continue
        chosen = probabilities.argmax(axis=1) == k
        scores, right = probabilities[chosen, k], truth[chosen] == k
        thresholds[label] = max(FLOOR, _least_precise(scores, right, PRECISION))
        if label == "kg":  # above every off-topic message
            off_topic = probabilities[truth == LABELS.index("none"), k]
            thresholds[label] = max(thresholds[label], float(off_topic.max()) + 0.01 if len(off_topic) else 0.0)
        sent = scores >= thresholds[label]
        figures[label] = {"recall": round(float((sent & right).sum() / max(1, (truth == k).sum())), 4),
                          "precision": round(float(right[sent].mean()) if sent.any() else 1.0, 4),
                          "threshold": round(thresholds[label], 4)}
    predicted = probabilities.argmax(axis=1)
    figures["accuracy_before_thresholds"] = round(float((predicted == truth).mean()), 4)
    figures["calibration_messages"] = int(held.sum())
    figures["training_messages"] = int((~held).sum())
    figures["seconds"] = round(time.perf_counter() - started, 1)
    log(json.dumps(figures))
    return {"labels": LABELS, "weights": model.coef_.round(6).tolist(), "bias": model.intercept_.round(6).tolist(),
            "thresholds": {k: round(v, 4) for k, v in thresholds.items()}, "precision_asked": PRECISION, "figures": figures,
            "per_label": per_label, "seed": seed}


def _least_precise(scores: np.ndarray, right: np.ndarray, precision: float) -> float:
    """The least score at which what scores at least that is right `precision` of the time."""
    order = np.argsort(-scores)
    hits = np.cumsum(right[order])
    shares = hits / np.arange(1, len(order) + 1)
    ok = np.nonzero(shares >= precision)[0]
    if not len(ok):
        return 1.01  # never sure enough: the head sends nothing there
    # The deepest cut that still keeps the precision (every cut above it keeps it too, or it is the deepest).
    return float(scores[order][ok.max()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--per-label", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HEAD)
    args = parser.parse_args()
    head = train(args.data, args.per_label, args.seed)
    args.out.write_text(json.dumps(head) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
