// SCALE-Sim topology CSV reader (conv form and GEMM form), read unchanged.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "models/types.hpp"
#include "workloads/read_util.hpp"
#include "workloads/readers.hpp"

namespace ssim {

namespace {

using detail::to_lower;
using detail::trim;
using detail::trim_unicode;

const char* const kConvHeader =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,";
const char* const kGemmHeader = "Layer, M, N, K,";

const char* const kConvColumns[] = {"Layer name",   "IFMAP Height", "IFMAP Width", "Filter Height",
                                    "Filter Width", "Channels",     "Num Filter",  "Strides"};
const char* const kGemmColumns[] = {"Layer", "M", "N", "K"};

// Calls f(field) for each comma-separated field of text[begin, end), trimmed (a view of text).
template <class F>
void for_each_field(const std::string& text, size_t begin, size_t end, F f) {
  const std::string_view t = text;
  for (size_t start = begin;;) {
    size_t comma = t.find(',', start);
    if (comma > end) comma = end;
    f(trim_unicode(t.substr(start, comma - start)));
    if (comma == end) break;
    start = comma + 1;
  }
}

// A row keeps its first fields as text (no topology column lies beyond them); the columns after
// them are ignored, as before, but not kept: a line of 60 M commas took 2 GB as strings.
constexpr size_t kKeptFields = 16;

struct Row {
  int line = 0;
  size_t begin = 0, end = 0;        // where it is in the text
  std::vector<std::string> fields;  // the first kKeptFields
  bool more = false;                // a non-empty field after them
  bool empty() const {
    for (const auto& s : fields)
      if (!s.empty()) return false;
    return !more;
  }
};

// Reads the row text[begin, end) into `r` (whose fields keep their memory from row to row).
void split_row(const std::string& text, size_t begin, size_t end, int line, Row& r) {
  r.line = line;
  r.begin = begin;
  r.end = end;
  r.fields.clear();
  r.more = false;
  for_each_field(text, begin, end, [&](std::string_view f) {
    if (r.fields.size() < kKeptFields)
      r.fields.emplace_back(f);
    else
      r.more = r.more || !f.empty();
  });
}

Network parse_csv(const std::string& text_in, const std::string& source, const CsvOptions& opts) {
  // Line ends: LF, CRLF or a lone CR (old Mac files), read as LF.
  std::string lf;
  if (text_in.find('\r') != std::string::npos) {
    lf.reserve(text_in.size());
    for (size_t i = 0; i < text_in.size(); ++i)
      if (text_in[i] != '\r')
        lf += text_in[i];
      else if (i + 1 >= text_in.size() || text_in[i + 1] != '\n')
        lf += '\n';
  }
  const std::string& text = lf.empty() ? text_in : lf;
  // Lines (LF or CRLF; a UTF-8 byte order mark is skipped) one at a time, skipping empty rows:
  // the rows are read as they are needed (all of a 64 MiB file's rows at once took gigabytes).
  size_t pos = 0;
  int line = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;
  auto next_row = [&](Row& row) {
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      ++line;
      split_row(text, pos, nl, line, row);
      pos = nl + 1;
      if (!row.empty()) return true;
    }
    return false;
  };
  const auto where = [&](int line) { return source + ":" + std::to_string(line) + ": "; };
  Row header;
  if (!next_row(header))
    throw InputError(where(1) + "empty topology file; expected a header '" + kConvHeader +
                     "' or '" + kGemmHeader + "' and one row per layer");

  // The header decides the form.
  std::vector<std::string> h;
  for (const auto& s : header.fields) h.push_back(to_lower(s));
  const bool gemm_form = h.size() >= 4 && h[1] == "m" && h[2] == "n" && h[3] == "k";
  const bool conv_form = h.size() >= 8 && h[1].rfind("ifmap", 0) == 0;
  if (!gemm_form && !conv_form) {
    if (header.fields.size() < 4 && header.fields[0].find('\t') != std::string::npos)
      throw InputError(where(header.line) +
                       "the fields are separated by tabs; a SCALE-Sim topology separates them "
                       "with commas: '" +
                       kConvHeader + "' or '" + kGemmHeader + "'");
    std::string got;
    for_each_field(text, header.begin, header.end, [&](std::string_view s) { (got += s) += ","; });
    while (got.size() > 1 && got[got.size() - 2] == ',') got.pop_back();
    throw InputError(where(header.line) + "unrecognised topology header '" + got + "'; expected '" +
                     kConvHeader + "' (conv form) or '" + kGemmHeader + "' (GEMM form)");
  }
  const size_t known = gemm_form ? 4 : 8;
  const char* const* columns = gemm_form ? kGemmColumns : kConvColumns;
  // SCALE-Sim's legacy reader takes a 9th conv column as the width stride.
  const bool stride_w_column =
      conv_form && h.size() > 8 && h[8].find("stride") != std::string::npos;

  Network net;
  std::vector<std::string> rounded;  // layers whose output size SCALE-Sim rounds up
  int64_t extra_macs = 0;
  std::vector<std::string> depthwise;  // layers read as depthwise ("DP" in the name)
  net.name = detail::file_stem(source);
  net.source = source;
  for (Row row; next_row(row);) {
    if (net.layers.size() == kMaxWorkloadOps)
      throw InputError(where(row.line) + workload_limit_text("layers"));
    const std::string& name = row.fields[0];
    if (name.empty())
      throw InputError(where(row.line) + "the layer has no name (first column '" + columns[0] +
                       "' is empty)");
    bool only_name = true;
    for (size_t i = 1; i < row.fields.size(); ++i) only_name = only_name && row.fields[i].empty();
    only_name = only_name && !row.more;
    if (only_name)
      throw InputError(where(row.line) + "the row holds only '" + name +
                       "' and no sizes: a title row (as in SCALE-Sim's MLPERF.csv)? Each row "
                       "after the header is one layer; remove it or split the file");
    if (const std::string why = detail::name_problem(name); !why.empty())
      throw InputError(where(row.line) + "layer name '" + name + "' " + why +
                       "; expected UTF-8 text without control characters");
    // "SRC:LINE: layer 'NAME': ", for messages.
    const auto at = [&] { return where(row.line) + "layer '" + name + "': "; };
    int64_t v[9] = {};
    for (size_t i = 1; i < known; ++i) {
      if (i >= row.fields.size() || row.fields[i].empty())
        throw InputError(at() + "missing field '" + columns[i] + "' (column " +
                         std::to_string(i + 1) + "); expected '" +
                         (gemm_form ? kGemmHeader : kConvHeader) + "'");
      const std::string& s = row.fields[i];
      if (!detail::parse_int64(s, v[i]))
        throw InputError(at() + "field '" + columns[i] + "' is '" + s +
                         "', expected a positive integer");
      if (v[i] <= 0)
        throw InputError(at() + "field '" + columns[i] + "' is " + s + ", must be positive");
    }
    int64_t stride_w = gemm_form ? 1 : v[7];
    if (stride_w_column && row.fields.size() > 8 && !row.fields[8].empty()) {
      const std::string& s = row.fields[8];
      if (!detail::parse_int64(s, stride_w) || stride_w <= 0)
        throw InputError(at() + "field '" + header.fields[8] + "' is '" + s +
                         "', expected a positive integer (the width stride)");
    }

    Layer layer;
    layer.name = name;
    if (gemm_form) {
      GemmLayer g;
      g.M = v[1];
      g.N = v[2];
      g.K = v[3];
      layer.params = g;
    } else {
      Conv2dLayer c;
      c.in_h = v[1];
      c.in_w = v[2];
      c.kernel_h = v[3];
      c.kernel_w = v[4];
      c.in_c = v[5];
      c.filters = v[6];
      c.stride_h = v[7];
      c.stride_w = stride_w;
      // SCALE-Sim's output size, ceil((H - F + S) / S), against floor((H - F) / S) + 1.
      // (Only for sizes the layer checks accept, at most 2^31 - 1, so nothing here overflows.)
      constexpr int64_t kMax = (int64_t(1) << 31) - 1;
      const bool sane = c.in_h <= kMax && c.in_w <= kMax && c.kernel_h <= kMax &&
                        c.kernel_w <= kMax && c.stride_h <= kMax && c.stride_w <= kMax &&
                        c.in_c <= kMax && c.filters <= kMax && c.stride_h > 0 && c.stride_w > 0;
      if (sane && c.kernel_h <= c.in_h && c.kernel_w <= c.in_w) {
        auto std_out = [](int64_t H, int64_t F, int64_t S) { return (H - F) / S + 1; };
        auto ss_out = [](int64_t H, int64_t F, int64_t S) { return (H - F + S + S - 1) / S; };
        const int64_t sh = std_out(c.in_h, c.kernel_h, c.stride_h);
        const int64_t sw = std_out(c.in_w, c.kernel_w, c.stride_w);
        const int64_t ch = ss_out(c.in_h, c.kernel_h, c.stride_h);
        const int64_t cw = ss_out(c.in_w, c.kernel_w, c.stride_w);
        if (ch * cw != sh * sw) {
          rounded.push_back(name);
          // In long double (exact to 2^64), saturated at 2^62 for the note.
          const long double more = ((long double)(ch)*cw - (long double)(sh)*sw) * c.kernel_h *
                                   c.kernel_w * c.in_c * c.filters;
          extra_macs = int64_t(std::min<long double>((long double)(extra_macs) + more, 0x1p62L));
          if (opts.scalesim_rounding) {
            c.in_h += (ch - sh) * c.stride_h;
            c.in_w += (cw - sw) * c.stride_w;
          }
        }
      }
      if (c.kernel_h > c.in_h)
        throw InputError(at() + "output height is not positive: Filter Height " +
                         std::to_string(c.kernel_h) + " is larger than IFMAP Height " +
                         std::to_string(c.in_h) + " (SCALE-Sim IFMAP sizes include padding)");
      if (c.kernel_w > c.in_w)
        throw InputError(at() + "output width is not positive: Filter Width " +
                         std::to_string(c.kernel_w) + " is larger than IFMAP Width " +
                         std::to_string(c.in_w) + " (SCALE-Sim IFMAP sizes include padding)");
      // SCALE-Sim reads a layer whose name contains "DP" as depthwise: one filter per channel
      // (Num Filter 1, or a channel multiplier when it is a multiple of Channels).
      if (name.find("DP") != std::string::npos) {
        if (c.filters != 1 && c.filters % c.in_c != 0)
          throw InputError(at() +
                           "a depthwise layer (its name contains 'DP', as SCALE-Sim reads it) " +
                           "needs Num Filter 1 or a multiple of Channels " +
                           std::to_string(c.in_c) + "; got " + std::to_string(c.filters));
        if (c.filters == 1) c.filters = c.in_c;
        c.groups = c.in_c;
        depthwise.push_back(name);
      }
      layer.params = c;
    }
    const std::string problem = layer_problem(layer);
    if (!problem.empty()) throw InputError(at() + problem);
    net.layers.push_back(std::move(layer));
  }
  if (net.layers.empty())
    throw InputError(where(header.line) + "the topology has a header but no layers");
  if (!depthwise.empty() && opts.notes) {
    std::string names;
    for (const std::string& n : depthwise) names += (names.empty() ? "" : ", ") + n;
    opts.notes->push_back("note: " + source + ": depthwise (the name contains 'DP', as in " +
                          "SCALE-Sim): " + names);
  }
  if (!rounded.empty() && opts.notes) {
    std::string names;
    for (const std::string& n : rounded) names += (names.empty() ? "" : ", ") + n;
    opts.notes->push_back("note: " + source + ": SCALE-Sim rounds the output size up for " + names +
                          " (" + std::to_string(extra_macs) + " MACs more in all); " +
                          (opts.scalesim_rounding ? "its sizes are used (--scalesim-rounding)"
                                                  : "--scalesim-rounding reproduces its sizes"));
  }
  return net;
}

}  // namespace

Network parse_scalesim_csv(const std::string& text, const std::string& source,
                           const CsvOptions& opts) {
  detail::check_text(text, source, "a SCALE-Sim topology .csv");
  try {
    return parse_csv(text, source, opts);
  } catch (const InputError& e) {
    // Names and fields are quoted from the file: messages show control characters and bytes
    // that are not UTF-8 as \xNN, so they stay one printable line.
    throw InputError(detail::printable(e.what()));
  }
}

Network read_scalesim_csv(const std::string& path, const CsvOptions& opts) {
  return parse_scalesim_csv(
      detail::read_workload_file(path, "topology file", "a SCALE-Sim topology .csv",
                                 detail::kMaxTopologyFileBytes),
      path, opts);
}

}  // namespace ssim
