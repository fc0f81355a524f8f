"""Keep httpx from importing its command-line tool when daglab imports httpx.

httpx's package ``__init__`` runs ``from ._main import main`` whenever click and rich are
installed (they are: typer needs them), which pulls in rich's syntax highlighting and
pygments — about 150 ms of a ~200 ms ``import httpx``, for a CLI daglab never calls. A
stand-in ``httpx._main`` is registered before httpx is first imported; ``httpx.main()``
still works: the stand-in loads the real module on first call.
"""

from __future__ import annotations

import sys
import types


def _main(*args: object, **kwargs: object) -> object:
    sys.modules.pop("httpx._main", None)
    from httpx._main import main

    return main(*args, **kwargs)


def install() -> None:
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main", _main.__doc__)
    stand_in.main = _main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stand_in
