"""Start-up time of the course's commands: nbformat without a grammar it never uses.

nbformat validates notebooks with jsonschema. Where `rfc3987_syntax` is installed (jsonschema's
"format-nongpl" extra, which jupyter-events pulls in), importing jsonschema compiles that
package's IRI grammar: about 1 s on every start of `bpcourse grade`, of each of its worker
processes, and of `bpcourse exercises` / `bpcourse notebooks` (jsonschema issue #1428).
Notebook schemas use no "iri" formats, so the commands block that one import before they load
nbformat; jsonschema then leaves IRI strings unchecked in that process. Nothing else changes,
and learners' kernels never import this module.
"""

from __future__ import annotations

import sys

SLOW_OPTIONAL_IMPORT = "rfc3987_syntax"


def skip_iri_grammar() -> None:
    """Make `import rfc3987_syntax` fail fast (jsonschema catches the ImportError), unless
    jsonschema or the package itself is already loaded in this process."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault(SLOW_OPTIONAL_IMPORT, None)  # type: ignore[arg-type]
