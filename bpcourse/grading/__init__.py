"""Grading a class's exercise notebooks: `bpcourse grade SUBMISSIONS... --out DIR`.

- `submissions`: which files, under which (NFC) student id; duplicates and links;
- `match`: find each submission's exercise (any `NN_*.ipynb` of the course's exercises/)
  and rebuild it from the pristine notebook; `slim` leaves out its unused demonstrations;
- `sandbox`, `run`, `launch`: a kernel per submission in a bubblewrap sandbox (or, said
  loudly, with resource limits only), over IPC sockets, with per-cell and per-notebook time;
- `channel`, `record`: the checkers run in the grader; the student's functions in the
  kernel; arguments and results cross as data only (JSON and .npy, no pickle);
- `model`, `report`: the typed records, the journal, grades.csv (atomic), feedback, summary;
- `cli`: the command, with `--jobs`, `--check-sandbox` and a progress bar.

See docs/grading.md.
"""

from bpcourse.quick_start import skip_iri_grammar

skip_iri_grammar()  # before nbformat: 1 s less for the grader and each of its workers
