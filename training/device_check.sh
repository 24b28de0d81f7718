#!/usr/bin/env bash
# Checks the training code on a machine with a GPU, in one go (a few minutes):
#   1. which torch and which GPU;
#   2. the whole training test suite: every test that trains, exports or compares ONNX with PyTorch
#      runs on CUDA there (float16 autocast included), since training picks CUDA when it is present;
#   3. DDP with two ranks on that GPU (tests/test_ddp.py, gloo, as NCCL refuses two ranks on one GPU),
#      already part of step 2 and repeated alone so its result stands out;
#   4. the same through torchrun itself, where torch is 2 or later.
# Usage: training/device_check.sh [python]   (default: $UNMASK_PYTHON, else python3). Exit status 0
# only when every step passed. Nothing is downloaded. Without `npm ci` (node_modules is not carried
# to a device machine) the tests of the face-api and nsfwjs weight ports skip, saying so, and ONNX
# outputs are compared with PyTorch by whichever runtime there is (onnx.reference, onnxruntime).
set -u
cd "$(dirname "$0")"
py=${1:-${UNMASK_PYTHON:-python3}}
status=0

echo "== torch and device"
"$py" - <<'EOF' || status=1
import torch
print("torch", torch.__version__, "| CUDA available:", torch.cuda.is_available())
if torch.cuda.is_available():
    for i in range(torch.cuda.device_count()):
        print(f"  cuda:{i}", torch.cuda.get_device_name(i))
EOF

echo "== training tests"
"$py" -m unittest discover -s tests -t . 2>&1 | tail -n 40
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== DDP, two ranks"
"$py" -m unittest tests.test_ddp -v 2>&1 | tail -n 12
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== torchrun, two ranks (torch 2 or later; Debian's torch 1.13 torchrun fails on Python 3.11)"
if "$py" -c 'import sys, torch; sys.exit(int(torch.__version__.split(".")[0]) < 2)' 2>/dev/null; then
  tmp=$(mktemp -d)
  "$py" -c "from pathlib import Path; from tests.synth import make_crops_dir; make_crops_dir(Path('$tmp/crops'), side=64, per_class=4, frames=2)" &&
    UNMASK_DIST_BACKEND=gloo "$py" -m torch.distributed.run --standalone --nproc_per_node 2 -m unmask_train train \
      --crops "$tmp/crops" --arch resnet_xs --size 32 --epochs 2 --batch-size 4 --samples-per-epoch 16 \
      --workers 0 --threads 1 --out "$tmp/run" 2>&1 | tail -n 4 &&
    [ "${PIPESTATUS[0]}" -eq 0 ] && [ -f "$tmp/run/final.json" ] && echo "torchrun: ok" || { echo "torchrun: FAILED"; status=1; }
  rm -rf "$tmp"
else
  echo "torchrun: skipped (torch older than 2 here; tests/test_ddp.py starts the ranks itself)"
fi

echo "== device check: $([ $status -eq 0 ] && echo PASSED || echo FAILED)"
exit $status
