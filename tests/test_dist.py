"""`make dist` builds a wheel and an sdist; the wheel installs into a clean venv with its generated modules."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

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
