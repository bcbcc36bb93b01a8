#!/usr/bin/python3
"""Exports a torchvision model (random weights, nothing downloaded) to ONNX for systolic-sim.

    scripts/export_onnx.py NAME [--out FILE] [--batch N] [--size S] [--opset V] [--external-data]
    systolic-sim --workload FILE.onnx

NAME is any model torchvision.models builds by name (resnet50, mobilenet_v2, vit_b_16,
efficientnet_b0, ...; --list prints them). The batch dimension is exported as a symbolic dim
(`batch`) unless --batch fixes it; systolic-sim's --batch N sets it (default 1). The weights are
random (torchvision's initialisation): the simulator reads shapes only. --external-data writes
the weights to FILE.data next to the model, so the .onnx itself stays small.

Needs Debian's python3-torch, python3-torchvision and python3-onnx (scripts/setup.sh).
"""
import argparse
import sys


def build_model(name):
    import torchvision

    kwargs = {}
    if name.startswith("inception") or name == "googlenet":
        kwargs = {"aux_logits": False, "init_weights": False}
    fn = (torchvision.models.get_model if hasattr(torchvision.models, "get_model")
          else lambda n, **k: getattr(torchvision.models, n)(**k))
    return fn(name, weights=None, **kwargs)


def model_names():
    import torchvision
    if hasattr(torchvision.models, "list_models"):
        return sorted(torchvision.models.list_models(module=torchvision.models))
    names = []
    for n in dir(torchvision.models):
        f = getattr(torchvision.models, n)
        if n.islower() and not n.startswith("_") and callable(f) and not isinstance(f, type):
            names.append(n)
    return sorted(names)


def default_size(name):
    return 299 if name.startswith("inception") else 224


def export(model, out, batch=None, size=224, opset=17, external_data=False, channels=3):
    """Exports `model` (a torch.nn.Module taking one NCHW image batch) to `out`."""
    import torch

    model.eval()
    x = torch.randn(batch or 1, channels, size, size)
    dynamic = None if batch else {"input": {0: "batch"}, "output": {0: "batch"}}
    # Gradients stay enabled: under no_grad, nn.MultiheadAttention takes its fused fast path
    # (aten::_native_multi_head_attention), which the exporter of torch 1.13 cannot write.
    torch.onnx.export(model, x, out, opset_version=opset, input_names=["input"],
                      output_names=["output"], dynamic_axes=dynamic, do_constant_folding=True)
    if external_data:
        import os
        import onnx
        m = onnx.load(out)
        onnx.save_model(m, out, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(out) + ".data", size_threshold=1024)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", nargs="?", help="torchvision model name, e.g. resnet50")
    ap.add_argument("--out", help="output file [default: NAME.onnx]")
    ap.add_argument("--batch", type=int, help="fix the batch size (default: symbolic)")
    ap.add_argument("--size", type=int, help="input image size [default: 224, 299 for inception]")
    ap.add_argument("--opset", type=int, default=17, help="ONNX opset, 11 to 17 [default: 17]")
    ap.add_argument("--external-data", action="store_true",
                    help="weights in FILE.data next to the model")
    ap.add_argument("--list", action="store_true", help="print the model names and exit")
    a = ap.parse_args(argv)
    if a.list:
        print("\n".join(model_names()))
        return 0
    if not a.name:
        ap.error("give a model NAME (or --list)")
    if a.batch is not None and a.batch < 1:
        ap.error(f"--batch {a.batch}: expected a positive integer")
    if not 11 <= a.opset <= 17:
        ap.error(f"--opset {a.opset}: expected 11 to 17")
    import torch
    torch.manual_seed(0)
    if a.name not in model_names():
        print(f"error: export_onnx.py: unknown torchvision model '{a.name}' (see --list)",
              file=sys.stderr)
        return 2
    model = build_model(a.name)
    out = a.out or a.name + ".onnx"
    export(model, out, a.batch, a.size or default_size(a.name), a.opset, a.external_data)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
