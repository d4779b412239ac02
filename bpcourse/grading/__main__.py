"""`python -m bpcourse.grading grade SUBMISSIONS... --out DIR`."""

import sys

from bpcourse.grading.cli import main

sys.exit(main())
