"""`python -m bpcourse ...` is the `bpcourse` command (see bpcourse.cli)."""

import sys

from bpcourse.cli import main

sys.exit(main())
