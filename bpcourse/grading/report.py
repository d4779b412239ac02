"""The results: a journal written as each student is graded, and the files made from it.

- `.journal.jsonl`: one JSON record per submission, appended and flushed as soon as it is
  known (an interrupted run resumes from it);
- `grades.csv`: nbgrader's export columns, then one column per graded item;
- `feedback/<student>.txt` and `.html`: each item's points, status and messages, the
  repairs made to the notebook and the problems met while running it;
- `summary.csv` and `summary.png`: each item's pass rate, and a histogram of the scores;
- `ungradable.csv`: the files that could not be graded, with why.
"""

from __future__ import annotations

import csv
import html
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bpcourse.checking.result import ICONS

JOURNAL = ".journal.jsonl"
NBGRADER_COLUMNS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
]
KERNEL_NOTE = "checked in the student's kernel (its objects cannot be checked outside it)"


def append_record(out: Path, record: dict[str, Any]) -> None:
    path = out / JOURNAL
    torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
    with open(path, "a", encoding="utf-8") as f:
        f.write(("\n" if torn else "") + json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_journal(out: Path) -> dict[str, dict[str, Any]]:
    """The latest record of each student (a torn last line is ignored)."""
    records: dict[str, dict[str, Any]] = {}
    path = out / JOURNAL
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                records[record["student_id"]] = record
            except (ValueError, KeyError, TypeError):
                continue
    return records


def _number(x: float) -> str:
    return f"{x:g}"


def feedback_text(record: dict[str, Any]) -> str:
    lines = [
        f"{record['student_id']}: {record['assignment']}",
        f"score {_number(record['score'])}/{_number(record['max_score'])}",
        "",
    ]
    for it in record["items"]:
        icon = ICONS.get(it["status"], "")
        lines.append(
            f"{icon} {it['item']}: {it['status']} "
            f"({_number(it['points'])}/{_number(it['max_points'])} points)"
        )
        lines += [f"  - {m}" for m in it["messages"]]
        if it.get("in_kernel"):
            lines.append(f"  ({KERNEL_NOTE})")
    for title, key in (("Repairs made to your notebook", "repairs"), ("Problems", "problems")):
        if record.get(key):
            lines += ["", f"{title}:"] + [f"  - {m}" for m in record[key]]
    return "\n".join(lines) + "\n"


def feedback_html(record: dict[str, Any]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>{e(record['student_id'])}</title>",
        f"<h1>{e(record['student_id'])}: {e(record['assignment'])}</h1>",
        f"<p><b>Score {_number(record['score'])}/{_number(record['max_score'])}</b></p>",
        "<table border=1 cellpadding=4><tr><th>item</th><th>points</th><th>status</th>"
        "<th>feedback</th></tr>",
    ]
    for it in record["items"]:
        notes = list(it["messages"]) + ([KERNEL_NOTE] if it.get("in_kernel") else [])
        body = "".join(f"<li>{e(m)}</li>" for m in notes)
        parts.append(
            f"<tr><td>{e(it['item'])}</td><td>{_number(it['points'])}/"
            f"{_number(it['max_points'])}</td><td>{ICONS.get(it['status'], '')} "
            f"{e(it['status'])}</td><td><ul>{body}</ul></td></tr>"
        )
    parts.append("</table>")
    for title, key in (("Repairs made to your notebook", "repairs"), ("Problems", "problems")):
        if record.get(key):
            items = "".join(f"<li>{e(m)}</li>" for m in record[key])
            parts.append(f"<h2>{title}</h2><ul>{items}</ul>")
    return "\n".join(parts) + "\n"


def write_feedback(out: Path, record: dict[str, Any]) -> None:
    folder = out / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{record['student_id']}.txt").write_text(feedback_text(record), encoding="utf-8")
    (folder / f"{record['student_id']}.html").write_text(feedback_html(record), encoding="utf-8")


def item_columns(records: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for record in records:
        for it in record["items"]:
            if it["item"] not in columns:
                columns.append(it["item"])
    return columns


def _timestamp(path: str) -> str:
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        return ""
    return datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")


def write_tables(out: Path) -> dict[str, dict[str, Any]]:
    """grades.csv, ungradable.csv, summary.csv and summary.png from the journal."""
    records = read_journal(out)
    graded = [r for r in records.values() if "items" in r]
    graded.sort(key=lambda r: r["student_id"])
    columns = item_columns(graded)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(NBGRADER_COLUMNS + columns)
        for r in graded:
            points = {it["item"]: it["points"] for it in r["items"]}
            writer.writerow(
                [r["assignment"], "", _timestamp(r["file"]), r["student_id"], "", "", ""]
                + [r["score"], 0.0, r["score"], r["max_score"]]
                + [points.get(c, "") for c in columns]
            )
    with open(out / "ungradable.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "file", "reason"])
        for r in sorted(records.values(), key=lambda r: r["student_id"]):
            if "ungradable" in r:
                writer.writerow([r["student_id"], r["file"], r["ungradable"]])
    write_summary(out, graded, columns)
    return records


def write_summary(out: Path, graded: list[dict[str, Any]], columns: list[str]) -> None:
    rows = []
    for c in columns:
        found = [it for r in graded for it in r["items"] if it["item"] == c]
        passed = sum(it["status"] == "passed" for it in found)
        rate = passed / len(found) if found else 0.0
        mean = sum(it["points"] for it in found) / len(found) if found else 0.0
        rows.append((c, len(found), rate, mean, found[0]["max_points"] if found else 0))
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["item", "submissions", "pass_rate", "mean_points", "max_points"])
        writer.writerows(
            [(c, n, round(rate, 4), round(mean, 3), m) for c, n, rate, mean, m in rows]
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.barh([r[0] for r in rows], [100 * r[2] for r in rows], color="#2e7d32")
    left.set_xlim(0, 100)
    left.set_xlabel("passed (% of graded submissions)")
    left.set_title("Pass rate per item")
    left.invert_yaxis()
    scores = [r["score"] / r["max_score"] * 100 for r in graded if r["max_score"]]
    right.hist(scores, bins=10, range=(0, 100), color="#1565c0", edgecolor="white")
    right.set_xlabel("score (% of the maximum)")
    right.set_ylabel("students")
    right.yaxis.get_major_locator().set_params(integer=True)
    right.set_title(f"Scores ({len(scores)} graded)")
    fig.tight_layout()
    fig.savefig(out / "summary.png", dpi=100)
    plt.close(fig)
