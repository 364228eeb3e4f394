"""The registry: entries come from the files of one package, lookups explain what is registered."""

import sys
import textwrap

import pytest

from ftlab.errors import FtlabError
from ftlab.registry import Registry


@pytest.fixture
def plugin_package(tmp_path, monkeypatch):
    package = tmp_path / "toy_plugins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_helpers.py").write_text("SHARED = 1\n")
    for name in ("beta", "alpha"):
        (package / f"{name}.py").write_text(textwrap.dedent(f"""
            from types import SimpleNamespace
            ENTRY = SimpleNamespace(name="{name}", rank={len(name)})
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for module in [m for m in sys.modules if m.startswith("toy_plugins")]:
        del sys.modules[module]


def test_entries_are_read_from_the_package_files_in_the_given_order(plugin_package):
    registry = Registry("toy", "toy_plugins", sort_key=lambda e: (-e.rank, e.name))
    assert registry.names() == ("alpha", "beta")  # helpers (_helpers.py) are not entries
    assert registry["beta"].rank == 4 and "alpha" in registry and len(registry) == 2


def test_adding_a_file_adds_an_entry(plugin_package):
    (plugin_package / "gamma.py").write_text("from types import SimpleNamespace\n"
                                             "ENTRY = SimpleNamespace(name='gamma')\n")
    assert Registry("toy", "toy_plugins").names() == ("alpha", "beta", "gamma")


def test_an_unknown_name_gets_the_closest_and_the_list(plugin_package):
    with pytest.raises(FtlabError, match=r"unknown toy 'alpah' \(did you mean alpha\?\); choose one of alpha, beta"):
        Registry("toy", "toy_plugins")["alpah"]


def test_a_file_without_an_entry_and_a_duplicate_name_are_refused(plugin_package):
    (plugin_package / "broken.py").write_text("X = 1\n")
    with pytest.raises(FtlabError, match=r"broken.py is in the toy registry's package but defines no ENTRY"):
        Registry("toy", "toy_plugins").names()
    (plugin_package / "broken.py").unlink()
    (plugin_package / "copy.py").write_text("from types import SimpleNamespace\n"
                                            "ENTRY = SimpleNamespace(name='alpha')\n")
    with pytest.raises(FtlabError, match="two toys are named 'alpha'"):
        Registry("toy", "toy_plugins").names()
