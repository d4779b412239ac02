"""Which files are graded, under which student id, whatever the order of the arguments.

A submission is a notebook given on the command line or found in a given folder
(`*.ipynb`, sorted). Its student id is the file name's stem, NFC-normalised. Then:

- a **symbolic link** is reported and not graded (it could point at a classmate's file);
- **duplicate ids** (the same stem in two folders, or "josé" in NFC and NFD): the most
  recently modified file is graded (ties: the smaller path), the others are reported under
  `<id> (duplicate N)`. The decision depends on the files, never on the argument order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bpcourse.grading.model import student_id


@dataclass
class Submission:
    """A file to grade (`problem` empty) or to report as ungradable (`problem` says why)."""

    student_id: str
    path: Path
    problem: str = ""


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(p.glob("*.ipynb"))
        else:
            found.append(p)
    unique: dict[str, Path] = {}
    for p in found:
        unique.setdefault(os.path.abspath(p), p)
    return [unique[k] for k in sorted(unique)]


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def collect(paths: list[Path]) -> list[Submission]:
    """Every submission, each with its student id and, if it is not graded, why."""
    by_id: dict[str, list[Path]] = {}
    out: list[Submission] = []
    for path in _files(paths):
        sid = student_id(path)
        if path.is_symlink():
            target = os.readlink(path)
            out.append(
                Submission(
                    sid, path, f"the file is a symbolic link (to {target}): it is not graded"
                )
            )
            continue
        if not path.is_file():
            out.append(Submission(sid, path, "no such file"))
            continue
        by_id.setdefault(sid, []).append(path)
    for sid, found in by_id.items():
        ranked = sorted(found, key=lambda p: (-_mtime(p), os.path.abspath(p)))
        out.append(Submission(sid, ranked[0]))
        for k, other in enumerate(ranked[1:], start=1):
            out.append(
                Submission(
                    f"{sid} (duplicate {k})",
                    other,
                    f"another submission has the student id {sid}: the most recently "
                    f"modified one, {ranked[0]}, was graded",
                )
            )
    taken = {s.student_id for s in out if not s.problem}
    for s in out:  # a reported link whose id is graded elsewhere gets its own row
        if s.problem and s.student_id in taken:
            s.student_id = f"{s.student_id} ({'link' if s.path.is_symlink() else 'missing'})"
    return sorted(out, key=lambda s: s.student_id)
