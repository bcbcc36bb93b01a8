#!/usr/bin/python3
"""ONNX models as workloads (`--workload FILE.onnx`), end to end through systolic-sim.

- Small graphs built here with onnx.helper, one per op or pattern: the layers.csv op list and
  MACs (vector ops: their elements, the `flops` column) against values derived by hand.
- Bad input: unsupported op, truncated file, wrong format, cycle, undefined tensor, a symbolic
  dim that is not the batch: exit 2, one line, nothing written.
- torchvision's ResNet-50, MobileNetV2 and ViT-B/16 and a torch.nn.TransformerEncoder, exported
  by scripts/export_onnx.py once and cached in $SSIM_ONNX_CACHE (the build folder) by torch and
  torchvision version: MAC totals equal the built-in networks' and a per-layer sum over the
  PyTorch modules themselves (forward hooks on Conv2d, Linear and MultiheadAttention, computed
  here from the modules' shapes, not from our code); one attention op per encoder layer.

Run by ctest with SSIM_BINARY and SSIM_SOURCE_DIR; needs python3-onnx (and python3-torch,
python3-torchvision for the torchvision part).
"""
import csv
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BINARY = os.environ.get("SSIM_BINARY", "")
SOURCE = os.environ.get("SSIM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.environ.get("SSIM_ONNX_CACHE", os.path.join(tempfile.gettempdir(), "ssim-onnx-cache"))
ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
F = TensorProto.FLOAT


def run(args):
    return subprocess.run([BINARY] + args, capture_output=True, text=True, env=ENV, timeout=600)


def weight(name, *shape):
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def vi(name, shape):
    return helper.make_tensor_value_info(name, F, shape)


def conv_out(h, k, s, p, d=1):
    return (h + p - d * (k - 1) - 1) // s + 1  # p: both sides together


class OnnxTestBase(unittest.TestCase):
    def setUp(self):
        self.assertTrue(BINARY and os.path.exists(BINARY), "SSIM_BINARY not set or missing")
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def save(self, m, name="m.onnx"):
        path = os.path.join(self.tmp.name, name)
        onnx.save(m, path)
        return path

    def simulate(self, path, *extra):
        """Runs the model; returns (layers.csv rows, stderr)."""
        out = os.path.join(self.tmp.name, "out")
        r = run(["--workload", path, "--out", out, "--quiet", "--array", "16x16"] + list(extra))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "layers.csv")) as f:
            return list(csv.DictReader(f)), r.stderr

    def refused(self, path, *extra):
        out = os.path.join(self.tmp.name, "refused")
        r = run(["--workload", path, "--out", out, "--quiet"] + list(extra))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertTrue(r.stderr.startswith("error: "), r.stderr)
        self.assertFalse(os.path.exists(out), "output written for a refused model")
        return r.stderr

    @staticmethod
    def macs(rows):
        return sum(int(r["macs"]) for r in rows)


class SmallGraphs(OnnxTestBase):
    def test_conv_strides_pads_dilation_bn_relu(self):
        # 17x13 input, 3x3 kernel, stride (2, 1), pads t1 l2 b1 r2, dilation (1, 2)
        n = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", strides=[2, 1],
                              pads=[1, 2, 1, 2], dilations=[1, 2]),
             helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["bn"], name="bn"),
             helper.make_node("Relu", ["bn"], ["y"], name="relu")]
        ho, wo = conv_out(17, 3, 2, 2), conv_out(13, 3, 1, 4, 2)
        inits = [weight("w", 8, 3, 3, 3), weight("b", 8)] + [weight(k, 8) for k in "s bb m v".split()]
        rows, _ = self.simulate(self.save(model(n, [vi("x", [1, 3, 17, 13])],
                                                [vi("y", [1, 8, ho, wo])], inits)))
        self.assertEqual([(r["name"], r["type"]) for r in rows],
                         [("conv", "conv"), ("conv.relu", "activation")])  # BN folded, ReLU fused
        self.assertEqual(self.macs(rows), ho * wo * 8 * 27)
        self.assertEqual((ho, wo), (9, 13))  # (17 + 2 - 2 - 1) // 2 + 1, (13 + 4 - 4 - 1) + 1

    def test_depthwise_same_upper_and_asymmetric_pads(self):
        n = [helper.make_node("Conv", ["x", "w"], ["y"], name="dw", group=8, strides=[2, 2],
                              auto_pad="SAME_UPPER"),
             helper.make_node("Conv", ["y", "w2"], ["z"], name="asym", pads=[0, 0, 1, 1])]
        rows, _ = self.simulate(self.save(model(
            n, [vi("x", [1, 8, 10, 11])], [vi("z", [1, 4, 5, 6])],
            [weight("w", 8, 1, 3, 3), weight("w2", 4, 8, 2, 2)])))
        # SAME_UPPER: ceil(10/2) x ceil(11/2) = 5 x 6; one 3x3 filter per channel.
        # asym: (5 + 1 - 2) + 1 = 5, (6 + 1 - 2) + 1 = 6.
        self.assertEqual([r["name"] for r in rows], ["dw", "asym"])
        self.assertEqual(int(rows[0]["macs"]), 5 * 6 * 8 * 9)
        self.assertEqual(int(rows[0]["repeat"]), 8)  # groups
        self.assertEqual(int(rows[1]["macs"]), 5 * 6 * 4 * 8 * 4)

    def test_gemm_transposes_and_symbolic_batch(self):
        n = [helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc1", transB=1),
             helper.make_node("Sigmoid", ["h"], ["s"], name="sig"),
             helper.make_node("MatMul", ["s", "w2"], ["m"], name="fc2"),
             helper.make_node("Add", ["m", "b2"], ["y"], name="fc2_bias")]
        m = model(n, [vi("x", ["N", 20])], [vi("y", ["N", 7])],
                  [weight("w", 30, 20), weight("b", 30), weight("w2", 30, 7), weight("b2", 7)])
        path = self.save(m)
        rows, _ = self.simulate(path, "--batch", "3")
        self.assertEqual([(r["name"], r["type"]) for r in rows],
                         [("fc1", "linear"), ("fc1.sigmoid", "activation"), ("fc2", "linear")])
        self.assertEqual(int(rows[0]["macs"]), 3 * 20 * 30)
        self.assertEqual(int(rows[2]["macs"]), 3 * 30 * 7)
        rows, _ = self.simulate(path)  # default batch 1
        self.assertEqual(self.macs(rows), 20 * 30 + 30 * 7)

    def test_batched_matmul_with_broadcast(self):
        n = [helper.make_node("MatMul", ["a", "b"], ["y"], name="bmm")]
        rows, _ = self.simulate(self.save(model(
            n, [vi("a", [2, 3, 5, 7]), vi("b", [3, 7, 4])], [vi("y", [2, 3, 5, 4])])))
        self.assertEqual([(r["name"], r["type"]) for r in rows], [("bmm", "gemm")])
        self.assertEqual((rows[0]["M"], rows[0]["N"], rows[0]["K"], rows[0]["repeat"]),
                         ("5", "4", "7", "6"))
        self.assertEqual(self.macs(rows), 6 * 5 * 4 * 7)

    def attention_model(self, opset=13, mask="add"):
        # x [1, 5, 16] -> q, k, v projections -> 2 heads of 8 -> scores / sqrt(8) + mask ->
        # softmax -> P V -> merge heads -> output projection.
        S, D, H, dh = 5, 16, 2, 8

        def heads(src, name, perm):
            return [helper.make_node("MatMul", [src, "w" + name], [name + "p"], name=name),
                    helper.make_node("Reshape", [name + "p", "split"], [name + "r"],
                                     name=name + "_reshape"),
                    helper.make_node("Transpose", [name + "r"], [name + "t"], perm=perm,
                                     name=name + "_transpose")]
        n = heads("x", "q", [0, 2, 1, 3]) + heads("x", "k", [0, 2, 3, 1]) + heads("x", "v", [0, 2, 1, 3])
        n += [helper.make_node("MatMul", ["qt", "kt"], ["sc"], name="attn/qk"),
              helper.make_node("Div", ["sc", "scale"], ["scd"], name="attn/scale"),
              helper.make_node("Add", ["scd", "mask"], ["scm"], name="attn/mask") if mask == "add"
              else helper.make_node("Where", ["causal", "scd", "ninf"], ["scm"], name="attn/mask"),
              helper.make_node("Softmax", ["scm"], ["p"], name="attn/softmax", axis=-1),
              helper.make_node("MatMul", ["p", "vt"], ["o"], name="attn/av"),
              helper.make_node("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3], name="merge_t"),
              helper.make_node("Reshape", ["ot", "merge"], ["om"], name="merge"),
              helper.make_node("MatMul", ["om", "wo"], ["y"], name="out")]
        inits = [weight("w" + c, D, D) for c in "qkvo"] + [
            numpy_helper.from_array(np.array([1, S, H, dh], dtype=np.int64), "split"),
            numpy_helper.from_array(np.array([1, S, D], dtype=np.int64), "merge"),
            numpy_helper.from_array(np.array(math.sqrt(dh), dtype=np.float32), "scale"),
            weight("mask", S, S),
            numpy_helper.from_array(np.tril(np.ones((S, S), dtype=bool)), "causal"),
            numpy_helper.from_array(np.array(-np.inf, dtype=np.float32), "ninf")]
        return model(n, [vi("x", [1, S, D])], [vi("y", [1, S, D])], inits, opset)

    def test_attention_pattern_is_one_attention_op(self):
        rows, _ = self.simulate(self.save(self.attention_model()))
        self.assertEqual([(r["name"], r["type"]) for r in rows],
                         [("q", "linear"), ("k", "linear"), ("v", "linear"),
                          ("attn.qk", "attention-qk"), ("attn.softmax", "softmax"),
                          ("attn.av", "attention-av"), ("out", "linear")])
        by = {r["name"]: r for r in rows}
        self.assertEqual((by["attn.qk"]["M"], by["attn.qk"]["N"], by["attn.qk"]["K"],
                          by["attn.qk"]["repeat"]), ("5", "5", "8", "2"))
        self.assertEqual(int(by["attn.softmax"]["flops"]), 2 * 5 * 5)
        self.assertEqual(self.macs(rows), 4 * 5 * 16 * 16 + 2 * (2 * 5 * 5 * 8))

    def test_causal_attention_with_where_mask(self):
        rows, _ = self.simulate(self.save(self.attention_model(mask="where")))
        self.assertEqual([r["type"] for r in rows],
                         ["linear"] * 3 + ["attention-qk", "softmax", "attention-av", "linear"])
        self.assertEqual(self.macs(rows), 4 * 5 * 16 * 16 + 2 * (2 * 5 * 5 * 8))

    def test_decomposed_layernorm_and_erf_gelu(self):
        c = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.float32), name)
        n = [helper.make_node("ReduceMean", ["x"], ["mu"], axes=[-1], name="ln/mean"),
             helper.make_node("Sub", ["x", "mu"], ["d"], name="ln/sub"),
             helper.make_node("Pow", ["d", "two"], ["d2"], name="ln/pow"),
             helper.make_node("ReduceMean", ["d2"], ["var"], axes=[-1], name="ln/var"),
             helper.make_node("Add", ["var", "eps"], ["ve"], name="ln/eps"),
             helper.make_node("Sqrt", ["ve"], ["sd"], name="ln/sqrt"),
             helper.make_node("Div", ["d", "sd"], ["nrm"], name="ln/div"),
             helper.make_node("Mul", ["nrm", "gamma"], ["g"], name="ln/gamma"),
             helper.make_node("Add", ["g", "beta"], ["lnout"], name="ln/beta"),
             helper.make_node("MatMul", ["lnout", "w"], ["h"], name="fc"),
             helper.make_node("Div", ["h", "sqrt2"], ["hd"], name="gelu/div"),
             helper.make_node("Erf", ["hd"], ["he"], name="gelu/erf"),
             helper.make_node("Add", ["he", "one"], ["h1"], name="gelu/add"),
             helper.make_node("Mul", ["h", "h1"], ["hm"], name="gelu/mul"),
             helper.make_node("Mul", ["hm", "half"], ["y"], name="gelu/half")]
        inits = [c("two", 2.0), c("eps", 1e-5), weight("gamma", 12), weight("beta", 12),
                 weight("w", 12, 6), c("sqrt2", math.sqrt(2)), c("one", 1.0), c("half", 0.5)]
        rows, _ = self.simulate(self.save(model(n, [vi("x", [1, 4, 12])], [vi("y", [1, 4, 6])],
                                                inits)))
        self.assertEqual([(r["name"], r["type"]) for r in rows],
                         [("ln", "norm"), ("fc", "linear"), ("fc.gelu", "activation")])
        self.assertEqual(int(rows[0]["flops"]), 4 * 12)
        self.assertEqual(self.macs(rows), 4 * 12 * 6)

    def test_pools_softmax_residual(self):
        n = [helper.make_node("MaxPool", ["x"], ["p"], name="maxpool", kernel_shape=[3, 3],
                              strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("AveragePool", ["p"], ["a"], name="avgpool", kernel_shape=[2, 2],
                              strides=[2, 2], ceil_mode=1),
             helper.make_node("Add", ["a", "a"], ["r"], name="residual"),
             helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
             helper.make_node("Softmax", ["f"], ["y"], name="softmax", axis=1)]
        rows, _ = self.simulate(self.save(model(n, [vi("x", [1, 4, 9, 9])], [vi("y", [1, 4])],
                                                opset=11)))
        self.assertEqual([(r["name"], r["type"]) for r in rows],
                         [("maxpool", "pool"), ("avgpool", "pool"), ("residual", "elementwise"),
                          ("gap", "pool"), ("softmax", "softmax")])
        flops = [int(r["flops"]) for r in rows]
        # maxpool 9 -> 5 (k3 s2 p1), ceil-mode avgpool 5 -> 3 (k2 s2), gap 3x3 -> 1.
        self.assertEqual(flops, [5 * 5 * 4 * 9, 3 * 3 * 4 * 4, 3 * 3 * 4, 4 * 9, 4])
        self.assertEqual(self.macs(rows), 0)

    def test_einsum_and_reductions(self):
        n = [helper.make_node("Einsum", ["a", "b"], ["s"], name="scores",
                              equation="bhid, bhjd -> bhij"),
             helper.make_node("Einsum", ["s", "b"], ["o"], name="mix", equation="...ij,...jd->...id"),
             helper.make_node("ReduceSum", ["o"], ["r"], name="sum", axes=[-1], keepdims=0),
             helper.make_node("ReduceMean", ["x"], ["g"], name="gap", axes=[2, 3], keepdims=0)]
        rows, _ = self.simulate(self.save(model(
            n, [vi("a", [2, 3, 5, 4]), vi("b", [2, 3, 6, 4]), vi("x", [1, 8, 7, 7])],
            [vi("r", [2, 3, 5]), vi("g", [1, 8])], opset=12)))
        self.assertEqual([(r["name"], r["type"]) for r in rows],
                         [("scores", "gemm"), ("mix", "gemm"), ("sum", "elementwise"),
                          ("gap", "pool")])
        # scores: 6 (b, h) products of 5x4 by 4x6; mix: 6 products of 5x6 by 6x4.
        self.assertEqual([r["macs"] for r in rows[:2]], [str(6 * 5 * 6 * 4)] * 2)
        self.assertEqual([int(r["flops"]) for r in rows[2:]], [2 * 3 * 5 * 4, 8 * 49])

    def test_unsupported_op_error_and_skip(self):
        n = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("TopK", ["c", "k"], ["v", "i"], name="my_topk", axis=-1),
             helper.make_node("ConvTranspose", ["x", "wt"], ["d"], name="deconv", strides=[2, 2])]
        m = model(n, [vi("x", [1, 1, 4, 4])], [vi("v", None), vi("d", None)],
                  [weight("w", 2, 1, 3, 3), weight("wt", 1, 3, 2, 2),
                   numpy_helper.from_array(np.array([1], dtype=np.int64), "k")])
        path = self.save(m)
        err = self.refused(path)
        for word in ["my_topk", "TopK", "opset 13", "supported ops:", "Conv", "MatMul"]:
            self.assertIn(word, err)
        rows, stderr = self.simulate(path, "--onnx-unsupported", "skip")
        self.assertEqual([r["name"] for r in rows], ["conv"])
        warnings = [l for l in stderr.splitlines() if l.startswith("warning:")]
        self.assertEqual(len(warnings), 1, stderr)
        self.assertIn("'my_topk' (TopK)", warnings[0])
        # The transposed conv's MACs: each of the 16 inputs scatters into 3 filters x 2x2 taps.
        self.assertIn("'deconv' (ConvTranspose, 192 MACs)", warnings[0])

    def test_malformed_files(self):
        good = self.attention_model()
        data = good.SerializeToString()
        trunc = os.path.join(self.tmp.name, "trunc.onnx")
        with open(trunc, "wb") as f:
            f.write(data[: len(data) // 2])
        self.refused(trunc)
        text = os.path.join(self.tmp.name, "text.onnx")
        with open(text, "w") as f:
            f.write("name: not-onnx\nlayers: []\n")
        self.refused(text)
        cyc = model([helper.make_node("Relu", ["b"], ["a"], name="r1"),
                     helper.make_node("Relu", ["a"], ["b"], name="r2")],
                    [vi("x", [1, 4])], [vi("a", [1, 4])])
        self.assertIn("cycle", self.refused(self.save(cyc, "cycle.onnx")))
        missing = model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                        [vi("x", [1, 4])], [vi("y", [1, 3])])  # no initializer w
        self.assertIn("'w'", self.refused(self.save(missing, "missing.onnx")))
        seq = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, "seq"])],
                    [vi("y", [1, "seq"])])
        self.assertIn("symbolic", self.refused(self.save(seq, "seq.onnx")))
        fixed = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [2, 4])],
                      [vi("y", [2, 4])])
        self.assertIn("--batch", self.refused(self.save(fixed, "fixed.onnx"), "--batch", "4"))
        old = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [2, 4])],
                    [vi("y", [2, 4])], opset=9)
        self.assertIn("opset 9", self.refused(self.save(old, "old.onnx")))


# --- torchvision models ------------------------------------------------------------------------

HAVE_TORCH = all(importlib.util.find_spec(m) for m in ("torch", "torchvision"))


def hook_macs(module, x):
    """MACs of one forward pass from the modules' own shapes (Conv2d, Linear, attention)."""
    import torch
    total = [0]
    mha = []

    def conv(m, inp, out):
        total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, inp, out):
        if not any(m is a.out_proj for a in mha):  # the attention hook counts its projections
            total[0] += out.numel() * m.in_features

    def attention(m, inp, out):
        y = out[0]  # the query's shape (the inputs may be keyword arguments)
        n, l = (y.shape[0], y.shape[1]) if m.batch_first else (y.shape[1], y.shape[0])
        e = m.embed_dim
        s = l  # self-attention
        total[0] += 3 * n * l * e * e + 2 * n * l * s * e + n * l * e * e

    hooks = []
    for m in module.modules():
        if isinstance(m, torch.nn.MultiheadAttention):
            mha.append(m)
            hooks.append(m.register_forward_hook(attention))
        elif isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear))
    # With gradients on, as for the export: under no_grad the fused fast paths of
    # TransformerEncoderLayer and MultiheadAttention skip the submodules' hooks.
    module.eval()(x)
    for h in hooks:
        h.remove()
    return total[0]


def exported(name, build, input_shape, batch=None, external_data=False):
    """(path of the cached .onnx, hook MACs); exported on the first use of this torch version."""
    import torch
    import torchvision
    key = f"{name}-torch{torch.__version__}-tv{torchvision.__version__}"
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, key + ".onnx")
    meta = os.path.join(CACHE, key + ".json")
    if not (os.path.exists(path) and os.path.exists(meta)):
        spec = importlib.util.spec_from_file_location(
            "export_onnx", os.path.join(SOURCE, "scripts", "export_onnx.py"))
        exp = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(exp)
        torch.manual_seed(0)
        m = build()
        macs = hook_macs(m, torch.randn(*input_shape))
        tmp = path + ".tmp"
        if input_shape[1:] == (3, 224, 224):
            exp.export(m, tmp, batch, 224, 17, external_data)
        else:
            torch.onnx.export(m.eval(), torch.randn(*input_shape), tmp, opset_version=17)
        if external_data:  # the data file is named after the model file
            os.replace(tmp + ".data", path + ".data")
            mm = onnx.load(tmp, load_external_data=False)
            for t in mm.graph.initializer:
                for e in t.external_data:
                    if e.key == "location":
                        e.value = os.path.basename(path) + ".data"
            onnx.save(mm, tmp)
        os.replace(tmp, path)
        with open(meta, "w") as f:
            json.dump({"hook_macs": macs}, f)
    with open(meta) as f:
        return path, json.load(f)["hook_macs"]


def builtin_macs(name):
    out = tempfile.mkdtemp()
    r = run(["--workload", name, "--out", out, "--quiet", "--array", "16x16"])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(out, "layers.csv")) as f:
        return sum(int(x["macs"]) for x in csv.DictReader(f))


@unittest.skipUnless(HAVE_TORCH, "needs python3-torch and python3-torchvision")
class Torchvision(OnnxTestBase):
    def check_model(self, tv_name, builtin):
        import torchvision
        path, hooks = exported(tv_name, lambda: getattr(torchvision.models, tv_name)(),
                               (1, 3, 224, 224), external_data=tv_name.startswith("vit"))
        rows, _ = self.simulate(path)
        ours = self.macs(rows)
        self.assertEqual(ours, hooks, f"{tv_name}: ONNX {ours} vs PyTorch modules {hooks}")
        self.assertEqual(ours, builtin_macs(builtin))
        return path, rows

    def test_resnet50(self):
        path, rows = self.check_model("resnet50", "resnet50")
        self.assertEqual(sum(r["type"] == "conv" for r in rows), 53)
        # The exported batch is symbolic: --batch 2 doubles every GEMM.
        rows2, _ = self.simulate(path, "--batch", "2")
        self.assertEqual(self.macs(rows2), 2 * self.macs(rows))

    def test_mobilenet_v2(self):
        _, rows = self.check_model("mobilenet_v2", "mobilenetv2")
        self.assertTrue(any(r["name"].endswith(".relu6") for r in rows))

    def test_vit_b_16(self):
        _, rows = self.check_model("vit_b_16", "vit-b16")
        self.assertEqual(sum(r["type"] == "attention-qk" for r in rows), 12)

    def test_transformer_encoder_attention_found(self):
        import torch
        layers, d, heads, seq, batch = 3, 64, 4, 10, 2

        def build():
            layer = torch.nn.TransformerEncoderLayer(d, heads, dim_feedforward=128,
                                                     batch_first=True)
            return torch.nn.TransformerEncoder(layer, layers)
        path, hooks = exported("transformer-encoder", build, (batch, seq, d))
        rows, _ = self.simulate(path)
        types = [r["type"] for r in rows]
        self.assertEqual(types.count("attention-qk"), layers)
        self.assertEqual(types.count("attention-av"), layers)
        self.assertEqual(types.count("softmax"), layers)
        self.assertNotIn("gemm", types)  # no loose activation x activation MatMuls
        qk = next(r for r in rows if r["type"] == "attention-qk")
        self.assertEqual((qk["M"], qk["N"], qk["K"], qk["repeat"]),
                         (str(seq), str(seq), str(d // heads), str(batch * heads)))
        self.assertEqual(self.macs(rows), hooks)


if __name__ == "__main__":
    unittest.main(verbosity=2)
