// Internal to the ONNX reader (workloads/onnx_reader.cpp lowers, workloads/onnx_shapes.cpp
// resolves the shapes): the model with its resolved shapes and small helpers over ONNX protos.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ssim::onnx_detail {

// Integer tensors up to this many elements are evaluated (shape arithmetic).
constexpr int64_t kMaxEvalElements = 4096;
// Tensor sizes beyond these are not taken as static shapes (element counts would overflow); the
// layers check their own limits (layer_problem).
constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxElements = int64_t(1) << 53;

// A model's bytes without the raw_data of the initializers the reader drops after parsing (more
// than kMaxEvalElements elements), by a scan of the protobuf wire format, so that a model near
// 2 GiB is not held twice while it is parsed; "" when there is nothing to leave out or the bytes
// are not a protobuf the scan reads (onnx_reader.cpp).
std::string without_large_weights(const std::string& bytes);

// Throws InputError "SOURCE: WHAT" (both made printable).
[[noreturn]] void fail(const std::string& source, const std::string& what);
bool is_float(int32_t onnx_type);  // FLOAT, DOUBLE, FLOAT16, BFLOAT16

// A small tensor's value (shape arithmetic), as doubles.
struct Value {
  std::vector<int64_t> dims;
  std::vector<double> data;
  int32_t type = onnx::TensorProto::INT64;
  int64_t numel() const { return int64_t(data.size()); }
};

// Doubles to int64, with +-2^63 (Slice's INT64_MAX "to the end") clamped back.
int64_t to_i64(double x);

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name);
int64_t attr_int(const onnx::NodeProto& n, const char* name, int64_t dflt);
std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const char* name);
std::string attr_str(const onnx::NodeProto& n, const char* name);
int64_t numel(const std::vector<int64_t>& s);

// A two-operand Einsum equation with the operands' shapes: each label's size and the labels of
// A, B and the output ("..." becomes the labels '0', '1', ... of the trailing batch dims).
struct Einsum {
  std::string a, b, out;
  std::map<char, int64_t> size;
  std::vector<int64_t> out_shape() const {
    std::vector<int64_t> s;
    for (char c : out) s.push_back(size.at(c));
    return s;
  }
};
std::optional<Einsum> parse_einsum(const std::string& equation, const std::vector<int64_t>& sa,
                                   const std::vector<int64_t>& sb);

// The model and what shape resolution found: each tensor's static shape and element type, the
// constants (initializers, evaluated shape arithmetic) and the values of the small ones.
struct Graph {
  onnx::ModelProto model;
  std::string source;
  int opset = 0;
  std::map<std::string, std::vector<int64_t>> shape;  // tensors with a full static shape
  std::map<std::string, int32_t> type;                // element type, where known
  std::set<std::string> consts;                       // initializers (weights, resolved values)
  std::map<std::string, Value> values;                // small constant values
};

// A TensorProto's value (initializer or Constant), when small and of a type we read.
std::optional<Value> tensor_value(const onnx::TensorProto& t);

// Evaluates one node on known small values (onnx_eval.cpp); nullopt when it cannot (an op it does
// not know, an input without a value, a result too large).
std::optional<std::vector<Value>> evaluate(const onnx::NodeProto& n, int opset,
                                           const std::vector<const Value*>& in,
                                           const std::vector<const std::vector<int64_t>*>& shp);

// Names a node in messages: its name, or OpType_INDEX.
std::string node_label(const onnx::NodeProto& n, int index);

// Resolves the shapes (in a child process; a crash of ONNX's shape inference is an InputError).
// The evaluated nodes leave g.model's graph and their outputs become initializers.
void resolve_shapes_isolated(Graph& g);

}  // namespace ssim::onnx_detail
