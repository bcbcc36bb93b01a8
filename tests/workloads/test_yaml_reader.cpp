// Our YAML workload format and its YAML subset reader: good files and every class of malformed
// input (the message names file:line, the layer and what is wrong).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "sim/report/run_outputs.hpp"
#include "tests/workloads/wl_test_util.hpp"
#include "workloads/lower.hpp"
#include "workloads/readers.hpp"
#include "workloads/yaml_subset.hpp"

namespace ssim {
namespace {

using test::data_dir;
using test::expect_shape;
using test::throws_input_error;

// ---- YAML -------------------------------------------------------------------------------------

TEST(WorkloadYaml, AttentionCoreAndGemmOfActivations) {
  // The layer forms the ONNX reader makes: an attention core reading Q, K and V from three
  // layers, and a GEMM whose B is an activation.
  const Network net = parse_yaml_network(
      "layers:\n"
      "  - {name: q, type: linear, tokens: 8, in: 32, out: 32}\n"
      "  - {name: k, type: linear, tokens: 8, in: 32, out: 32}\n"
      "  - {name: v, type: linear, tokens: 8, in: 32, out: 32}\n"
      "  - {name: a, type: attention, seq: 8, d_model: 32, heads: 4, projections: false,\n"
      "     from: [q, k, v]}\n"
      "  - {name: bmm, type: gemm, M: 8, N: 8, K: 32, b_weight: false, from: [q, k]}\n",
      "core.yaml");
  ASSERT_EQ(net.layers.size(), 5u);
  EXPECT_FALSE(std::get<AttentionLayer>(net.layers[3].params).projections);
  EXPECT_EQ(net.layers[3].from, (std::vector<std::string>{"q", "k", "v"}));
  EXPECT_FALSE(std::get<GemmLayer>(net.layers[4].params).b_weight);
  // q, k, v: 3 * 8*32*32; core: 2 * 4 heads * 8*8*8; bmm: 8*8*32.
  EXPECT_EQ(total_macs(lower(net)), 3u * 8 * 32 * 32 + 2u * 4 * 8 * 8 * 8 + 8u * 8 * 32);
  // Three names only for attention.
  EXPECT_THROW(parse_yaml_network("layers:\n"
                                  "  - {name: q, type: linear, in: 4, out: 4}\n"
                                  "  - {name: r, type: elementwise, op: add, elements: 4,\n"
                                  "     from: [q, q, q]}\n",
                                  "bad.yaml"),
               InputError);
}

TEST(WorkloadYaml, EveryLayerType) {
  const Network net = read_yaml_network(data_dir() + "/all_layers.yaml");
  EXPECT_EQ(net.name, "all-layers");
  EXPECT_EQ(net.batch, 2);
  ASSERT_EQ(net.layers.size(), 10u);
  const auto& L = net.layers;

  const auto& stem = std::get<Conv2dLayer>(L[0].params);
  EXPECT_EQ(L[0].batch, 2);
  EXPECT_EQ(stem.kernel_h, 3);
  EXPECT_EQ(stem.kernel_w, 5);
  EXPECT_EQ(stem.stride_h, 2);
  EXPECT_EQ(stem.stride_w, 1);
  EXPECT_EQ(stem.pad_h, 1);
  EXPECT_EQ(stem.pad_w, 2);
  EXPECT_TRUE(stem.bias);
  EXPECT_EQ(stem.activation, Activation::Relu);
  // Ho = (32+2-3)/2+1 = 16, Wo = (30+4-5)/1+1 = 30, batch 2.
  expect_shape(L[0], 2 * 16 * 30, 16, 3 * 5 * 3);

  const auto& dw = std::get<Conv2dLayer>(L[1].params);
  EXPECT_EQ(dw.groups, 16);
  EXPECT_EQ(dw.dilation_h, 2);
  EXPECT_EQ(dw.activation, Activation::Relu6);
  expect_shape(L[1], 2 * 16 * 30, 1, 9);

  const auto& pool = std::get<PoolLayer>(L[2].params);
  EXPECT_EQ(pool.op, PoolOp::Max);
  EXPECT_EQ(pool.stride_h, 2);  // defaults to the kernel
  EXPECT_EQ(pool.out_h(), 8);
  EXPECT_EQ(pool.out_w(), 15);
  const auto& gap = std::get<PoolLayer>(L[3].params);
  EXPECT_EQ(gap.op, PoolOp::Avg);
  EXPECT_EQ(gap.out_h(), 1);
  EXPECT_EQ(gap.out_w(), 1);

  const auto& fc = std::get<LinearLayer>(L[4].params);
  EXPECT_EQ(L[4].batch, 1);
  EXPECT_EQ(L[4].dtype, DataType::Fp16);
  EXPECT_EQ(fc.tokens, 4);
  EXPECT_FALSE(fc.bias);
  EXPECT_EQ(fc.activation, Activation::Gelu);
  expect_shape(L[4], 4, 32, 16);

  const auto& at = std::get<AttentionLayer>(L[5].params);
  EXPECT_EQ(at.seq, 8);
  EXPECT_EQ(at.kv, 24);
  EXPECT_EQ(at.head_dim(), 16);
  EXPECT_TRUE(at.causal);
  EXPECT_FALSE(at.cross);
  EXPECT_TRUE(at.bias);
  expect_shape(L[5], 2 * 8, 64, 32);

  const auto& res = std::get<ElementwiseLayer>(L[6].params);
  EXPECT_EQ(res.op, ElementwiseOp::Add);
  EXPECT_EQ(res.elements, 128);
  EXPECT_EQ(std::get<ElementwiseLayer>(L[7].params).op, ElementwiseOp::LayerNorm);
  const auto& sm = std::get<SoftmaxLayer>(L[8].params);
  EXPECT_EQ(sm.rows, 4);
  EXPECT_EQ(sm.length, 24);
  const auto& mm = std::get<GemmLayer>(L[9].params);
  EXPECT_EQ(mm.M, 7);
  EXPECT_EQ(mm.N, 9);
  EXPECT_EQ(mm.K, 11);
  EXPECT_EQ(L[9].batch, 3);
  EXPECT_EQ(L[9].dtype, DataType::Int16);
  EXPECT_EQ(L[0].dtype, DataType::Int8);
}

// A one-layer network file around `layer` (a flow map), its layer on line 3.
std::function<void()> yaml_layer(const std::string& layer) {
  return [layer] { parse_yaml_network("name: t\nlayers:\n  - " + layer + "\n", "t.yaml"); };
}

// The subset reader's tree is yaml-cpp's: node types, scalar strings, sequence items, map keys
// in order.
::testing::AssertionResult same_tree(const detail::YamlLite& a, const YAML::Node& b,
                                     const std::string& at = "root") {
  using K = detail::YamlLite::Kind;
  const YAML::NodeType::value type = a.kind == K::Scalar     ? YAML::NodeType::Scalar
                                     : a.kind == K::Sequence ? YAML::NodeType::Sequence
                                                             : YAML::NodeType::Map;
  if (type != b.Type()) return ::testing::AssertionFailure() << at << ": node types differ";
  if (a.kind == K::Scalar && a.scalar != b.Scalar())
    return ::testing::AssertionFailure()
           << at << ": '" << a.scalar << "' vs '" << b.Scalar() << "'";
  const size_t size = a.kind == K::Map ? a.items.size() / 2 : a.items.size();
  if (size != b.size()) return ::testing::AssertionFailure() << at << ": sizes differ";
  if (a.kind == K::Sequence)
    for (size_t i = 0; i < size; ++i)
      if (auto r = same_tree(a.items[i], b[i], at + "[" + std::to_string(i) + "]"); !r) return r;
  if (a.kind == K::Map) {
    size_t i = 0;
    for (auto ib = b.begin(); ib != b.end(); ++ib, i += 2) {
      const std::string& key = a.items[i].scalar;
      if (a.items[i].kind != K::Scalar || key != ib->first.Scalar())
        return ::testing::AssertionFailure()
               << at << ": key '" << key << "' vs '" << ib->first.Scalar() << "'";
      if (auto r = same_tree(a.items[i + 1], ib->second, at + "." + key); !r) return r;
    }
  }
  return ::testing::AssertionSuccess();
}

// The built-in networks take the fast path (detail::read_yaml_subset) and it builds the tree
// yaml-cpp builds from the same text.
// The built-in networks' files and texts.
std::vector<std::pair<std::string, std::string>> builtin_network_texts() {
  std::vector<std::pair<std::string, std::string>> texts;
  for (const auto& e : std::filesystem::directory_iterator(SSIM_SOURCE_DIR "/workloads/networks")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    texts.emplace_back(e.path().string(), ss.str());
  }
  EXPECT_GE(texts.size(), 11u);
  return texts;
}

TEST(YamlSubset, BuiltInNetworksGiveYamlCppsTree) {
  for (const auto& [path, text] : builtin_network_texts()) {
    detail::YamlLite fast;
    ASSERT_TRUE(detail::read_yaml_subset(text, fast)) << path;
    EXPECT_TRUE(same_tree(fast, YAML::Load(text))) << path;
  }
}

// Hand-written texts inside the subset give yaml-cpp's tree; texts outside it are left to
// yaml-cpp (false), and a file in the subset with a bad value still names its line.
TEST(YamlSubset, OutsideTheSubsetYamlCppReads) {
  const std::string inside[] = {
      "layers:\n  - {name: a, type: linear, in: 3, out: 4}\n",
      "# c\n\nname: n-1.x\ndescription: \"a: b, [c] 'd' #e\"\nbatch: +2\nlayers:\n"
      "  - {name: a/b, type: conv2d, input: [8, 8, -3], kernel: 3, bias: true}\n"
      "  - {name: c, type: pool, op: max, input: [1, 2, 3]}\nz: 1\n",
      "layers:\n  - {x: [a]}\n  - {y: 1e3, z: .5}",
  };
  for (const std::string& t : inside) {
    detail::YamlLite fast;
    ASSERT_TRUE(detail::read_yaml_subset(t, fast)) << t;
    EXPECT_TRUE(same_tree(fast, YAML::Load(t))) << t;
  }
  std::string many_keys = "layers:\n  - {k0: 1";
  for (int i = 1; i <= 64; ++i) many_keys += ", k" + std::to_string(i) + ": 1";
  many_keys += "}\n";
  const std::string outside[] = {
      "",
      "name: n\n",                                // no layers
      "layers:\n",                                // null layers
      "layers:\n  - {a: 1, a: 2}\n",              // duplicate key
      "name: a\nname: b\nlayers:\n  - {a: 1}\n",  // duplicate top key
      "layers:\n  - {a: null}\n",                 // null
      "layers:\n  - {a: ~}\n",                    // null
      "layers:\n  - {a: }\n",                     // empty value
      "layers:\n  - {a: \"x\"}\n",                // quoted in a flow map
      "name: \"a\\tb\"\nlayers:\n  - {a: 1}\n",   // escape
      "layers:\n  - {a: {b: 1}}\n",               // nested map
      "layers:\n  - {a: [[1]]}\n",                // nested list
      "layers:\n  - {a: 1} # c\n",                // trailing comment
      "layers:\n\t- {a: 1}\n",                    // tab
      "layers:\r\n  - {a: 1}\r\n",                // CR
      "---\nlayers:\n  - {a: 1}\n",               // document marker
      "layers:\n- {a: 1}\n",                      // other indentation
      "layers:\n  - name: a\n",                   // block map
      "name: &x a\nlayers:\n  - {a: *x}\n",       // anchor and alias
      "  - {a: 1}\nlayers:\n  - {a: 1}\n",        // a layer before 'layers:'
      many_keys,                                  // more keys in a map than the reader scans
  };
  for (const std::string& t : outside) {
    detail::YamlLite fast;
    EXPECT_FALSE(detail::read_yaml_subset(t, fast)) << t;
  }
  // Read by the fast path first, the message comes from yaml-cpp's tree with its line numbers.
  EXPECT_TRUE(throws_input_error(
      [] {
        parse_yaml_network(
            "name: t\n\nlayers:\n  - {name: a, type: linear, in: 3, out: 4}\n"
            "  - {name: b, type: linear, in: 3, out: -4}\n",
            "t.yaml");
      },
      {"t.yaml:5:", "layer 'b'", "'out'"}));
}

// `text` with its 'layers:' line followed by a comment, which takes it out of the subset: read
// by yaml-cpp.
std::string outside_subset(std::string text) {
  const size_t at = text.find("\nlayers:\n");
  EXPECT_NE(at, std::string::npos);
  text.replace(at, 8, "\nlayers:  # read by yaml-cpp");
  detail::YamlLite lite;
  EXPECT_FALSE(detail::read_yaml_subset(text, lite));
  return text;
}

// What a network holds, as text: the network's and every layer's fields, and the lowered ops.
std::string network_text(const Network& n) {
  std::string s = n.name + "|" + std::to_string(n.batch) + "|" + to_string(n.dtype) + "\n";
  for (const Layer& l : n.layers) {
    s += l.name + "|" + to_string(l.type()) + "|" + std::to_string(l.batch) + "|" +
         to_string(l.dtype) + "|";
    for (const std::string& f : l.from) s += f + ",";
    if (const auto* c = std::get_if<Conv2dLayer>(&l.params))
      s += "|bias " + std::to_string(c->bias) + " " + to_string(c->activation);
    if (const auto* f = std::get_if<LinearLayer>(&l.params))
      s += "|bias " + std::to_string(f->bias) + " " + to_string(f->activation);
    if (const auto* a = std::get_if<AttentionLayer>(&l.params))
      s += "|" + std::to_string(a->causal) + std::to_string(a->cross) + std::to_string(a->bias) +
           std::to_string(a->projections);
    if (const auto* g = std::get_if<GemmLayer>(&l.params)) s += "|" + std::to_string(g->b_weight);
    s += "\n";
  }
  return s + workload_fingerprint(lower(n));
}

// The subset reader's tree goes through the same checks as yaml-cpp's: every built-in network
// reads to the same network either way, and so do booleans in every spelling yaml-cpp takes.
TEST(YamlSubset, FastPathReadsTheNetworkYamlCppReads) {
  for (const auto& [path, text] : builtin_network_texts()) {
    const std::string fast = network_text(parse_yaml_network(text, "n.yaml"));
    EXPECT_EQ(fast, network_text(parse_yaml_network(outside_subset(text), "n.yaml"))) << path;
  }
  // yaml.org/type/bool.html as yaml-cpp reads it: y, yes, true, on in lower case, upper case or
  // capitalised.
  const std::pair<const char*, bool> bools[] = {
      {"true", true}, {"True", true}, {"TRUE", true}, {"yes", true},    {"Yes", true},
      {"ON", true},   {"y", true},    {"Y", true},    {"false", false}, {"FALSE", false},
      {"no", false},  {"Off", false}, {"n", false},   {"N", false}};
  for (const auto& [word, value] : bools) {
    const std::string text =
        "name: t\nlayers:\n  - {name: a, type: linear, in: 3, out: 4, bias: " + std::string(word) +
        "}\n";
    EXPECT_EQ(std::get<LinearLayer>(parse_yaml_network(text, "t.yaml").layers[0].params).bias,
              value)
        << word;
    EXPECT_EQ(
        std::get<LinearLayer>(parse_yaml_network(outside_subset(text), "t.yaml").layers[0].params)
            .bias,
        value)
        << word;
  }
  for (const char* word : {"tRue", "1", "yES", "t"}) {
    const std::string text =
        "name: t\nlayers:\n  - {name: a, type: linear, in: 3, out: 4, bias: " + std::string(word) +
        "}\n";
    std::string fast, slow;
    try {
      parse_yaml_network(text, "t.yaml");
    } catch (const InputError& e) {
      fast = e.what();
    }
    try {
      parse_yaml_network(outside_subset(text), "t.yaml");
    } catch (const InputError& e) {
      slow = e.what();
    }
    EXPECT_EQ(fast,
              "t.yaml:3: layer 'a': 'bias' is '" + std::string(word) + "', expected true or false");
    EXPECT_EQ(fast, slow);
  }
}

TEST(WorkloadYaml, MergeKeysShareFieldsAsYamlDefinesThem) {
  // yaml.org/type/merge: `<<` takes the keys of a map (or a list of maps, the earlier winning)
  // that the map does not set itself.
  const Network n = parse_yaml_network(
      "name: t\n"
      "layers:\n"
      "  - &fc {name: a, type: linear, tokens: 4, in: 8, out: 16, activation: relu}\n"
      "  - {<<: *fc, name: b, in: 16}\n"
      "  - &x {name: c, type: linear, tokens: 2, in: 16, out: 3}\n"
      "  - {<<: [*x, *fc], name: d, in: 3}\n",
      "t.yaml");
  ASSERT_EQ(n.layers.size(), 4u);
  const auto& b = std::get<LinearLayer>(n.layers[1].params);
  EXPECT_EQ(n.layers[1].name, "b");
  EXPECT_EQ(b.tokens, 4);
  EXPECT_EQ(b.in, 16);   // its own key wins
  EXPECT_EQ(b.out, 16);  // merged
  EXPECT_EQ(b.activation, Activation::Relu);
  const auto& d = std::get<LinearLayer>(n.layers[3].params);
  EXPECT_EQ(d.tokens, 2);  // from *x, which comes first in the list
  EXPECT_EQ(d.out, 3);
  EXPECT_EQ(d.in, 3);
  EXPECT_EQ(d.activation, Activation::Relu);  // only *fc has it
  EXPECT_TRUE(
      throws_input_error(yaml_layer("{<<: 3, name: x, type: linear, in: 1, out: 1}"),
                         {"t.yaml:3:", "'<<' (a merge key) takes a map or a list of maps"}));
  EXPECT_TRUE(
      throws_input_error(yaml_layer("{<<: [1], name: x, type: linear, in: 1, out: 1}"),
                         {"t.yaml:3:", "'<<' (a merge key) takes a map or a list of maps"}));
}

TEST(WorkloadYaml, ALeadingCommaIsAnErrorNotAHang) {
  // yaml-cpp 0.7's LoadAll loops for ever on these (found by the fuzzer; jbeder/yaml-cpp#1040).
  EXPECT_TRUE(throws_input_error([] { parse_yaml_network(",a: b\n", "t.yaml"); },
                                 {"t.yaml:1: YAML syntax error: a ',' outside a [list] or {map}"}));
  EXPECT_TRUE(throws_input_error(
      [] { parse_yaml_network("name: t\nlayers:\n  - {name: a}\n  ,\n", "t.yaml"); },
      {"t.yaml:", "YAML syntax error"}));
}

TEST(WorkloadYaml, MalformedLayers) {
  // Unknown layer type.
  EXPECT_TRUE(
      throws_input_error(yaml_layer("{name: x, type: conv3d, input: [1, 1, 1]}"),
                         {"t.yaml:3:", "layer 'x'", "unknown layer type 'conv3d'", "conv2d"}));
  // Missing fields.
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: c, type: conv2d, input: [8, 8, 3], kernel: 3}"),
                                 {"t.yaml:3:", "layer 'c'", "missing field 'filters'"}));
  EXPECT_TRUE(throws_input_error(yaml_layer("{type: linear, in: 3, out: 4}"),
                                 {"t.yaml:3:", "missing field 'name'"}));
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: e, type: elementwise, op: add}"),
                                 {"t.yaml:3:", "layer 'e'", "missing field 'elements'"}));
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: g, type: gemm, M: 1, K: 2}"),
                                 {"layer 'g'", "missing field 'N'"}));
  // Non-numeric, negative, zero.
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: f, type: linear, in: many, out: 4}"),
                                 {"t.yaml:3:", "layer 'f'", "'in' is 'many'"}));
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: f, type: linear, in: 2.5, out: 4}"),
                                 {"layer 'f'", "'in' is '2.5'"}));
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: f, type: linear, in: 3, out: -4}"),
                                 {"t.yaml:3:", "layer 'f'", "'out' is -4", "positive"}));
  EXPECT_TRUE(throws_input_error(
      yaml_layer("{name: c, type: conv2d, input: [8, 0, 3], filters: 4, kernel: 3}"),
      {"layer 'c'", "input[1] (width)' is 0"}));
  EXPECT_TRUE(throws_input_error(
      yaml_layer("{name: c, type: conv2d, input: [8, 8, 3], filters: 4, kernel: 3, padding: -1}"),
      {"layer 'c'", "'padding' is -1", "0 or more"}));
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: s, type: softmax, rows: 0, length: 4}"),
                                 {"layer 's'", "'rows' is 0"}));
  // Output size not positive; groups that do not divide; heads that do not divide.
  EXPECT_TRUE(throws_input_error(
      yaml_layer("{name: c, type: conv2d, input: [4, 4, 3], filters: 4, kernel: 7}"),
      {"t.yaml:3:", "layer 'c'", "output height is not positive"}));
  EXPECT_TRUE(throws_input_error(
      yaml_layer("{name: p, type: pool, op: max, input: [4, 4, 3], kernel: [2, 5]}"),
      {"layer 'p'", "output width is not positive"}));
  EXPECT_TRUE(throws_input_error(
      yaml_layer("{name: c, type: conv2d, input: [8, 8, 6], filters: 4, kernel: 3, groups: 4}"),
      {"layer 'c'", "groups 4 does not divide in_c 6"}));
  EXPECT_TRUE(
      throws_input_error(yaml_layer("{name: a, type: attention, seq: 4, d_model: 10, heads: 3}"),
                         {"layer 'a'", "heads 3 does not divide d_model 10"}));
  // Wrong shapes of values, unknown keys and enum values.
  EXPECT_TRUE(throws_input_error(
      yaml_layer("{name: c, type: conv2d, input: [8, 8], filters: 4, kernel: 3}"),
      {"layer 'c'", "'input' must be a list [height, width, channels]"}));
  EXPECT_TRUE(throws_input_error(
      yaml_layer("{name: c, type: conv2d, input: [8, 8, 3], filters: 4, kernel: 3, strides: 2}"),
      {"t.yaml:3:", "layer 'c'", "unknown key 'strides'", "stride"}));
  EXPECT_TRUE(
      throws_input_error(yaml_layer("{name: f, type: linear, in: 3, out: 4, activation: swish}"),
                         {"layer 'f'", "unknown activation 'swish'", "gelu"}));
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: f, type: linear, in: 3, out: 4, bias: maybe}"),
                                 {"layer 'f'", "'bias' is 'maybe'", "true or false"}));
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: f, type: linear, in: 3, out: 4, dtype: int4}"),
                                 {"layer 'f'", "unknown data type 'int4'", "int8"}));
  EXPECT_TRUE(throws_input_error(
      yaml_layer("{name: e, type: elementwise, op: add, elements: 4, shape: [2, 2]}"),
      {"layer 'e'", "either 'elements' or 'shape'"}));
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: f, type: linear, in: 3, in: 4, out: 1}"),
                                 {"t.yaml:3:", "duplicate key 'in'"}));
}

TEST(WorkloadYaml, MalformedFiles) {
  // The line of a layer further down the file.
  EXPECT_TRUE(throws_input_error(
      [] {
        parse_yaml_network(
            "name: t\nlayers:\n  - {name: a, type: gemm, M: 1, N: 2, K: 3}\n"
            "  - name: b\n    type: gemm\n    M: 1\n    N: zero\n    K: 3\n",
            "t.yaml");
      },
      {"t.yaml:7:", "layer 'b'", "'N' is 'zero'"}));
  EXPECT_TRUE(throws_input_error(
      [] { parse_yaml_network("name: t\nlayers:\n  - {name: a, type: gemm, M: 1\n", "t.yaml"); },
      {"t.yaml:", "YAML syntax error"}));
  EXPECT_TRUE(throws_input_error([] { parse_yaml_network("- 1\n- 2\n", "t.yaml"); },
                                 {"t.yaml:1:", "'layers'"}));
  EXPECT_TRUE(throws_input_error([] { parse_yaml_network("name: t\n", "t.yaml"); },
                                 {"t.yaml:1:", "missing field 'layers'"}));
  EXPECT_TRUE(throws_input_error([] { parse_yaml_network("name: t\nlayers: []\n", "t.yaml"); },
                                 {"t.yaml:2:", "non-empty list"}));
  EXPECT_TRUE(throws_input_error(
      [] {
        parse_yaml_network("name: t\nbatch: 0\nlayers:\n  - {name: a, type: gemm}\n", "t.yaml");
      },
      {"t.yaml:2:", "'batch' is 0"}));
  EXPECT_TRUE(
      throws_input_error([] { parse_yaml_network("name: t\nlayer:\n  - {name: a}\n", "t.yaml"); },
                         {"t.yaml:", "missing field 'layers'"}));
  EXPECT_TRUE(throws_input_error(
      [] { parse_yaml_network("name: t\nlayers:\n  - just a string\n", "t.yaml"); },
      {"t.yaml:3:", "must be a map"}));
  EXPECT_TRUE(throws_input_error([] { read_yaml_network("/nonexistent/n.yaml"); },
                                 {"cannot open", "/nonexistent/n.yaml"}));
}

TEST(WorkloadYaml, DefaultsAndNetworkBatch) {
  const Network net = parse_yaml_network(
      "batch: 8\ndtype: bf16\nlayers:\n"
      "  - {name: a, type: attention, seq: 16, d_model: 64, heads: 4}\n"
      "  - {name: p, type: pool, op: avg, input: [4, 4, 2], kernel: 2}\n",
      "dir/my-net.yaml");
  EXPECT_EQ(net.name, "my-net");  // the file stem when the file has no name
  EXPECT_EQ(net.source, "dir/my-net.yaml");
  const auto& a = std::get<AttentionLayer>(net.layers[0].params);
  EXPECT_EQ(net.layers[0].batch, 8);
  EXPECT_EQ(net.layers[0].dtype, DataType::Bf16);
  EXPECT_EQ(a.kv_len(), 16);
  EXPECT_EQ(a.head_dim(), 16);
  EXPECT_FALSE(a.causal);
  EXPECT_FALSE(a.bias);
  const auto& p = std::get<PoolLayer>(net.layers[1].params);
  EXPECT_EQ(p.stride_h, 2);
  EXPECT_EQ(p.out_h(), 2);
}

TEST(WorkloadYaml, FromNamesTheLayersALayerReads) {
  const Network net = parse_yaml_network(
      "layers:\n"
      "  - {name: a, type: linear, in: 4, out: 4}\n"
      "  - {name: b, type: linear, in: 4, out: 4}\n"
      "  - {name: s, type: elementwise, op: add, elements: 4, from: [a, b]}\n"
      "  - {name: t, type: elementwise, op: relu, elements: 4, from: a}\n",
      "f.yaml");
  EXPECT_TRUE(net.layers[1].from.empty());  // the layer before it
  EXPECT_EQ(net.layers[2].from, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(net.layers[3].from, (std::vector<std::string>{"a"}));
  // Only earlier layers, one or two of them.
  EXPECT_TRUE(throws_input_error(yaml_layer("{name: x, type: linear, in: 4, out: 4, from: x}"),
                                 {"t.yaml:3:", "no earlier layer is named 'x'"}));
  EXPECT_TRUE(
      throws_input_error(yaml_layer("{name: x, type: linear, in: 4, out: 4, from: [a, b, c]}"),
                         {"t.yaml:3:", "'from' names one or two earlier layers"}));
}

}  // namespace
}  // namespace ssim
