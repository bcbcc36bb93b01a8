// Reading SCALE-Sim .cfg files (plus our [systolic_sim] section) into a HwSpec: the line scanner,
// then Boost.Program_options' ini parser over the normalised text (the why: config.cpp's head).
#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "sim/spec/cfg_keys.hpp"
#include "workloads/read_util.hpp"

namespace ssim {

using namespace cfg_detail;

namespace {

namespace po = boost::program_options;

const char* const kSections[] = {"general", "architecture_presets", "run_presets", "systolic_sim"};

// SCALE-Sim v3's additions that we read but do not model.
bool is_v3_section(const std::string& s) {
  return s == "layout" || s == "sparsity";
}
bool is_v3_key(const std::string& section, const std::string& key) {
  const std::string k = lower(key);
  return section == "architecture_presets" &&
         (k == "readrequestbuffer" || k == "writerequestbuffer" || k == "onchipmemorybanks");
}

const KeySpec* find_key(const std::string& section, const std::string& key) {
  for (const KeySpec& k : key_specs()) {
    if (section == k.section && key == k.key) return &k;
  }
  return nullptr;
}

[[noreturn]] void fail_at(const std::string& source, int line, const std::string& what) {
  throw InputError(source + ":" + std::to_string(line) + ": " + what);
}

// Their values are counts: a value that is not one is an error, as SCALE-Sim's int() makes it.
void check_v3_value(const std::string& source, int line, const std::string& key,
                    const std::string& value) {
  try {
    (void)parse_int(value, 0, int64_t(1) << 40);
  } catch (const BadValue& bad) {
    fail_at(source, line,
            "key '" + key + "' value '" + quote_for_message(value) + "': " + bad.allowed);
  }
}

}  // namespace

HwSpec parse_cfg_text(const std::string& text_in, const std::string& source, HwSpec base,
                      CfgExtras* extras) {
  // Line ends as configparser reads them: LF, CRLF or a lone CR.
  std::string text;
  text.reserve(text_in.size());
  for (size_t i = 0; i < text_in.size(); ++i) {
    if (text_in[i] != '\r') {
      text += text_in[i];
    } else if (i + 1 >= text_in.size() || text_in[i + 1] != '\n') {
      text += '\n';
    }
  }
  // Binary or empty input is reported before anything else (the workload readers' check).
  detail::check_text(text, source, "a SCALE-Sim .cfg file");
  if (trim(text).empty()) {
    throw InputError(source +
                     ": empty file; expected a SCALE-Sim .cfg file with [general], "
                     "[architecture_presets], [run_presets] or [systolic_sim] sections");
  }

  // Pass 1: normalise to what Boost's ini parser takes, and check the structure.
  std::istringstream in(text);
  std::ostringstream normal;
  std::map<std::string, int> key_line;      // "section.Key" -> line
  std::map<std::string, int> section_line;  // "section" -> line of its header
  std::string section;
  std::string raw;
  int line_no = 0;
  // The key line being read (written out once its continuation lines are in).
  struct Pending {
    const KeySpec* spec = nullptr;
    std::string ignored;  // a SCALE-Sim v3 key we do not model: "[section] Key"
    std::string value;
    int line = 0;
  } pending;
  std::vector<std::string> ignored;  // in file order, for the note
  std::string bandwidth_list;        // "10,20" when Bandwidth was a list
  auto flush = [&]() {
    if (pending.spec) {
      std::string v = pending.value;
      if (std::string(pending.spec->key) == "Bandwidth" && v.find(',') != std::string::npos) {
        bandwidth_list = v;
        v = trim(v.substr(0, v.find(',')));
      }
      normal << pending.spec->key << '=' << v << '\n';
    } else if (!pending.ignored.empty()) {
      if (pending.value.empty())
        fail_at(source, pending.line,
                "key '" + pending.ignored + "' has no value: SCALE-Sim v3 expects one");
      ignored.push_back(pending.ignored);
    }
    pending = Pending{};
  };
  while (std::getline(in, raw)) {
    ++line_no;
    if (line_no == 1 && raw.compare(0, 3, "\xEF\xBB\xBF") == 0) raw.erase(0, 3);  // UTF-8 BOM
    const std::string t = trim(raw);
    const bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    if (indented && !t.empty() && t[0] != '#' && t[0] != ';' &&
        (pending.spec || !pending.ignored.empty())) {
      // configparser: an indented line continues the value of the key above it.
      pending.value += (pending.value.empty() ? "" : " ") + t;
      normal << '\n';
      continue;
    }
    flush();
    if (t.empty() || t[0] == '#' || t[0] == ';') {
      normal << '\n';
      continue;
    }
    if (t[0] == '[') {
      // `[name]`, optionally followed by a comment (configparser ignores what follows the `]`).
      const auto close = t.rfind(']');
      const std::string after = close == std::string::npos ? "" : trim(t.substr(close + 1));
      if (close == std::string::npos || !(after.empty() || after[0] == '#' || after[0] == ';')) {
        fail_at(source, line_no,
                "malformed section header '" + quote_for_message(t) + "': expected [section]");
      }
      const std::string name = lower(trim(t.substr(1, close - 1)));
      bool known = name == "network_presets" || is_v3_section(name);
      for (const char* s : kSections) known = known || name == s;
      if (!known) {
        fail_at(source, line_no,
                "unknown section '" + quote_for_message(t.substr(0, close + 1)) +
                    "': expected [general], [architecture_presets], [run_presets], "
                    "[network_presets] or [systolic_sim] (or SCALE-Sim v3's [layout], "
                    "[sparsity])");
      }
      if (section_line.count(name)) {
        fail_at(source, line_no,
                "duplicate section [" + name + "] (first at line " +
                    std::to_string(section_line[name]) + ")");
      }
      section_line[name] = line_no;
      section = name;
      normal << '[' << name << "]\n";
      continue;
    }
    // `Key = value` or `Key: value`; like configparser, the first of '=' and ':' separates.
    const auto sep = t.find_first_of("=:");
    if (sep == std::string::npos || sep == 0) {
      fail_at(source, line_no,
              "expected 'Key = value', 'Key: value' or '[section]', got '" + quote_for_message(t) +
                  "'");
    }
    const std::string key = trim(t.substr(0, sep));
    const std::string value = trim(t.substr(sep + 1));
    if (section.empty()) {
      fail_at(source, line_no,
              "key '" + quote_for_message(key) +
                  "' before any section header: put it under [general], "
                  "[architecture_presets], [run_presets] or [systolic_sim]");
    }
    if (section == "network_presets") {
      if (lower(key) != "topologycsvloc")
        fail_at(source, line_no,
                "unknown key '" + quote_for_message(key) +
                    "' in section [network_presets]: expected TopologyCsvLoc");
      if (value.empty()) fail_at(source, line_no, "key 'TopologyCsvLoc' has no value");
      if (extras) {
        namespace fs = std::filesystem;
        const fs::path p(value);
        const fs::path dir = fs::path(source).parent_path();
        extras->topology =
            p.is_absolute() || dir.empty() || fs::exists(p) ? value : (dir / p).string();
      }
      normal << '\n';
      continue;
    }
    if (is_v3_section(section) || is_v3_key(section, key)) {
      // SCALE-Sim v3: read, checked where we know its form, named in the note, not modelled.
      pending.ignored = (is_v3_section(section) ? "[" + section + "] " : "") + key;
      pending.value = value;
      pending.line = line_no;
      if (is_v3_key(section, key)) check_v3_value(source, line_no, key, value);
      normal << '\n';
      continue;
    }
    const KeySpec* spec = nullptr;
    const KeySpec* elsewhere = nullptr;
    for (const KeySpec& k : key_specs()) {
      if (lower(key) != lower(k.key)) continue;
      if (section == k.section)
        spec = &k;
      else
        elsewhere = &k;
    }
    if (!spec) {
      std::string msg = "unknown key '" + quote_for_message(key) + "' in section [" + section + "]";
      if (elsewhere) msg += " (it belongs in [" + std::string(elsewhere->section) + "])";
      fail_at(source, line_no, msg);
    }
    const std::string full = std::string(spec->section) + "." + spec->key;
    if (key_line.count(full)) {
      fail_at(source, line_no,
              "duplicate key '" + std::string(spec->key) + "' (first set at line " +
                  std::to_string(key_line[full]) + ")");
    }
    key_line[full] = line_no;
    pending.spec = spec;
    pending.value = value;
    pending.line = line_no;
  }
  flush();
  if (extras && !ignored.empty()) {
    std::string n = "note: " + source + ": SCALE-Sim v3 settings not modelled, ignored: ";
    for (size_t i = 0; i < ignored.size(); ++i) n += (i ? ", " : "") + ignored[i];
    extras->notes.push_back(n);
  }
  if (extras && !bandwidth_list.empty()) {
    extras->notes.push_back("note: " + source + ": Bandwidth " + bandwidth_list +
                            ": a list; the first value is used, as in SCALE-Sim");
  }
  if (key_line.empty() && ignored.empty() && (!extras || extras->topology.empty())) {
    throw InputError(source +
                     ": no settings found; expected 'Key = value' or 'Key: value' lines under "
                     "[general], [architecture_presets], [run_presets] or [systolic_sim]");
  }

  // Pass 2: Boost parses the normalised text; each value is validated with its line.
  po::options_description desc;
  for (const KeySpec& k : key_specs()) {
    desc.add_options()((std::string(k.section) + "." + k.key).c_str(), po::value<std::string>());
  }
  po::parsed_options parsed(&desc);
  try {
    std::istringstream normal_in(normal.str());
    parsed = po::parse_config_file(normal_in, desc, /*allow_unregistered=*/false);
  } catch (const po::error& e) {
    throw InputError(source + ": " + e.what());  // not expected after the checks above
  }
  for (const po::option& opt : parsed.options) {
    const auto dot = opt.string_key.find('.');
    const KeySpec* spec = find_key(opt.string_key.substr(0, dot), opt.string_key.substr(dot + 1));
    if (!spec) throw InputError(source + ": unknown key '" + opt.string_key + "'");
    const std::string value = opt.value.empty() ? std::string() : trim(opt.value.front());
    try {
      spec->set(base, value);
    } catch (const BadValue& bad) {
      fail_at(source, key_line[opt.string_key],
              "key '" + std::string(spec->key) + "' value '" + quote_for_message(value) +
                  "': " + bad.allowed);
    }
  }
  return base;
}

HwSpec parse_cfg_file(const std::string& path, HwSpec base, CfgExtras* extras) {
  constexpr std::uintmax_t kMaxBytes = 1 << 20;
  std::string text;
  try {
    text = detail::read_input_file(path, kMaxBytes);
  } catch (const detail::InputFileError& e) {
    if (e.kind != detail::InputFileError::TooLarge)
      throw InputError(path + ": cannot read config file: " + e.reason);
    detail::check_text(e.head, path, "a SCALE-Sim .cfg file");  // /dev/urandom: binary
    if (e.size > 0)
      throw InputError(path + ": config file too large (" + std::to_string(e.size) +
                       " bytes; at most 1 MiB)");
    throw InputError(path + ": config file too large (more than 1 MiB)");
  }
  return parse_cfg_text(text, path, std::move(base), extras);
}

}  // namespace ssim
