#!/usr/bin/env bash
# Runs the training package's Python tests with a Python that has torch (Debian's /usr/bin/python3
# sees apt's python3-torch; a pyenv python3 first on PATH usually does not). Skips, saying so, when
# no such Python exists: scanning never needs Python.
cd "$(dirname "$0")"
for py in "${UNMASK_PYTHON:-}" /usr/bin/python3 python3; do
  [ -n "$py" ] || continue
  if "$py" -c 'import torch, torchvision, onnx' 2>/dev/null; then
    exec "$py" -m unittest discover -s tests -t . "$@"
  fi
done
echo "SKIPPED training tests: no Python with torch, torchvision and onnx (apt-get install python3-torch python3-torchvision python3-onnx)"
