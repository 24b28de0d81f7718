"""What the converters of an exported frame model share (half_weights.py, quantize.py): reading the
source manifest with one-line refusals, and writing the copy's manifest with a provenance note."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Tuple, Type


def read_frame_export(manifest_path: Path, error: Type[Exception], verb: str) -> Tuple[Dict, Path]:
    """(manifest, its ONNX path) of an exported frame model; `error` with one line otherwise.
    `verb` names the conversion in the refusal of other kinds ("converted", "quantized")."""
    try:
        manifest = json.loads(Path(manifest_path).read_text())
        src_onnx = Path(manifest_path).parent / manifest["file"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise error(f"{manifest_path}: not a readable model manifest ({type(e).__name__}: {e})") from None
    if manifest.get("kind") != "frame":
        raise error(f"{manifest_path}: only frame models are {verb} (this one is {manifest.get('kind')})")
    if not src_onnx.is_file():
        raise error(f"{manifest_path}: its ONNX file {src_onnx} is missing")
    return manifest, src_onnx


def copy_target(out_dir: Path, name: str, src_onnx: Path, error: Type[Exception]) -> Path:
    """`<out_dir>/<name>.onnx` (the folder is made); `error` if that is the source file itself."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dst = out_dir / f"{name}.onnx"
    if dst.resolve() == src_onnx.resolve():
        raise error(f"{dst} is the source file; choose another --out or --name")
    return dst


def write_copy_manifest(manifest: Dict, dst_onnx: Path, name: str, note: str) -> Path:
    """The source manifest with `name` and `file` changed and `note` appended to its training notes,
    written beside `dst_onnx` as `<name>.manifest.json`."""
    out = dict(manifest, name=name, file=dst_onnx.name)
    training = dict(out.get("training", {}))
    training["notes"] = f"{training.get('notes', '')} {note}".strip()
    out["training"] = training
    path = dst_onnx.parent / f"{name}.manifest.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    return path
