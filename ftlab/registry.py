"""One registry per extensible thing: methods, training stages, data formats, metrics.

A registry is a table of named entries, filled from the modules of one
package: every module there that defines ``ENTRY`` (a ``Method``, a
``DataFormat``...) adds it.  Adding a method or a format is therefore one new
file in that package; lists, help texts, widget tabs and validation all read
the table instead of keeping their own copy.  Modules whose names start with
``_`` hold shared helpers and are not entries.

Modules are imported on the first lookup, not when the registry is created,
so a registry's own module imports nothing but this one and the entry files
may import the registry module without a cycle.  Code outside the package can
add entries too (``METHODS.add(...)``), e.g. from a notebook.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from typing import Callable, Generic, Iterator, TypeVar

from ftlab.errors import FtlabError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, package: str, sort_key: Callable[[T], object] | None = None):
        self.kind = kind
        self.package = package
        self._sort_key = sort_key
        self._entries: dict[str, T] = {}
        self._loaded = False

    def add(self, entry: T) -> T:
        name = getattr(entry, "name")
        if name in self._entries and self._entries[name] is not entry:
            raise FtlabError(f"two {self.kind}s are named {name!r}; rename one of them.")
        self._entries[name] = entry
        if self._loaded and self._sort_key is not None:  # added from outside the package, after loading
            self._entries = dict(sorted(self._entries.items(), key=lambda item: self._sort_key(item[1])))
        return entry

    def _load(self) -> dict[str, T]:
        if not self._loaded:
            self._loaded = True
            package = importlib.import_module(self.package)
            for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
                if info.name.startswith("_"):
                    continue
                module = importlib.import_module(f"{self.package}.{info.name}")
                entry = getattr(module, "ENTRY", None)
                if entry is None:
                    raise FtlabError(f"{module.__file__} is in the {self.kind} registry's package but defines no "
                                     "ENTRY; define one or prefix the file name with '_' if it holds helpers.")
                self.add(entry)
            if self._sort_key is not None:
                self._entries = dict(sorted(self._entries.items(), key=lambda item: self._sort_key(item[1])))
        return self._entries

    def __getitem__(self, name: str) -> T:
        entries = self._load()
        if name not in entries:
            raise FtlabError(self.unknown(name))
        return entries[name]

    def unknown(self, name: object) -> str:
        """The message for a name that is not registered, with the closest one if there is one."""
        entries = self._load()
        close = difflib.get_close_matches(str(name), entries, n=1)
        guess = f" (did you mean {close[0]}?)" if close else ""
        return f"unknown {self.kind} {name!r}{guess}; choose one of {', '.join(entries)}."

    def get(self, name: str, default: T | None = None) -> T | None:
        return self._load().get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._load()))

    def __len__(self) -> int:
        return len(self._load())

    def names(self) -> tuple[str, ...]:
        return tuple(self._load())

    def values(self) -> list[T]:
        return list(self._load().values())

    def items(self) -> list[tuple[str, T]]:
        return list(self._load().items())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._load())})"
