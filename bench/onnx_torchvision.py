#!/usr/bin/python3
"""Every torchvision classification model through scripts/export_onnx.py and systolic-sim.

    bench/onnx_torchvision.py BUILD_DIR [NAME ...] [--max-params 300e6] [--csv FILE]

For each model (all of torchvision's classification models by default, those with more than
--max-params parameters left out): export to ONNX (random weights, symbolic batch, opset 17),
simulate with `--workload FILE.onnx --fidelity fast`, and compare the GEMM MACs with a count
over the PyTorch model's own shapes: forward hooks on Conv2d and MultiheadAttention, plus the
F.linear, matmul/bmm/@ (between activations) and einsum calls seen through a TorchFunctionMode
(Swin's attention calls F.linear on its weights, MaxViT uses einsum). Prints one line per model and a CSV (--csv). Not a test: it takes minutes.
"""
import argparse
import csv
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_export():
    spec = importlib.util.spec_from_file_location(
        "export_onnx", os.path.join(HERE, "..", "scripts", "export_onnx.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def module_macs(model, x):
    import torch
    from torch.overrides import TorchFunctionMode
    total = [0]
    mha = []
    inside = [0]  # inside a MultiheadAttention: its hook counts its products

    def conv(m, inp, out):
        total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def enter(m, inp):
        inside[0] += 1

    def attention(m, inp, out):
        inside[0] -= 1
        y = out[0]
        n, l = (y.shape[0], y.shape[1]) if m.batch_first else (y.shape[1], y.shape[0])
        e = m.embed_dim
        total[0] += 3 * n * l * e * e + 2 * n * l * l * e + n * l * e * e

    class MatMuls(TorchFunctionMode):
        # Products of two activations outside the modules above (functional attention).
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if inside[0] == 0 and func is torch.nn.functional.linear:
                # nn.Linear and functional linears alike (Swin's attention calls F.linear).
                total[0] += out.numel() * args[1].shape[-1]
                return out
            if inside[0] == 0 and func is torch.einsum and len(args) >= 3:
                # MACs: the product of every label's size over the two operands.
                sizes = {}
                for spec, t in zip(args[0].replace(" ", "").split("->")[0].split(","), args[1:]):
                    for c, d in zip(spec, t.shape):
                        sizes[c] = d
                macs = 1
                for d in sizes.values():
                    macs *= d
                total[0] += macs
                return out
            if inside[0] == 0 and func in (torch.matmul, torch.bmm, torch.Tensor.matmul, torch.Tensor.__matmul__) \
                    and len(args) >= 2 and isinstance(args[1], torch.Tensor) \
                    and args[1].requires_grad is False and args[0].dim() >= 2 \
                    and args[1].dim() >= 2 and not isinstance(args[1], torch.nn.Parameter):
                total[0] += out.numel() * args[0].shape[-1]
            return out

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.MultiheadAttention):
            mha.append(m)
            hooks.append(m.register_forward_pre_hook(enter))
            hooks.append(m.register_forward_hook(attention))
        elif isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
    with torch.no_grad():
        for p in model.parameters():
            p.requires_grad_(False)
        with MatMuls():
            model.eval()(x)
    for p in model.parameters():
        p.requires_grad_(True)
    for h in hooks:
        h.remove()
    return total[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("names", nargs="*")
    ap.add_argument("--max-params", type=float, default=300e6)
    ap.add_argument("--csv")
    a = ap.parse_args()
    import torch
    exp = load_export()
    names = a.names or exp.model_names()
    binary = os.path.join(a.build, "systolic-sim")
    rows = []
    tmp = tempfile.mkdtemp()
    for name in names:
        torch.manual_seed(0)
        try:
            model = exp.build_model(name)
        except Exception as e:  # noqa: BLE001 - reported per model
            print(f"{name}: cannot build: {e}", flush=True)
            continue
        params = sum(p.numel() for p in model.parameters())
        if params > a.max_params:
            print(f"{name}: {params / 1e6:.0f} M parameters, left out", flush=True)
            continue
        size = exp.default_size(name)
        x = torch.randn(1, 3, size, size)
        ref = module_macs(model, x)
        path = os.path.join(tmp, name + ".onnx")
        t0 = time.time()
        try:
            exp.export(model, path, None, size, 17, params > 100e6)
        except Exception as e:  # noqa: BLE001
            print(f"{name}: export failed: {str(e).splitlines()[0]}", flush=True)
            rows.append([name, ref, "", "", "export failed"])
            continue
        t1 = time.time()
        out = os.path.join(tmp, name + "-out")
        r = subprocess.run([binary, "--workload", path, "--out", out, "--quiet"],
                           capture_output=True, text=True,
                           env=dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1"))
        t2 = time.time()
        if r.returncode != 0:
            print(f"{name}: systolic-sim exit {r.returncode}: {r.stderr.strip()[:300]}", flush=True)
            rows.append([name, ref, "", "", r.stderr.strip()[:300]])
        else:
            with open(os.path.join(out, "layers.csv")) as f:
                ours = sum(int(x["macs"]) for x in csv.DictReader(f))
            diff = (ours - ref) / ref * 100 if ref else 0.0
            print(f"{name}: ours {ours:,} PyTorch {ref:,} ({diff:+.3f} %), export {t1 - t0:.0f} s,"
                  f" simulate {t2 - t1:.1f} s", flush=True)
            rows.append([name, ref, ours, f"{diff:.4f}", ""])
        for f in (path, path + ".data"):
            if os.path.exists(f):
                os.remove(f)
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["model", "pytorch_macs", "onnx_macs", "diff_percent", "error"])
            w.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
