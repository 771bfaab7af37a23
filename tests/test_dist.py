"""`make dist` builds a wheel and an sdist; the wheel installs into a clean venv with its generated modules and the
exported JSON Schemas, and its CLI never reaches for the checkout's `codegen` or `schemas/`."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_imports(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--quiet", "--outdir", str(out), str(ROOT)], check=True)
    wheel = next(out.glob("typed_inference-*.whl"))
    assert next(out.glob("typed_inference-*.tar.gz"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "typed_inference/py.typed" in names
    assert "typed_inference/types/fill_mask.py" in names
    assert "typed_inference/_generated/registry.py" in names and "typed_inference/_generated/methods.py" in names
    assert "typed_inference/schemas/fill-mask.json" in names
    assert not any(name.startswith("codegen/") for name in names)
    shipped = {
        name.removeprefix("typed_inference/_docs/") for name in names if name.startswith("typed_inference/_docs/")
    }
    assert shipped == {"README.md", *(p.name for p in (ROOT / "docs").glob("*.md"))}  # every doc, and the README
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)], check=True
    )
    code = (
        "from typed_inference.types import FillMaskInput, FillMaskOutputElement, ChatCompletionOutput; "
        "from typed_inference import InferenceClient; "
        "import typed_inference, pathlib; "
        "assert (pathlib.Path(typed_inference.__file__).parent / 'py.typed').exists(); "
        "print(FillMaskInput.model_validate({'inputs': 'a [MASK]'}).inputs)"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a [MASK]"
    # The installed CLI prints a task's schema from the package alone, run from a folder with no checkout in sight.
    cli = env / "bin" / "typed-inference"
    schema = subprocess.run([str(cli), "schema", "fill-mask"], capture_output=True, text=True, cwd=tmp_path)
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout)["$ref"] == "#/$defs/FillMaskInput"
    # ... and its documentation: the README's links to docs/ lead nowhere on a package index, `docs TOPIC` does
    server_doc = subprocess.run([str(cli), "docs", "server"], capture_output=True, text=True, cwd=tmp_path)
    assert server_doc.returncode == 0, server_doc.stderr
    assert server_doc.stdout == (ROOT / "docs" / "server.md").read_text()
    readme = subprocess.run([str(cli), "docs", "readme"], capture_output=True, text=True, cwd=tmp_path)
    assert readme.stdout == (ROOT / "README.md").read_text()
    listing = subprocess.run(
        [str(python), "-c", "import sys, typed_inference.cli; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert listing.returncode == 0 and "codegen" not in listing.stdout.split("'")
