"""A Rust panic inside the extension reaches Python as pyo3's PanicException (a
BaseException, so that `except Exception` does not swallow it) and leaves the
interpreter running: the testing-only ``_native._panic_for_tests`` panics on purpose,
with the GIL held and released. scripts/python-smoke.py checks the same on the
release wheel."""

import subprocess
import sys

import pytest

from spyglass_rs import _native


@pytest.mark.parametrize("detached", [False, True])
def test_panic_raises_panic_exception(detached):
    with pytest.raises(BaseException) as caught:
        _native._panic_for_tests(detached)
    e = caught.value
    assert type(e).__module__ == "pyo3_runtime" and type(e).__name__ == "PanicException"
    assert not isinstance(e, Exception)
    assert "a deliberate panic" in str(e)
    # the interpreter and the module still work
    assert _native.database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_panic_does_not_abort_a_fresh_interpreter():
    code = ("from spyglass_rs import _native\n"
            "try:\n    _native._panic_for_tests(True)\n"
            "except BaseException as e:\n    print(type(e).__name__)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["PanicException"]
