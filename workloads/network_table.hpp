// The built-in networks precompiled (docs/workloads.md, "Built-in networks"): the build reads each
// file of workloads/networks/ once with the YAML reader and writes its Network as a table
// (workloads/embed/embed_networks.cpp, a build step), which the executable links; a network file
// whose text equals an embedded one's byte for byte is then built from its table instead of
// being parsed again (parse_yaml_network()). Any other text, an edited built-in file included,
// is parsed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workloads/layer.hpp"

namespace ssim {

// A network as a table: per layer its numbers (LayerType, batch, DataType, the count of `from`
// names, then its parameters' fields in table_fields() order) and its strings (its name, then
// its `from` names), each ended by a NUL.
struct EmbeddedNetwork {
  const char* text = nullptr;  // the file's text
  size_t text_size = 0;
  const char* name = nullptr;  // the network's name, nullptr: the file's stem (no `name:`)
  int64_t batch = 1;
  int64_t dtype = 0;
  size_t layers = 0;
  const int64_t* numbers = nullptr;
  const char* strings = nullptr;
};

// The networks this binary embeds (the generated tables, linked into the executable, the tests
// and the Python module, held as offsets: nothing for the loader to relocate); none in a binary
// without them (weak defaults).
size_t embedded_network_count();
EmbeddedNetwork embedded_network(size_t i);

// The table of a network (what the build step writes): appends its numbers and strings.
void network_table(const Network& net, std::vector<int64_t>& numbers,
                   std::vector<std::string>& strings);
// The network of a table, read from `source` (its name: the table's, or the file's stem).
Network network_from_table(const EmbeddedNetwork& e, const std::string& source);
// The embedded network whose text is `text`, if any.
std::optional<EmbeddedNetwork> find_embedded_network(const std::string& text);

}  // namespace ssim
