"""Evaluates the op case table in PyTorch and writes test/golden/ops.json.

Input: the JSON written by export-cases.ts (inputs and cotangents per case). For each case and each
float dtype, records the output (shape, dtype, values) and the gradients of <output, cotangent>
with respect to every float input. Non-finite numbers are written as the strings "nan", "inf", "-inf".
Run through `npm run golden` (needs Debian's python3-torch); CI only reads the committed result.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int32",
               torch.int32: "int32", torch.bool: "bool"}


def encode(values):
    out = []
    for v in values:
        if isinstance(v, bool):
            out.append(int(v))
        elif isinstance(v, float) and not math.isfinite(v):
            out.append("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
        else:
            out.append(v)
    return out


def run(case, dtype):
    inputs = []
    for spec in case["inputs"]:
        t = torch.tensor(spec["values"], dtype=torch.float64).reshape(spec["shape"])
        if spec["dtype"] == "int32":
            inputs.append(t.to(torch.int64))
        else:
            inputs.append(t.to(dtype).requires_grad_(True))
    names = dict(zip("abc", inputs))
    out = eval(case["torch"], {"torch": torch, "F": F, **names})
    result = {"shape": list(out.shape), "dtype": DTYPE_NAMES[out.dtype],
              "out": encode(out.detach().reshape(-1).tolist())}
    diff = [t for t in inputs if t.requires_grad]
    if out.requires_grad:
        cot = torch.tensor(case["cotangent"], dtype=torch.float64).reshape(out.shape).to(out.dtype)
        grads = torch.autograd.grad(out, diff, cot, allow_unused=True)
        result["grads"] = [encode((g if g is not None else torch.zeros_like(x)).reshape(-1).tolist())
                           for g, x in zip(grads, diff)]
    return result


def main(source, target):
    torch.set_num_threads(1)
    cases = json.load(open(source))
    golden = {"torch": torch.__version__, "cases": {}}
    for case in cases:
        golden["cases"][case["id"]] = {
            "hash": case["hash"],
            "float64": run(case, torch.float64),
            "float32": run(case, torch.float32),
        }
    with open(target, "w") as f:
        json.dump(golden, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(cases)} goldens (torch {torch.__version__}) to {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
