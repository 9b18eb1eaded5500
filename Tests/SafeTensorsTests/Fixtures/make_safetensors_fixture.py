"""A tiny safetensors file written by Python's safetensors, for SafeTensorsTests.

Writes mixed_dtypes.safetensors (F32, F16 and BF16 tensors, plus __metadata__) and
mixed_dtypes.json with the values each tensor holds once read as float32.

    python3 make_safetensors_fixture.py    # safetensors + torch
"""
import json
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
g = torch.Generator().manual_seed(0)
tensors = {
    "conv.weight": torch.randn(2, 1, 3, 3, generator=g),                       # F32
    "conv.bias": torch.tensor([0.5, -1.25]),                                    # F32
    "half": (torch.randn(3, 4, generator=g) * 10).to(torch.float16),            # F16
    "half_specials": torch.tensor([65504.0, -0.0, 6e-8, 1e-5, 1.0 / 3], dtype=torch.float16),
    "brain": (torch.randn(5, generator=g) * 1e3).to(torch.bfloat16),            # BF16
    "scalar": torch.tensor(3.0),                                               # shape []
    "empty": torch.zeros(0, 3),                                                # no bytes
}
path = os.path.join(HERE, "mixed_dtypes.safetensors")
save_file(tensors, path, metadata={"format": "pt"})
expected = {
    name: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
           "values": [float(v) for v in t.float().flatten()]}
    for name, t in tensors.items()
}
with open(os.path.join(HERE, "mixed_dtypes.json"), "w") as f:
    json.dump(expected, f, indent=1)
