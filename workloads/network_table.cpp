#include "workloads/network_table.hpp"

#include <cstring>
#include <type_traits>

#include "workloads/read_util.hpp"

namespace ssim {
namespace {

// Every field of a layer's parameters, in one order for the table and its reader.
template <class F>
void table_fields(Conv2dLayer& p, F f) {
  f(p.in_h), f(p.in_w), f(p.in_c), f(p.filters), f(p.kernel_h), f(p.kernel_w), f(p.stride_h);
  f(p.stride_w), f(p.pad_h), f(p.pad_w), f(p.dilation_h), f(p.dilation_w), f(p.groups);
  f(p.bias), f(p.activation);
}
template <class F>
void table_fields(LinearLayer& p, F f) {
  f(p.tokens), f(p.in), f(p.out), f(p.bias), f(p.activation);
}
template <class F>
void table_fields(AttentionLayer& p, F f) {
  f(p.seq), f(p.kv), f(p.d_model), f(p.heads), f(p.d_head), f(p.causal), f(p.cross), f(p.bias);
  f(p.projections);
}
template <class F>
void table_fields(ElementwiseLayer& p, F f) {
  f(p.op), f(p.elements), f(p.row);
}
template <class F>
void table_fields(PoolLayer& p, F f) {
  f(p.op), f(p.in_h), f(p.in_w), f(p.channels), f(p.kernel_h), f(p.kernel_w), f(p.stride_h);
  f(p.stride_w), f(p.pad_h), f(p.pad_w);
}
template <class F>
void table_fields(SoftmaxLayer& p, F f) {
  f(p.rows), f(p.length);
}
template <class F>
void table_fields(GemmLayer& p, F f) {
  f(p.M), f(p.N), f(p.K), f(p.b_weight);
}

}  // namespace

__attribute__((weak)) size_t embedded_network_count() {
  return 0;
}

__attribute__((weak)) EmbeddedNetwork embedded_network(size_t) {
  return {};
}

void network_table(const Network& net, std::vector<int64_t>& numbers,
                   std::vector<std::string>& strings) {
  for (const Layer& l : net.layers) {
    numbers.push_back(int64_t(l.type()));
    numbers.push_back(l.batch);
    numbers.push_back(int64_t(l.dtype));
    numbers.push_back(int64_t(l.from.size()));
    LayerParams params = l.params;
    std::visit(
        [&](auto& p) { table_fields(p, [&](auto& field) { numbers.push_back(int64_t(field)); }); },
        params);
    strings.push_back(l.name);
    for (const std::string& f : l.from) strings.push_back(f);
  }
}

Network network_from_table(const EmbeddedNetwork& e, const std::string& source) {
  Network net;
  net.source = source;
  net.name = e.name ? std::string(e.name) : detail::file_stem(source);
  net.batch = e.batch;
  net.dtype = DataType(e.dtype);
  net.layers.resize(e.layers);
  const int64_t* n = e.numbers;
  const char* s = e.strings;
  auto next = [&] {
    std::string t(s);
    s += t.size() + 1;
    return t;
  };
  for (Layer& l : net.layers) {
    const auto type = LayerType(*n++);
    l.batch = *n++;
    l.dtype = DataType(*n++);
    const int64_t from = *n++;
    switch (type) {  // (the alternative of that index, default-constructed)
      case LayerType::Conv2d:
        l.params = Conv2dLayer{};
        break;
      case LayerType::Linear:
        l.params = LinearLayer{};
        break;
      case LayerType::Attention:
        l.params = AttentionLayer{};
        break;
      case LayerType::Elementwise:
        l.params = ElementwiseLayer{};
        break;
      case LayerType::Pool:
        l.params = PoolLayer{};
        break;
      case LayerType::Softmax:
        l.params = SoftmaxLayer{};
        break;
      case LayerType::Gemm:
        l.params = GemmLayer{};
        break;
    }
    std::visit(
        [&](auto& p) {
          table_fields(
              p, [&](auto& field) { field = std::remove_reference_t<decltype(field)>(*n++); });
        },
        l.params);
    l.name = next();
    for (int64_t i = 0; i < from; ++i) l.from.push_back(next());
  }
  return net;
}

std::optional<EmbeddedNetwork> find_embedded_network(const std::string& text) {
  for (size_t i = 0, n = embedded_network_count(); i < n; ++i) {
    const EmbeddedNetwork e = embedded_network(i);
    if (e.text_size == text.size() && std::memcmp(e.text, text.data(), text.size()) == 0) return e;
  }
  return std::nullopt;
}

}  // namespace ssim
