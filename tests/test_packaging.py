"""The package installs whole: a wheel built from the project carries the prompts, the viewer's files,
the shipped planners and translator and the demo graph, so a non-editable install finds them."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_carries_every_data_file(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                            "--wheel-dir", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    [wheel] = tmp_path.glob("reasoner-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ["serve.py", "prompts/kg_plan.txt", "viewer/index.html", "viewer/app.js", "viewer/style.css",
                   "kg/demo/movies.txt", "tools/kg/planners/metaqa/adapter_model.safetensors",
                   "tools/kg/planners/metaqa/question_forms.json", "tools/kg/planners/metaqa-search/scorer.npz",
                   "tools/logic/adapter/adapter_model.safetensors", "tools/logic/adapter/translator.json",
                   "tools/induce/adapter/proposer.json", "tools/regress/adapter/adapter_model.safetensors",
                   "agent/api/app.py", "tools/base.py", "agent/route_head.json"]:
        assert needed in names, needed
