"""Compiling generated Python source so tracebacks and debuggers can show it.

crmkit generates a few hot functions from the model's field names (row codecs, record
builders, compiled conditions). Each goes through `generate`, which compiles the source under
a readable file name (``<crmkit row codec: contact>``) and registers the source in `linecache`,
as attrs does for its generated methods: a traceback through generated code then shows the
line that failed instead of nothing, and `inspect.getsource` works on the function.
"""

from __future__ import annotations

import linecache
from typing import Any

__all__ = ["generate"]


def generate(source: str, namespace: dict[str, Any], name: str, *, what: str) -> Any:
    """Compile `source` in `namespace` and return what it defines as `name`.

    Args:
        source: Python source defining `name`; only names from the model go into it, never
            values (values travel through `namespace`).
        namespace: The globals the generated code sees; `name` is added to it.
        name: The name the source defines (``"encode"``).
        what: Says what the code is, for its file name (``"row codec: contact"``).

    Returns:
        The object `source` bound to `name`.
    """
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    base = f"<crmkit {what}>"
    filename = base
    suffix = 0
    while (entry := linecache.cache.get(filename)) is not None and entry[2:3] != (lines,):
        suffix += 1  # the same name with other source: keep both readable
        filename = f"{base[:-1]} #{suffix}>"
    linecache.cache[filename] = (len(source), None, lines, filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]
