"""The type stubs describe exactly what the native module has."""

import ast
import inspect
from pathlib import Path

import pytest

import ringex_engine
from ringex_engine import _native

STUB = Path(_native.__file__).with_name("_native.pyi")


def stub_classes() -> dict[str, set[str]]:
    """Each class in the stub with the names it defines."""
    tree = ast.parse(STUB.read_text())
    return {
        node.name: {
            item.name
            for item in node.body
            if isinstance(item, ast.FunctionDef) and not item.name.startswith("__")
        }
        for node in tree.body
        if isinstance(node, ast.ClassDef)
    }


@pytest.mark.parametrize(("name", "members"), sorted(stub_classes().items()))
def test_stub_class_matches_the_native_class(name: str, members: set[str]) -> None:
    native = getattr(_native, name)
    public = {n for n, _ in inspect.getmembers(native) if not n.startswith("_")}
    if issubclass(native, BaseException):
        public -= set(dir(BaseException))
    assert public == members


def test_every_native_class_is_stubbed_and_exported() -> None:
    native = {
        n for n in dir(_native) if not n.startswith("_") and isinstance(getattr(_native, n), type)
    }
    assert native == set(stub_classes())
    assert native <= set(ringex_engine.__all__)
