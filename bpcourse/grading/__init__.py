"""Grading a class's exercise notebooks: `bpcourse grade SUBMISSIONS... --out DIR`.

- `match`: find each submission's exercise and rebuild it from the pristine notebook;
- `run`, `launch`: a kernel per submission, with a per-cell timeout and resource limits;
- `record`: the checkers run in the grader, the student's functions in the kernel;
- `report`: the journal, grades.csv, feedback, summary;
- `cli`: the command, with `--jobs` and a progress bar.

See docs/grading.md.
"""
