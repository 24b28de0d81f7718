import unmask_train  # noqa: F401  (sets OMP_WAIT_POLICY before torch loads)
import torch

torch.set_num_threads(2)
