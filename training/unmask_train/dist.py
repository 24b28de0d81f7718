"""Single-process or DDP (torchrun) execution context.

Under torchrun, WORLD_SIZE/RANK/LOCAL_RANK are set: one process per GPU (or per CPU slot with gloo).
Otherwise everything runs in this process on CUDA when available, else CPU.

`UNMASK_DIST_BACKEND` (nccl | gloo) overrides the backend: NCCL refuses two ranks on one GPU, gloo
does not, so `gloo` lets several ranks share the GPUs there are (ranks go round-robin over them;
for checking the DDP path on one GPU, not for speed).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistEnv:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup() -> DistEnv:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistEnv(0, 1, 0, torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    backend = os.environ.get("UNMASK_DIST_BACKEND", "")
    if backend not in ("", "nccl", "gloo"):
        raise SystemExit(f"error: UNMASK_DIST_BACKEND={backend!r}; expected nccl or gloo")
    if torch.cuda.is_available():
        index = local_rank % torch.cuda.device_count()
        torch.cuda.set_device(index)
        device = torch.device("cuda", index)
        backend = backend or "nccl"
    else:
        if backend == "nccl":
            raise SystemExit("error: UNMASK_DIST_BACKEND=nccl needs CUDA, which this machine lacks")
        device, backend = torch.device("cpu"), "gloo"
    dist.init_process_group(backend=backend)
    return DistEnv(dist.get_rank(), dist.get_world_size(), local_rank, device)


def broadcast_flag(env: DistEnv, flag: bool) -> bool:
    """Rank 0's decision (e.g. stop training), shared with every rank."""
    if not env.distributed:
        return flag
    t = torch.tensor([1 if flag else 0], device=env.device)
    dist.broadcast(t, src=0)
    return bool(t.item())


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()


def teardown(env: DistEnv) -> None:
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()
