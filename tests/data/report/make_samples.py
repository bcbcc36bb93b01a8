#!/usr/bin/env python3
"""Writes the sample run folders used by tests/scripts/test_report.py.

    python3 tests/data/report/make_samples.py      # rewrites small/ and net60/ next to this file

The numbers come from a deliberately simple cost model (NOT the simulator's): a weight-stationary
array that streams M vectors per fold plus R + r + c - 2 cycles of fill/drain, DRAM traffic of
each operand once, and memory stall = max(0, DRAM cycles - busy cycles). They are consistent in
the way docs/report-format.md requires (the cycle parts add up, totals are column sums, derived
columns match their formulas), which is all the report needs.
"""

import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))

COLUMNS = (
    "index", "layer", "name", "type", "M", "N", "K", "repeat", "macs", "flops", "folds",
    "total_cycles", "compute_cycles", "fill_drain_cycles", "mem_stall_cycles", "vector_cycles",
    "compute_util", "overall_util", "mapping_eff", "dram_read_bytes", "dram_write_bytes",
    "arith_intensity", "achieved_flops_per_s", "roof_flops_per_s", "bound",
)


def g(x):
    return f"{x:.9g}"


def csv_field(s):
    s = str(s)
    if any(ch in s for ch in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


class Model:
    def __init__(self, rows, cols, clock_ghz, bw_bytes_per_cycle, lanes):
        self.R, self.C = rows, cols
        self.clock = clock_ghz * 1e9
        self.bw = bw_bytes_per_cycle
        self.lanes = lanes
        self.peak = 2.0 * rows * cols * self.clock
        self.bw_s = bw_bytes_per_cycle * self.clock

    def gemm(self, M, N, K, repeat=1):
        R, C = self.R, self.C
        folds = used = fill = 0
        for k0 in range(0, K, R):
            r = min(R, K - k0)
            for n0 in range(0, N, C):
                c = min(C, N - n0)
                folds += 1
                used += r * c
                fill += R + r + c - 2
        compute = folds * M * repeat
        fill *= repeat
        rd = repeat * (M * K + K * N)
        wr = repeat * M * N
        mem = math.ceil((rd + wr) / self.bw)
        stall = max(0, mem - compute - fill)
        macs = repeat * M * N * K
        return dict(M=M, N=N, K=K, repeat=repeat, macs=macs, flops=2 * macs,
                    folds=folds * repeat, compute_cycles=compute, fill_drain_cycles=fill,
                    mem_stall_cycles=stall, vector_cycles=0, dram_read_bytes=rd,
                    dram_write_bytes=wr, mapping_eff=used / (folds * R * C))

    def vector(self, elements, inputs, outputs):
        vec = math.ceil(elements / self.lanes)
        mem = math.ceil((inputs + outputs) / self.bw)
        return dict(M="", N="", K="", repeat="", macs=0, flops=elements, folds=0,
                    compute_cycles=0, fill_drain_cycles=0, mem_stall_cycles=max(0, mem - vec),
                    vector_cycles=vec, dram_read_bytes=inputs, dram_write_bytes=outputs,
                    mapping_eff=None)

    def row(self, index, layer, name, typ, d):
        total = (d["compute_cycles"] + d["fill_drain_cycles"] + d["mem_stall_cycles"]
                 + d["vector_cycles"])
        nbytes = d["dram_read_bytes"] + d["dram_write_bytes"]
        ai = d["flops"] / nbytes
        pes = self.R * self.C
        busy = d["compute_cycles"] + d["fill_drain_cycles"]
        gemm = d["M"] != ""
        out = dict(d, index=index, layer=layer, name=name, type=typ, total_cycles=total)
        out["compute_util"] = g(d["macs"] / (pes * busy)) if gemm else ""
        out["overall_util"] = g(d["macs"] / (pes * total))
        out["mapping_eff"] = g(d["mapping_eff"]) if gemm else ""
        out["arith_intensity"] = g(ai)
        out["achieved_flops_per_s"] = g(d["flops"] * self.clock / total)
        out["roof_flops_per_s"] = g(min(self.peak, self.bw_s * ai))
        out["bound"] = "compute" if self.bw_s * ai >= self.peak else "memory"
        return out


def write_run(folder, model, rows, run_name, workload, n_layers, dataflow, canonical=None,
              sram=(512, 512, 256), overlap=False):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "layers.csv"), "w", newline="") as f:
        f.write(",".join(COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(csv_field(r[c]) for c in COLUMNS) + "\n")
    cycles = sum(r["total_cycles"] for r in rows)
    macs = sum(r["macs"] for r in rows)
    flops = sum(r["flops"] for r in rows)
    rd = sum(r["dram_read_bytes"] for r in rows)
    wr = sum(r["dram_write_bytes"] for r in rows)
    seconds = cycles / model.clock
    summary = {
        "schema_version": 1,
        "tool": "systolic-sim",
        "tool_version": "0.1.0",
        "run_name": run_name,
        "workload": {"name": workload, "layers": n_layers},
        "hardware": {
            "array_rows": model.R, "array_cols": model.C, "dataflow": dataflow,
            "clock_ghz": model.clock / 1e9, "peak_flops_per_s": model.peak,
            "dram_bytes_per_s": model.bw_s,
            "sram_kib": {"ifmap": sram[0], "filter": sram[1], "ofmap": sram[2]},
            "fold_overlap": overlap, "vector_lanes": model.lanes, "fidelity": "fast",
        },
        "totals": {
            "cycles": cycles, "seconds": seconds, "macs": macs, "flops": flops,
            "dram_read_bytes": rd, "dram_write_bytes": wr, "dram_bytes": rd + wr,
            "utilization": macs / (model.R * model.C * cycles),
            "achieved_flops_per_s": flops / seconds,
        },
    }
    if canonical:
        summary["canonical"] = canonical
    with open(os.path.join(folder, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")


def small():
    # 32 x 32 at 1 GHz: peak 2 * 32 * 32 * 1e9 = 2.048 TFLOP/s; 64 B/cycle = 64 GB/s; ridge 32.
    m = Model(32, 32, 1.0, 64, 16)
    rows = [
        m.row(0, 0, "conv1", "conv", m.gemm(M=56 * 56, N=64, K=3 * 3 * 16)),
        m.row(1, 0, "conv1.relu", "activation", m.vector(56 * 56 * 64, 56 * 56 * 64,
                                                          56 * 56 * 64)),
        m.row(2, 1, "fc", "linear", m.gemm(M=1, N=1000, K=512)),
    ]
    write_run(os.path.join(HERE, "small"), m, rows, "small_os_32x32", "tiny-cnn", 2, "os")


def net60():
    # 250 x 200 at 1 GHz: peak 100 TFLOP/s; 1000 B/cycle = 1 TB/s; ridge 100 FLOPs/byte.
    m = Model(250, 200, 1.0, 1000, 1024)
    rows = []
    layer = [0]

    def add(name, typ, d, new_layer=True):
        if new_layer and rows:
            layer[0] += 1
        rows.append(m.row(len(rows), layer[0], name, typ, d))

    def conv(name, hw, cin, cout, k, stride=1, relu=True):
        ho = hw // stride
        add(name, "conv", m.gemm(M=ho * ho, N=cout, K=k * k * cin))
        if relu:
            e = ho * ho * cout
            add(name + ".relu", "activation", m.vector(e, e, e), new_layer=False)
        return ho

    hw = conv("conv1", 224, 3, 64, 7, stride=2)                                 # 2 rows
    e = 56 * 56 * 64
    add("maxpool", "pool", m.vector(e * 9, 112 * 112 * 64, e))                  # 3
    hw, ch = 56, 64
    for stage, cout in enumerate((64, 128, 256, 512)):                          # 4 x 2 x 5 = 40
        for block in range(2):
            stride = 2 if (block == 0 and stage > 0) else 1
            pre = f"layer{stage + 1}.{block}"
            ho = conv(pre + ".conv1", hw, ch, cout, 3, stride)
            conv(pre + ".conv2", ho, cout, cout, 3, relu=False)
            e = ho * ho * cout
            add(pre + ".add", "elementwise", m.vector(e, 2 * e, e))
            add(pre + ".relu", "activation", m.vector(e, e, e), new_layer=False)
            hw, ch = ho, cout
    # A transformer encoder block on the 7 x 7 = 49 tokens of d = 512 (14 rows).
    seq, d, heads, dh = 49, 512, 8, 64
    add("encoder.norm1", "norm", m.vector(seq * d * 4, seq * d, seq * d))
    add("encoder.block0.attention.self.query_key_value_projection", "linear",
        m.gemm(M=seq, N=3 * d, K=d))
    add("encoder.attn.q_scale", "elementwise", m.vector(seq * d, seq * d, seq * d),
        new_layer=False)
    add("encoder.attn.qk", "attention-qk", m.gemm(M=seq, N=seq, K=dh, repeat=heads),
        new_layer=False)
    add("encoder.attn.softmax", "softmax",
        m.vector(heads * seq * seq * 5, heads * seq * seq, heads * seq * seq), new_layer=False)
    add("encoder.attn.av", "attention-av", m.gemm(M=seq, N=dh, K=seq, repeat=heads),
        new_layer=False)
    add("encoder.attn.out", "linear", m.gemm(M=seq, N=d, K=d), new_layer=False)
    add("encoder.add1", "elementwise", m.vector(seq * d, 2 * seq * d, seq * d))
    add("encoder.norm2", "norm", m.vector(seq * d * 4, seq * d, seq * d))
    add("encoder.fc1", "linear", m.gemm(M=seq, N=4 * d, K=d))
    add("encoder.fc1.gelu", "activation", m.vector(seq * 4 * d * 8, seq * 4 * d, seq * 4 * d),
        new_layer=False)
    add("encoder.fc2", "linear", m.gemm(M=seq, N=d, K=4 * d))
    add("encoder.add2", "elementwise", m.vector(seq * d, 2 * seq * d, seq * d))
    add("encoder.proj", "gemm", m.gemm(M=seq, N=d, K=d, repeat=4))             # 57
    add("avgpool", "pool", m.vector(seq * d, seq * d, d))
    add("fc", "linear", m.gemm(M=1, N=1000, K=d))
    add("softmax", "softmax", m.vector(5000, 1000, 1000))                      # 60
    assert len(rows) == 60, len(rows)

    # The two reference kernels on the same hardware, with the same toy model.
    n = 1 << 26  # int8 vector add: c = a + b, 3 bytes per FLOP
    va_cycles = math.ceil(3 * n / m.bw) + 100
    mm = m.gemm(M=8192, N=8192, K=8192)
    mm_cycles = max(mm["compute_cycles"] + mm["fill_drain_cycles"],
                    math.ceil((mm["dram_read_bytes"] + mm["dram_write_bytes"]) / m.bw))
    mm_bytes = mm["dram_read_bytes"] + mm["dram_write_bytes"]
    canonical = {
        "vector_add": {"description": "c = a + b, 67108864 int8 elements", "flops": n,
                       "dram_bytes": 3 * n, "cycles": va_cycles,
                       "achieved_flops_per_s": n * m.clock / va_cycles},
        "matrix_multiply": {"description": "8192 x 8192 x 8192 int8 GEMM", "flops": mm["flops"],
                            "dram_bytes": mm_bytes, "cycles": mm_cycles,
                            "achieved_flops_per_s": mm["flops"] * m.clock / mm_cycles},
    }
    write_run(os.path.join(HERE, "net60"), m, rows, "resnet18-encoder_ws_250x200",
              "resnet18 + encoder (sample)", layer[0] + 1, "ws", canonical, overlap=True)


if __name__ == "__main__":
    small()
    net60()
