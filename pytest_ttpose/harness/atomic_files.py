"""Files a reader must see whole: the baseline files and the JSON report are written to a temporary file next to the
target, then renamed over it. A kill between the two leaves the temporary file (``TEMP_GLOB``), which the next session
removes. Standard library only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# ``.<file name>.<random>.tmp`` next to the target, for the .json files written here.
TEMP_GLOB = ".*.json.*.tmp"


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder (``TEMP_GLOB``), then rename it over the target: a reader sees
    the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Delete the temporary files a killed ``write_text_atomic`` left in ``directory``; return what was deleted."""
    if not directory.is_dir():
        return []
    stale = sorted(directory.glob(TEMP_GLOB))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


__all__ = ["TEMP_GLOB", "remove_stale_temp_files", "write_text_atomic"]
