"""Writes test/golden/torch-model.safetensors from PyTorch tensors, following the safetensors spec
independently of nabla's writer (header length as u64 little-endian, JSON header with dtype, shape
and data_offsets, entries ordered by name, header padded with spaces to 8 bytes), plus a JSON file of
the expected values for test/io.test.ts."""
import json
import struct
import sys

import torch

CODES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
         torch.float16: "F16", torch.bool: "BOOL"}


def write(target, tensors, metadata=None):
    """`tensors` (name -> torch tensor) as a safetensors file at `target`."""
    header, blobs, offset = {"__metadata__": metadata or {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().tobytes()
        header[name] = {"dtype": CODES[tensors[name].dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * (-len(text) % 8)
    with open(target, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + b"".join(blobs))


def main(target, values_target):
    torch.manual_seed(0)
    tensors = {
        "fc.weight": torch.randn(3, 4),
        "fc.bias": torch.randn(3),
        "labels": torch.tensor([0, 2, 1, 9], dtype=torch.int64),
        "half": torch.tensor([0.5, -2.0, 65504.0, 1e-4], dtype=torch.float16),
        "mask": torch.tensor([True, False, True]),
        "double": torch.randn(2, 2, dtype=torch.float64),
    }
    write(target, tensors)
    expected = {name: {"shape": list(t.shape), "values": t.float().flatten().tolist()} for name, t in tensors.items()}
    with open(values_target, "w") as f:
        json.dump({"torch": torch.__version__, "tensors": expected}, f, indent=1)
        f.write("\n")
    print(f"wrote {target} and {values_target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
