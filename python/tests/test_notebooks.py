"""The example notebooks (examples/notebooks) run top to bottom, headless, on the
demo session; they are stored without outputs."""

import os
import pathlib

import pytest

NOTEBOOKS = sorted(
    (pathlib.Path(__file__).resolve().parents[2] / "examples" / "notebooks").glob("*.ipynb")
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name} is stored with outputs"
            )
    monkeypatch.setenv("SPYGLASS_BASE_DIR", str(tmp_path))
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs
        if o.get("output_type") == "error"
    ]
    assert not errors
    assert os.path.exists(tmp_path / "spyglass.db")


def test_there_is_a_notebook():
    assert NOTEBOOKS, "examples/notebooks holds the example notebooks"
