#!/usr/bin/env bash
# Makes .venv-torch/ (ignored by git) with a CPU torch for the bench's PyTorch peer, offline,
# from this machine's local package indexes. The bench finds it there; or set
# KDGPU_TORCH_PYTHON to any python that has torch (e.g. a ready venv) and skip this.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-torch
.venv-torch/bin/pip install --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple \
  --find-links /opt/wheels torch numpy
.venv-torch/bin/python -c 'import torch; print("torch", torch.__version__)'
