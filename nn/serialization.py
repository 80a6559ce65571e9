"""Model files: JSON written atomically, read back with every check. Never pickle.

Why JSON: a pickle file runs code when it is loaded, so a model file from someone else could
do anything; a JSON file is only numbers and names, and a person can read it. Python writes
floats in JSON with ``repr``, the shortest text that reads back as the same float, so a
save/load round trip keeps every parameter to the last bit.

The file (format version 1) is one JSON object::

    {
     "format": "chainrule.model",
     "version": 1,
     "class": "MLP",
     "config": {"nin": 2, "nouts": [16, 1], "activation": "relu", "output_activation": null},
     "state": {
      "layers.0.weight": [[0.12, -0.5], ...],      16 rows (out) of 2 numbers (in)
      "layers.0.bias": [0.03, ...],                 16 numbers
      "layers.2.weight": [[...]],                   1 row of 16
      "layers.2.bias": [-0.2]
     }
    }

* ``format`` and ``version`` say what the file is; a reader refuses versions it does not know.
* ``class`` and ``config`` rebuild the model: ``config`` holds the constructor arguments
  (``Module.config()``), so ``MLP.load(path)`` is ``MLP(**config)`` followed by loading the
  state.
* ``state`` is ``Module.state_dict()``: PyTorch's parameter names and shapes (a weight is
  ``out x in``, rows of the output's width), finite numbers only.

Writing is atomic: the text goes to a temporary file in the same folder, is flushed and
fsynced, and then ``os.replace`` renames it over the target in one step. Whatever happens
(a full disk, an exception half-way, a crash), the target holds either its old contents or
the complete new file, and a failed save removes its temporary file; a save killed outright
leaves its temporary behind, and the next save to the same file removes it. A file marked
read-only is never saved over (PermissionError), as SQLite refuses to write a read-only
database.

Reading turns every problem with the contents (not JSON, JSON nested too deeply, not this
format, an unknown version, missing fields) into a ``ValueError`` naming the file, so
callers catch one thing; what the file holds is quoted at most 80 characters long. The model-specific checks (names, shapes, finite numbers) are
``Module.load_state_dict``'s.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from typing import Any

FORMAT = "chainrule.model"
VERSION = 1
FIELDS = ("format", "version", "class", "config", "state")


def model_document(class_name: str, config: dict[str, Any], state: dict[str, Any]) -> dict:
    """The JSON object a model file holds (see the module docstring)."""
    return {"format": FORMAT, "version": VERSION, "class": class_name, "config": config,
            "state": state}


def read_model_document(path: str | os.PathLike[str]) -> tuple[str, dict, dict]:
    """The class name, config and state stored in a model file, after checking its format.

    OSError if the file cannot be read; ValueError (naming ``path``) for any problem with
    what is in it.
    """
    document = read_json(path)
    # Wrong JSON types are ValueErrors too (not TypeErrors): every load failure is one.
    if not isinstance(document, dict):
        raise ValueError(  # noqa: TRY004
            f"{path}: expected a JSON object, found {type(document).__name__}")
    if document.get("format") != FORMAT:
        raise ValueError(f"{path}: not a chainrule model file "
                         f"(format {shown(repr(document.get('format')))}, expected {FORMAT!r})")
    version = document.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ValueError(f"{path}: unsupported format version {shown(repr(version))} "
                         f"(this chainrule reads version {VERSION})")
    missing = [field for field in FIELDS if field not in document]
    extra = [field for field in document if field not in FIELDS]
    if missing or extra:
        raise ValueError(f"{path}: fields missing {missing}, unexpected {shown(repr(extra))}")
    class_name, config, state = document["class"], document["config"], document["state"]
    if not isinstance(class_name, str):
        raise ValueError(  # noqa: TRY004
            f"{path}: class must be a string, found {shown(repr(class_name))}")
    for field, value in (("config", config), ("state", state)):
        if not isinstance(value, dict):
            raise ValueError(  # noqa: TRY004
                f"{path}: {field} must be a JSON object, found {type(value).__name__}")
    return class_name, config, state


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON value in ``path``; malformed JSON or text is a ValueError naming the file.

    JSON has no nan or infinity, but Python's reader accepts the tokens ``NaN`` and
    ``Infinity``; they come back as floats, and the loader's finiteness check rejects them
    with the parameter's name.
    """
    with open(path, encoding="utf-8") as file:
        try:
            document = json.load(file, parse_int=_int_or_float)
        except ValueError as error:  # json.JSONDecodeError and UnicodeDecodeError
            raise ValueError(f"{path}: not a valid JSON file ({shown(str(error))})") from None
        except RecursionError:  # CPython's reader recurses; others may read deeper
            document = None
    if document is None or _deeper_than(document, MAX_DEPTH):
        raise ValueError(f"{path}: not a model file (JSON nested too deeply: a model file "
                         f"nests at most {MAX_DEPTH} levels)")
    return document


MAX_DEPTH = 64
"""How deep a model file's JSON may nest: a Sequential of Sequentials of layers needs a few
levels per model, so this bounds the work (and the stack) of reading, whatever the Python."""


def _deeper_than(document: Any, limit: int) -> bool:
    """True when lists and objects nest more than ``limit`` levels in ``document`` (a walk with
    an explicit stack: it must not recurse into the very nesting it measures)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in children)
    return False


def _int_or_float(text: str) -> int | float:
    """A JSON integer: an int, unless it has more digits than any size or count could (then
    the float it reads as, inf beyond 1e308, which the finiteness check refuses by name)."""
    return int(text) if len(text) <= 18 else float(text)


def shown(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for an error message (a file may hold megabytes
    where a name belongs)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def write_json_atomic(path: str | os.PathLike[str], document: Any) -> None:
    """Write ``document`` as JSON to ``path`` atomically: all of it, or the old file untouched.

    A temporary file is made in the same folder (``os.replace`` is only atomic within one
    file system), written, flushed and fsynced (so the bytes are on disk before the name
    points at them), then renamed over ``path``. On any failure the temporary file is removed
    and the exception goes on. The new file keeps the old one's permissions, or gets the
    usual ones for a new file (``0o666`` less the umask) rather than the temporary file's 0o600.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(path) and not _writable(path):
        raise PermissionError(errno.EACCES, "the file is read-only: make it writable "
                              "(chmod u+w) to save over it, or save elsewhere", path)
    prefix = f".{os.path.basename(path)}."
    remove_stale_temporaries(folder, prefix)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f"{prefix}{os.getpid()}.",
                                             suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=1, allow_nan=False)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _permissions_for(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(folder)


def _writable(path: str) -> bool:
    """False for a file marked read-only (no write bit, as ``chmod 444`` leaves it: even the
    superuser, who may write anywhere, is told no) or one this process may not write."""
    return bool(os.stat(path).st_mode & 0o222) and os.access(path, os.W_OK)


def remove_stale_temporaries(folder: str, prefix: str) -> None:
    """Remove the temporary files that saves to the same file left behind when they were
    killed (a kill -9 runs no clean-up). A temporary is named ``<prefix><pid>.<random>.tmp``
    after the process writing it, so one whose process no longer exists is stale; one of a
    live process (a save in progress, here or elsewhere) is left alone. POSIX only: elsewhere
    a process cannot be asked whether it lives without side effects."""
    if os.name != "posix":
        return
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    for name in names:
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdecimal() and pid.isascii() and not _process_lives(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))


def _process_lives(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # it exists (another user's), or the number is not a pid: leave it
    return True


def _permissions_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)  # the only way to read the umask is to set it, then restore it
        os.umask(umask)
        return 0o666 & ~umask


def _sync_folder(folder: str) -> None:
    """Flush the rename itself to disk (POSIX); a no-op where folders cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
