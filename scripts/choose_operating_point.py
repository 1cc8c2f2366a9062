"""Choose the verdict head's operating point from a risk-coverage table on dev dumps (precision first).

Reads the `--dump` files of `scripts/evaluate.py SET --split dev` (fever, covidfact, climate-fever,
near-topic, treaty-settled), recomputes every verdict at each point (min_claim_similarity,
min_claim_coverage, min_verdict_confidence) of a grid, and prints the table (JSON lines, then Markdown for the model card).
Precision first: only points where the near-topic wrong-verdict rate is at most --max-near-topic
qualify. Among them, the points where every fact-checking set's risk (wrong verdicts among those that
take a side) is at most --max-risk win by mean coverage; when none is (the stance reader's ceiling),
the point with the best mean accuracy over the fact-checking sets wins, the stricter one on a tie.
With --write the point is stored in verdict_head.json beside the stance model.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

from service.config import Settings
from service.evaluation.harness import dump_reading, dumped_evidence
from service.pipeline.verdict import VerdictHead
from service.training.verdict import operating_point_scores

FACT_CHECKING = ("fever", "covidfact", "climate-fever")
GRID = {  # in the order of the table's columns; a tie goes to the point stricter in the first, then the next
    "min_claim_similarity": (-1.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6),
    "min_claim_coverage": (0.0, 0.15, 0.2, 0.25, 0.3, 0.4),
    "min_verdict_confidence": (0.0, 0.5, 0.6, 0.7, 0.8),
}
NEAR_TOPIC_GOLD = {"near-topic": "not_enough_info"}  # a set without labels: every claim's is this


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dumps", type=Path, required=True, help="folder of SET-dev.jsonl dumps")
    parser.add_argument("--model-dir", type=Path, default=Settings().stance_model_dir)
    parser.add_argument("--max-near-topic", type=float, default=0.02)
    parser.add_argument("--max-risk", type=float, default=0.10)
    parser.add_argument("--write", action="store_true", help="store the chosen point in the head")
    args = parser.parse_args()
    head = VerdictHead.load(args.model_dir)
    if head is None:
        parser.error(f"no verdict head in {args.model_dir}")
    sets = {}
    for path in sorted(args.dumps.glob("*-dev.jsonl")):
        name = path.name.removesuffix("-dev.jsonl")
        rows = [json.loads(line) for line in path.open(encoding="utf-8")]
        about = [e for row in rows for e in row["evidence"] if e["retrieval_score"] >= head.min_relevance]
        if any(e.get("claim_similarity") is None or "claim_coverage" not in e for e in about):
            parser.error(f"{path} has no claim_similarity or claim_coverage: dump it again with this version of scripts/evaluate.py")
        if {dump_reading(row) for row in rows} - {(head.sentence_passages, head.max_sentences_read_whole)}:
            parser.error(
                f"{path} read its passages otherwise than the head's dumps (sentence_passages {head.sentence_passages},"
                f" max_sentences_read_whole {head.max_sentences_read_whole}): dump it again with the head's settings"
            )
        sets[name] = [(row.get("gold") or row.get("label") or NEAR_TOPIC_GOLD[name], dumped_evidence(row, 0)) for row in rows]
    if "near-topic" not in sets:
        parser.error(f"{args.dumps} has no near-topic-dev.jsonl: the near-topic wrong-verdict rate is what qualifies a point")
    min_relevance = head.min_relevance if head.min_relevance is not None else Settings().min_relevance
    table = []
    for values in itertools.product(*GRID.values()):
        point = dict(zip(GRID, values, strict=True))
        table.append({**point, "scores": operating_point_scores(sets, head, min_relevance, **point)})
        print(json.dumps(table[-1]), flush=True)
    checked = [name for name in FACT_CHECKING if name in sets]

    def near_topic(row) -> float:
        return row["scores"].get("near-topic", {}).get("wrong_verdict_rate", 0.0)

    def mean(row, measure: str) -> float:
        return sum(row["scores"][name][measure] for name in checked) / max(1, len(checked))

    qualified = [row for row in table if near_topic(row) <= args.max_near_topic]
    if not qualified:
        print(f"no point keeps the near-topic wrong-verdict rate at most {args.max_near_topic}", file=sys.stderr)
        return 1
    precise = [row for row in qualified if all(row["scores"][name]["risk"] <= args.max_risk for name in checked)]
    if precise:
        best = max(precise, key=lambda row: (mean(row, "coverage"), *(row[name] for name in GRID)))
    else:
        print(f"no qualified point keeps every risk at most {args.max_risk} on {checked}: best mean accuracy instead", file=sys.stderr)
        best = max(qualified, key=lambda row: (round(mean(row, "accuracy"), 3), *(row[name] for name in GRID)))
    print(markdown(table, best, sorted(sets)))
    print(json.dumps({"chosen": best}, indent=2))
    if args.write:
        point = {name: best[name] for name in GRID}
        fitted_on = json.loads((args.model_dir / "verdict_head.json").read_text(encoding="utf-8")).get("fitted_on", {})
        replace(head, operating_point=point).save(args.model_dir, fitted_on)
    return 0


def markdown(table: list[dict], best: dict, names: list[str]) -> str:
    """The risk-coverage table as the model card shows it: per set, accuracy / coverage / risk."""
    lines = [
        "| " + " | ".join([*GRID, *names]) + " |",
        "|" + "---|" * (len(GRID) + len(names)),
    ]
    for row in table:
        cells = []
        for name in names:
            score = row["scores"][name]
            if name == "near-topic":
                cells.append(f"wrong {score['wrong_verdict_rate']:.3f}")
            else:
                cells.append(f"{score['accuracy']:.3f} / {score['coverage']:.2f} / {score['risk']:.2f}")
        mark = "**" if row is best else ""
        lines.append("| " + " | ".join([*(f"{mark}{row[name]}{mark}" for name in GRID), *cells]) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
