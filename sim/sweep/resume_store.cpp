#include "sim/sweep/resume_store.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/cli/cli.hpp"
#include "sim/cli/out_folder.hpp"
#include "sim/report/report_table.hpp"
#include "sim/sweep/sweep_params.hpp"

namespace ssim {

using namespace sweep_detail;

namespace {

namespace fs = std::filesystem;

// The first difference between two sweep descriptions, for the refusal message.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b) {
  if (!a.is_object() || !b.is_object()) return "";
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!b.contains(it.key())) return it.key();
    if (b[it.key()] != it.value()) {
      if (it.key() == "axes" && it.value().is_array() && b[it.key()].is_array()) {
        std::map<std::string, nlohmann::json> x, y;
        for (const auto& e : it.value()) x[e.value("flag", "")] = e;
        for (const auto& e : b[it.key()]) y[e.value("flag", "")] = e;
        for (const auto& [k, v] : x) {
          if (!y.count(k) || y[k] != v) return "--" + k;
        }
        for (const auto& [k, v] : y) {
          if (!x.count(k)) return "--" + k;
        }
        return "axes";
      }
      if (it.key() == "base_hardware") {
        const std::string sub = first_difference(it.value(), b[it.key()]);
        return "hardware" + (sub.empty() ? std::string() : " " + sub);
      }
      if (it.value().is_object()) {
        for (auto jt = it.value().begin(); jt != it.value().end(); ++jt) {
          if (!b[it.key()].contains(jt.key()) || b[it.key()][jt.key()] != jt.value()) {
            return jt.key();
          }
        }
      }
      return it.key();
    }
  }
  for (auto it = b.begin(); it != b.end(); ++it) {
    if (!a.contains(it.key())) return it.key();
  }
  return "";
}

std::vector<std::string> split_lines(const std::string& text, bool& complete_last) {
  std::vector<std::string> lines;
  size_t start = 0;
  complete_last = true;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      complete_last = false;  // a line without its '\n': cut off, not kept
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace

std::string slurp(const std::filesystem::path& p, bool& exists) {
  std::ifstream f(p, std::ios::binary);
  exists = bool(f);
  std::stringstream s;
  if (f) s << f.rdbuf();
  return s.str();
}

SweepRows read_sweep_rows(const SweepSpec& spec, const std::vector<SweepPoint>& points,
                          const std::string& dir, bool keep_errors) {
  SweepRows st;
  std::map<std::string, int> by_key;
  for (const SweepPoint& p : points) by_key[point_key(spec, p)] = p.index;
  const std::string header = csv_line(sweep_csv_columns());
  const std::string lheader = csv_line(sweep_layers_csv_columns());

  bool exists = false, complete = true;
  const std::string csv = slurp(fs::path(dir) / kCsvName, exists);
  if (!exists) return st;
  std::vector<std::string> lines = split_lines(csv, complete);
  if (!complete) ++st.dropped;
  if (lines.empty()) return st;
  if (lines[0] + "\n" != header) {
    throw InputError("--out '" + dir + "': " + kCsvName +
                     " has other columns than this version writes; pass --force to start over, "
                     "or use a new folder");
  }
  std::map<int, int64_t> ops;  // point -> ops
  const std::vector<std::string> cols = sweep_csv_columns();
  const size_t status_col = size_t(std::find(cols.begin(), cols.end(), "status") - cols.begin());
  const size_t ops_col = status_col + 1;
  std::vector<std::string> f;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    if (!parse_csv_record(lines[i], f) || f.size() != cols.size()) {
      ++st.dropped;
      continue;
    }
    const auto k = by_key.find(row_key(f));
    if (k == by_key.end() || (f[status_col] != "ok" && !keep_errors) || st.rows.count(k->second)) {
      ++st.dropped;
      continue;
    }
    st.rows[k->second] = lines[i] + "\n";
    ops[k->second] = std::atoll(f[ops_col].c_str());
  }

  const std::string lcsv = slurp(fs::path(dir) / kLayersName, exists);
  std::map<int, int64_t> have;
  if (exists) {
    lines = split_lines(lcsv, complete);
    if (!lines.empty() && lines[0] + "\n" != lheader) {
      throw InputError("--out '" + dir + "': " + kLayersName +
                       " has other columns than this version writes; pass --force to start over, "
                       "or use a new folder");
    }
    const size_t ncol = sweep_layers_csv_columns().size();
    for (size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      if (!parse_csv_record(lines[i], f) || f.size() != ncol) {
        ++st.dropped;
        continue;
      }
      const int point = std::atoi(f[0].c_str());
      if (!st.rows.count(point) || f[0] != std::to_string(point) ||
          f[1] != spec.workloads[size_t(points[size_t(point)].workload)].name) {
        ++st.dropped;
        continue;
      }
      st.layers[point] += lines[i] + "\n";
      ++have[point];
    }
  }
  // A finished point has all its per-op rows; otherwise it runs again.
  for (auto it = st.rows.begin(); it != st.rows.end();) {
    if (have[it->first] != ops[it->first]) {
      st.dropped += 1 + size_t(have[it->first]);
      st.layers.erase(it->first);
      it = st.rows.erase(it);
    } else {
      ++it;
    }
  }
  return st;
}

int open_sweep_folder(const SweepSpec& spec, const std::vector<SweepPoint>& points,
                      const std::vector<std::string>& more_dirs, FolderLock& lock,
                      SweepRows& stored, std::ostream& err) {
  const fs::path dir(spec.out_dir);
  const fs::path csv_path = dir / kCsvName, layers_path = dir / kLayersName,
                 json_path = dir / kJsonName;
  const std::string description = sweep_description_json(spec);
  const std::string header = csv_line(sweep_csv_columns());
  const std::string lheader = csv_line(sweep_layers_csv_columns());
  try {
    std::error_code ec;
    const bool existed = fs::exists(dir, ec);
    fs::create_directories(dir);
    if (!lock.acquire(dir.string(), 0)) {
      err << "error: --out '" << spec.out_dir
          << "': another sweep or run is writing to this folder; wait for it or use another "
             "folder"
          << std::endl;
      return kExitBadInput;
    }
    bool same = false;
    if (existed) {
      bool json_exists = false;
      const std::string old = slurp(json_path, json_exists);
      if (json_exists) {
        const nlohmann::json now = nlohmann::json::parse(description);
        const nlohmann::json before = nlohmann::json::parse(old, nullptr, false);
        same = !before.is_discarded() && before == now;
        if (before.is_discarded() && !spec.force) {  // cut short or edited: not a description
          err << "error: --out '" << spec.out_dir << "': its " << kJsonName
              << " is damaged (not valid JSON, e.g. cut short); pass --force to start the sweep "
                 "over, or use a new folder"
              << std::endl;
          return kExitBadInput;
        }
        if (!same && !spec.force) {
          const std::string what =
              before.is_discarded() ? std::string() : first_difference(before, now);
          err << "error: --out '" << spec.out_dir << "': holds a sweep with different arguments"
              << (what.empty() ? std::string() : " (" + what + " differs)")
              << " (see its sweep.json); rerun with those arguments to resume, pass --force to "
                 "discard it, or use a new folder"
              << std::endl;
          return kExitBadInput;
        }
      } else if (fs::exists(csv_path, ec) && !spec.force) {
        err << "error: --out '" << spec.out_dir << "': has a " << kCsvName << " but no "
            << kJsonName << ": not a sweep folder this version can resume; pass --force to "
            << "start over, or use a new folder" << std::endl;
        return kExitBadInput;
      }
    }
    if (!same) {
      // A new sweep (or --force): the old results and figures go.
      for (const char* name : {kCsvName, kLayersName, "report.html"}) fs::remove(dir / name, ec);
      fs::remove_all(dir / "figures", ec);
      write_file_atomic(json_path.string(), description);
    } else {
      stored = read_sweep_rows(spec, points, dir.string(), false);
      for (const std::string& more : more_dirs) {
        SweepRows m = read_sweep_rows(spec, points, more, false);
        stored.dropped += m.dropped;
        for (auto& [index, row] : m.rows) {
          if (stored.rows.count(index)) continue;
          stored.rows[index] = std::move(row);
          stored.layers[index] = std::move(m.layers[index]);
        }
      }
    }
    // The files as the run starts: the finished points' rows, in point order.
    write_file_atomic(layers_path.string(), lheader + joined(stored.layers));
    write_file_atomic(csv_path.string(), header + joined(stored.rows));
  } catch (const InputError& e) {
    err << "error: " << message_line(e.what()) << std::endl;
    return kExitBadInput;
  } catch (const std::exception& e) {
    err << "error: cannot write the sweep folder '" << spec.out_dir << "': " << one_line(e.what())
        << std::endl;
    return kExitFailure;
  }

  return -1;
}

}  // namespace ssim
