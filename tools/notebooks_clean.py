"""Check that tracked notebooks carry no outputs (``make lint``).

The notebooks under ``notebooks/`` are what the annual run executes; outputs in them
would be data in git, and a notebook saved after exploring would differ from the one
the schedule runs. Explore in a working copy instead (``make lab``). Exits 1 naming
each notebook with an output or an execution count; prints nothing when all are clean.

Usage: ``python tools/notebooks_clean.py [FOLDER_OR_NOTEBOOK ...]`` (default
``notebooks``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def dirty_cells(path: Path) -> list[str]:
    """Where ``path`` holds outputs: ``cell 3: 2 outputs, execution count 7``."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [f"not a readable notebook ({error})"]
    found = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        outputs = len(cell.get("outputs") or [])
        count = cell.get("execution_count")
        if outputs or count is not None:
            parts = [f"{outputs} output{'s' if outputs != 1 else ''}"] if outputs else []
            parts += [f"execution count {count}"] if count is not None else []
            found.append(f"cell {number}: {', '.join(parts)}")
    return found


def main(argv: list[str]) -> int:
    targets = [Path(a) for a in argv] or [Path("notebooks")]
    paths = []
    for target in targets:
        paths += sorted(target.glob("*.ipynb")) if target.is_dir() else [target]
    bad = 0
    for path in paths:
        for problem in dirty_cells(path):
            print(f"{path}: {problem}: clear it (Edit > Clear Outputs of All Cells)")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
