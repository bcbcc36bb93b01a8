// The built-in networks precompiled (workloads/network_table.hpp): every file of
// workloads/networks/ is embedded, and its table builds the network the YAML reader reads from the
// same file, field for field (compared here by hand, not through the table's own field list); a
// text that differs is parsed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "workloads/network_table.hpp"
#include "workloads/readers.hpp"
#include "workloads/yaml_subset.hpp"

namespace ssim {
namespace {

auto fields(const Conv2dLayer& p) {
  return std::tie(p.in_h, p.in_w, p.in_c, p.filters, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
                  p.pad_h, p.pad_w, p.dilation_h, p.dilation_w, p.groups, p.bias, p.activation);
}
auto fields(const LinearLayer& p) {
  return std::tie(p.tokens, p.in, p.out, p.bias, p.activation);
}
auto fields(const AttentionLayer& p) {
  return std::tie(p.seq, p.kv, p.d_model, p.heads, p.d_head, p.causal, p.cross, p.bias,
                  p.projections);
}
auto fields(const ElementwiseLayer& p) {
  return std::tie(p.op, p.elements, p.row);
}
auto fields(const PoolLayer& p) {
  return std::tie(p.op, p.in_h, p.in_w, p.channels, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
                  p.pad_h, p.pad_w);
}
auto fields(const SoftmaxLayer& p) {
  return std::tie(p.rows, p.length);
}
auto fields(const GemmLayer& p) {
  return std::tie(p.M, p.N, p.K, p.b_weight);
}

void expect_same(const Network& a, const Network& b, const std::string& what) {
  EXPECT_EQ(a.name, b.name) << what;
  EXPECT_EQ(a.source, b.source) << what;
  EXPECT_EQ(a.batch, b.batch) << what;
  EXPECT_EQ(a.dtype, b.dtype) << what;
  ASSERT_EQ(a.layers.size(), b.layers.size()) << what;
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const Layer &x = a.layers[i], &y = b.layers[i];
    SCOPED_TRACE(what + " layer " + std::to_string(i) + " " + x.name);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.batch, y.batch);
    EXPECT_EQ(x.dtype, y.dtype);
    EXPECT_EQ(x.from, y.from);
    ASSERT_EQ(x.params.index(), y.params.index());
    std::visit(
        [&](const auto& p) {
          using P = std::decay_t<decltype(p)>;
          EXPECT_TRUE(fields(p) == fields(std::get<P>(y.params)));
        },
        x.params);
  }
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(NetworkTable, EveryBuiltInNetworkIsEmbeddedAndBuildsTheParsedNetwork) {
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(SSIM_SOURCE_DIR "/workloads/networks")) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    const std::string path = e.path().string(), text = read(e.path());
    const std::optional<EmbeddedNetwork> table = find_embedded_network(text);
    ASSERT_TRUE(table) << path;
    // The same text with a comment line after it: not embedded, so parsed (by the subset reader,
    // as a run reads a built-in file without tables).
    const std::string edited = text + "# edited\n";
    EXPECT_FALSE(find_embedded_network(edited)) << path;
    detail::YamlFlat tree;
    EXPECT_TRUE(detail::read_yaml_subset(edited, tree)) << path;
    const Network parsed = parse_yaml_network(edited, path);
    expect_same(network_from_table(*table, path), parsed, path);
    expect_same(parse_yaml_network(text, path), parsed, path);  // (through the table)
    expect_same(read_yaml_network(path), parsed, path);
  }
  EXPECT_EQ(embedded_network_count(), files);
  EXPECT_GE(files, 11u);
}

// A table without a name takes the file's stem, as a file without `name:` does; an edited number
// is read from the text, not the table.
TEST(NetworkTable, NameFromTheFileAndEditedTextsAreParsed) {
  const std::string text = "layers:\n  - {name: a, type: linear, in: 3, out: 4}\n";
  const Network parsed = parse_yaml_network(text, "dir/first.yaml");
  EXPECT_EQ(parsed.name, "first");
  std::vector<int64_t> numbers;
  std::vector<std::string> strings;
  network_table(parsed, numbers, strings);
  std::string blob;
  for (const std::string& s : strings) blob += s + '\0';
  EmbeddedNetwork e;
  e.text = text.data();
  e.text_size = text.size();
  e.layers = parsed.layers.size();
  e.numbers = numbers.data();
  e.strings = blob.data();
  Network other = parsed;
  other.source = "elsewhere/second.yaml";
  other.name = "second";
  expect_same(network_from_table(e, "elsewhere/second.yaml"), other, "stem");

  const std::string mlp = read(SSIM_SOURCE_DIR "/workloads/networks/mlp.yaml");
  ASSERT_TRUE(find_embedded_network(mlp));
  std::string edited = mlp;
  const size_t n = edited.find("out: 1024");
  ASSERT_NE(n, std::string::npos);
  edited.replace(n, 9, "out: 1025");
  EXPECT_EQ(std::get<LinearLayer>(parse_yaml_network(mlp, "mlp.yaml").layers[0].params).out, 1024);
  EXPECT_EQ(std::get<LinearLayer>(parse_yaml_network(edited, "mlp.yaml").layers[0].params).out,
            1025);
}

}  // namespace
}  // namespace ssim
