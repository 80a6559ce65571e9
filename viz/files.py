"""Writing files so that a reader never sees half of one (pictures, pages, tables)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], content: str | bytes) -> Path:
    """Write ``content`` to ``path`` through a temp file in the same folder, fsync and rename.

    Readers see the old file or the new one, never half of one; on any failure the temp
    file is removed and the old file is left as it was. Text is written as UTF-8.
    """
    path = Path(path)
    # mkstemp makes the file private (0600); pictures and tables are for sharing, so keep
    # the old file's mode, or make a new one readable by all.
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temp, mode)
        data = content.encode("utf-8") if isinstance(content, str) else content
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
