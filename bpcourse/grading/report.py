"""The results: a journal written as each student is graded, and the files made from it.

- `.journal.jsonl`: one JSON `GradeRecord` per submission, appended and flushed as soon as
  it is known (an interrupted run resumes from it);
- `grades.csv`: nbgrader's export columns, then one column per graded item; every
  submission has a row (an ungradable one with 0 points). It is rewritten atomically (a
  temporary file, then `os.replace`) after each student, so a killed run leaves a valid,
  current table;
- `feedback/<student>.txt` and `.html`: each item's points, status and messages, the
  repairs made to the notebook and the problems met while running it;
- `summary.csv` and `summary.png`: per item, how many submissions got each diagnosis
  (passed, a likely mistake, failed, not attempted, error), and a histogram of the scores;
- `ungradable.csv`: the files that could not be graded, with why.

Text cells that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`,
a tab or a carriage return) are written with a leading `'`.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bpcourse.checking.result import ICONS, PASSED
from bpcourse.grading.model import GradeRecord, safe_text

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
EXTRA_COLUMNS = ["status", "reason"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
UNSANDBOXED = (
    "WARNING: this notebook was graded WITHOUT the bubblewrap sandbox (resource limits only): "
    "its code could read and write the grader's files"
)


def neutral(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: formulas get a leading apostrophe."""
    if isinstance(value, str):
        value = safe_text(value)
        if value.startswith(FORMULA_START):
            return "'" + value
    return value


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and `os.replace` (never half-written)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary file, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([neutral(v) for v in row])
    return buffer.getvalue()


def append_record(out: Path, record: GradeRecord) -> None:
    path = out / JOURNAL
    torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
    with open(path, "a", encoding="utf-8") as f:
        f.write(("\n" if torn else "") + json.dumps(record.to_dict()) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_journal(out: Path) -> dict[str, GradeRecord]:
    """The latest record of each student (a torn or unreadable line is ignored)."""
    records: dict[str, GradeRecord] = {}
    path = out / JOURNAL
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = GradeRecord.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            records[record.student_id] = record
    return records


def _number(x: float) -> str:
    return f"{x:g}"


def feedback_text(record: GradeRecord) -> str:
    lines = [
        f"{record.student_id}: {record.assignment}",
        f"score {_number(record.score)}/{_number(record.max_score)}",
        "",
    ]
    if record.sandbox and record.sandbox != "bubblewrap":
        lines[2:2] = [UNSANDBOXED, ""]
    for it in record.items:
        lines.append(
            f"{ICONS.get(it.status, '')} {it.item}: {it.status} "
            f"({_number(it.points)}/{_number(it.max_points)} points)"
        )
        lines += [f"  - {m}" for m in it.messages]
    for title, found in (
        ("Repairs made to your notebook", record.repairs),
        ("Problems", record.problems),
    ):
        if found:
            lines += ["", f"{title}:"] + [f"  - {m}" for m in found]
    return "\n".join(lines) + "\n"


def feedback_html(record: GradeRecord) -> str:
    e = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>{e(record.student_id)}</title>",
        f"<h1>{e(record.student_id)}: {e(record.assignment)}</h1>",
        f"<p><b>Score {_number(record.score)}/{_number(record.max_score)}</b></p>",
    ]
    if record.sandbox and record.sandbox != "bubblewrap":
        parts.append(f"<p style='color:#c62828'><b>{e(UNSANDBOXED)}</b></p>")
    parts.append(
        "<table border=1 cellpadding=4><tr><th>item</th><th>points</th><th>status</th>"
        "<th>feedback</th></tr>"
    )
    for it in record.items:
        body = "".join(f"<li>{e(m)}</li>" for m in it.messages)
        parts.append(
            f"<tr><td>{e(it.item)}</td><td>{_number(it.points)}/"
            f"{_number(it.max_points)}</td><td>{ICONS.get(it.status, '')} "
            f"{e(it.status)}</td><td><ul>{body}</ul></td></tr>"
        )
    parts.append("</table>")
    for title, found in (
        ("Repairs made to your notebook", record.repairs),
        ("Problems", record.problems),
    ):
        if found:
            items = "".join(f"<li>{e(m)}</li>" for m in found)
            parts.append(f"<h2>{title}</h2><ul>{items}</ul>")
    return "\n".join(parts) + "\n"


def file_stem(student: str) -> str:
    """A file name for the student's feedback: no separators, no leading dot."""
    stem = re.sub(r"[^\w.@+-]", "_", student).lstrip(".")
    return stem[:150] or "_"


def write_feedback(out: Path, record: GradeRecord) -> None:
    folder = out / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(record.student_id)
    write_atomic(folder / f"{stem}.txt", feedback_text(record))
    write_atomic(folder / f"{stem}.html", feedback_html(record))


def item_columns(records: list[GradeRecord]) -> list[str]:
    columns: list[str] = []
    for record in records:
        for it in record.items:
            if it.item not in columns:
                columns.append(it.item)
    return columns


def _timestamp(path: str) -> str:
    try:
        mtime = Path(path).lstat().st_mtime
    except (OSError, ValueError):
        return ""
    return datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")


def write_grades(out: Path, records: dict[str, GradeRecord]) -> None:
    """grades.csv and ungradable.csv, each replaced atomically."""
    ordered = sorted(records.values(), key=lambda r: r.student_id)
    columns = item_columns([r for r in ordered if r.graded])
    rows: list[list[Any]] = [NBGRADER_COLUMNS + columns + EXTRA_COLUMNS]
    for r in ordered:
        points = {it.item: it.points for it in r.items}
        rows.append(
            [r.assignment, "", _timestamp(r.file), r.student_id, "", "", ""]
            + [r.score, 0.0, r.score, r.max_score]
            + [points.get(c, 0.0 if not r.graded else "") for c in columns]
            + ["graded" if r.graded else "ungradable", r.ungradable]
        )
    write_atomic(out / "grades.csv", _csv(rows))
    bad: list[list[Any]] = [["student_id", "file", "reason"]]
    bad += [[r.student_id, r.file, r.ungradable] for r in ordered if not r.graded]
    write_atomic(out / "ungradable.csv", _csv(bad))


def write_tables(out: Path) -> dict[str, GradeRecord]:
    """grades.csv, ungradable.csv, summary.csv and summary.png from the journal."""
    records = read_journal(out)
    write_grades(out, records)
    write_summary(out, [r for r in records.values() if r.graded])
    return records


def diagnoses(graded: list[GradeRecord]) -> dict[str, Counter[str]]:
    """For each item, how many submissions got each diagnosis."""
    found: dict[str, Counter[str]] = {}
    for r in graded:
        for it in r.items:
            found.setdefault(it.item, Counter())[it.diagnosis] += 1
    return found


def write_summary(out: Path, graded: list[GradeRecord]) -> None:
    """summary.csv: one row per item and diagnosis; summary.png: the same, and the scores."""
    table = diagnoses(graded)
    rows: list[list[Any]] = [
        ["item", "diagnosis", "submissions", "share", "pass_rate", "mean_points", "max_points"]
    ]
    for name, counts in table.items():
        found = [it for r in graded for it in r.items if it.item == name]
        n = len(found)
        rate = sum(it.status == PASSED for it in found) / n
        mean = sum(it.points for it in found) / n
        top = found[0].max_points
        for diagnosis, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            share = round(count / n, 4)
            rows.append([name, diagnosis, count, share, round(rate, 4), round(mean, 3), top])
    write_atomic(out / "summary.csv", _csv(rows))
    _figure(out, graded, table)


def _figure(out: Path, graded: list[GradeRecord], table: dict[str, Counter[str]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    names = list(table)
    colours = {
        "passed": "#2e7d32",
        "failed": "#b71c1c",
        "not attempted": "#9e9e9e",
        "error": "#e65100",
    }
    palette = ["#6a1b9a", "#1565c0", "#00838f", "#f9a825", "#4e342e", "#ad1457", "#283593"]
    mistakes = sorted({d for c in table.values() for d in c if d not in colours})
    for k, d in enumerate(mistakes):
        colours[d] = palette[k % len(palette)]
    height = max(4.0, 0.45 * len(names) + 0.3 * min(len(mistakes), 12) + 2.0)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(14, height), gridspec_kw={"width_ratios": [2.2, 1]}
    )
    for y, name in enumerate(names):
        counts = table[name]
        total = sum(counts.values())
        start = 0.0
        for d in sorted(counts, key=lambda d: (d != "passed", -counts[d], d)):
            share = 100 * counts[d] / total
            left.barh(y, share, left=start, color=colours[d], edgecolor="white")
            if share >= 8:
                left.text(
                    start + share / 2,
                    y,
                    f"{share:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white",
                )
            start += share
    left.set_yticks(range(len(names)), names)
    left.set_xlim(0, 100)
    left.invert_yaxis()
    left.set_xlabel("submissions (% of graded)")
    left.set_title("What the class got wrong: diagnosis per item")
    shown = [
        d
        for d in ("passed", "failed", "not attempted", "error")
        if any(d in c for c in table.values())
    ]
    handles = [Patch(color=colours[d], label=d) for d in shown]
    handles += [
        Patch(color=colours[d], label="likely: " + (d if len(d) <= 90 else d[:88] + "…"))
        for d in mistakes[:12]
    ]
    fig.legend(handles=handles, loc="lower left", fontsize=8, ncol=1, frameon=False)
    scores = [r.score / r.max_score * 100 for r in graded if r.max_score]
    right.hist(scores, bins=10, range=(0, 100), color="#455a64", edgecolor="white")
    right.set_xlabel("score (% of the maximum)")
    right.set_ylabel("students")
    right.yaxis.get_major_locator().set_params(integer=True)
    right.set_title(f"Scores ({len(scores)} graded)")
    fig.tight_layout(rect=(0, min(0.6, 0.04 + 0.045 * len(handles) * 4 / height), 1, 1))
    tmp = out / ".summary.tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, out / "summary.png")
