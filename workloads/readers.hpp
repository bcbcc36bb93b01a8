// Reading workloads: SCALE-Sim topology CSVs (read unchanged), our YAML network format, and the
// built-in networks of workloads/networks/ by name. Formats: docs/workloads.md.
//
// Every reader throws InputError with one line "FILE:LINE: layer 'NAME': WHAT IS WRONG" (or
// "FILE:LINE: WHAT IS WRONG" when the problem is not inside a layer). The networks returned are
// validated (validate(Network)).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workloads/layer.hpp"

namespace ssim {

// SCALE-Sim topology CSV, conv form
//   Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,
//   Strides,
// (IFMAP sizes include any padding, so no padding is added) or GEMM form `Layer, M, N, K,`.
// The form is chosen by the header. Trailing commas, padded fields, CRLF line ends and fully
// empty rows are accepted; columns after the known ones are ignored (a column right after
// Strides whose header contains "stride" is read as the width stride). Batch 1, int8.
//
// Output sizes: floor((H - F) / S) + 1, the standard arithmetic. SCALE-Sim computes
// ceil((H - F + S) / S), one more where S does not divide H - F; where that differs, one note
// (in CsvOptions::notes) names the layers and the MACs SCALE-Sim counts in addition, and
// `scalesim_rounding` reproduces SCALE-Sim's sizes (the IFMAP grows by the missing columns/rows).
struct CsvOptions {
  bool scalesim_rounding = false;
  std::vector<std::string>* notes = nullptr;
};
Network read_scalesim_csv(const std::string& path, const CsvOptions& opts = {});
// The same from text; `source` names it in error messages and becomes Network::source.
Network parse_scalesim_csv(const std::string& text, const std::string& source,
                           const CsvOptions& opts = {});

// Our YAML network format (docs/workloads.md).
Network read_yaml_network(const std::string& path);
Network parse_yaml_network(const std::string& text, const std::string& source);

// ONNX models (docs/workloads.md, "ONNX models"): shapes only, the weights are never read (they
// may be in external data files). `batch` is the value of a symbolic batch dim (dim 0 of the
// inputs; 0: 1); giving it for a model whose batch is fixed is an error. Unsupported ops are an
// error naming the node, its op type and the opset, unless skip_unsupported: then they cost
// nothing and one warning line in `notes` lists them.
struct OnnxOptions {
  int64_t batch = 0;
  bool skip_unsupported = false;
  std::vector<std::string>* notes = nullptr;
};
Network read_onnx_network(const std::string& path, const OnnxOptions& opts = {});
// The same from the file's bytes; `source` names it in messages.
Network parse_onnx_network(std::string bytes, const std::string& source,
                           const OnnxOptions& opts = {});

// A workload by file name (.csv, .yaml, .yml or .onnx) or by built-in name (a file NAME.yaml in one
// of builtin_network_dirs(); names match case-insensitively). An unknown name throws InputError
// listing the built-in names.
Network load_workload(const std::string& name_or_path, const CsvOptions& csv = {},
                      const OnnxOptions& onnx = {});

// Where built-in networks are looked up, in order: $SSIM_NETWORKS_DIR if set, `networks/` next
// to the running executable, and the source tree's workloads/networks/. Only existing folders.
std::vector<std::string> builtin_network_dirs();
// The built-in network names (file stems, sorted, without duplicates).
std::vector<std::string> builtin_network_names();

}  // namespace ssim
