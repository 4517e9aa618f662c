"""``python -m rmagic_ext migrate NOTEBOOK.ipynb ...``: notebooks written for
rpy2's magics load rmagic_ext instead.

Only the lines ``%load_ext rpy2.ipython`` (and the legacy ``%load_ext
rmagic``) of code cells change; every other byte of the file stays as it
was. A notebook that is not valid JSON is reported and left untouched.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path

OLD_LOAD = re.compile(r"^(\s*%load_ext\s+)(rpy2\.ipython|rmagic)(\s*)$")
NEW_EXTENSION = "rmagic_ext"


@dataclass
class Result:
    path: Path
    changed: int  # lines rewritten
    diff: str = ""
    error: str | None = None


def rewrite_line(line: str) -> str:
    """The line with rpy2's extension replaced, keeping its indent and newline."""
    body, newline = (line[:-1], "\n") if line.endswith("\n") else (line, "")
    return OLD_LOAD.sub(rf"\g<1>{NEW_EXTENSION}\g<3>", body) + newline


def migrate_text(text: str) -> tuple[str, int]:
    """The notebook's text with its code cells' load lines rewritten, and how
    many. Each rewritten line is replaced where it stands in the JSON text
    (its encoded form is unique to a source line), so indentation, key
    order and everything else keep their bytes."""
    notebook = json.loads(text)
    changed = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", [])
        lines = source if isinstance(source, list) else source.splitlines(keepends=True)
        for line in lines:
            new = rewrite_line(line)
            if new != line:
                old_json, new_json = json.dumps(line, ensure_ascii=False), json.dumps(new, ensure_ascii=False)
                if old_json in text:
                    text = text.replace(old_json, new_json, 1)
                    changed += 1
    return text, changed


def migrate(path: Path, dry_run: bool = False) -> Result:
    try:
        text = path.read_text(encoding="utf-8")
        new_text, changed = migrate_text(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        return Result(path, 0, error=f"{type(exc).__name__}: {exc}")
    diff = "".join(
        difflib.unified_diff(text.splitlines(keepends=True), new_text.splitlines(keepends=True), str(path), str(path))
    )
    if changed and not dry_run:
        path.write_text(new_text, encoding="utf-8")
    return Result(path, changed, diff)


def main(paths: list[str], dry_run: bool) -> int:
    """Report each notebook; exit status 1 when one could not be read."""
    failed = 0
    for name in paths:
        result = migrate(Path(name), dry_run)
        if result.error:
            failed += 1
            print(f"{name}: not changed, cannot read it as a notebook ({result.error})")
            continue
        if dry_run and result.diff:
            print(result.diff, end="")
        verb = "would rewrite" if dry_run else "rewrote"
        print(
            f"{name}: {verb} {result.changed} line{'s' if result.changed != 1 else ''}"
            if result.changed
            else f"{name}: nothing to change"
        )
    return 1 if failed else 0
