// The resume store of a sweep: what a sweep folder (DIR/sweep.json, sweep.csv, sweep_layers.csv)
// holds for the points of a sweep, read back so that a rerun skips the finished points.
//
// The files are appended to as points finish (a point's per-op rows, then its row), so a sweep
// killed at any moment leaves at most one cut-off line at the end of each file. Reading them
// back keeps a point only when its row says ok and all its per-op rows are there; everything
// else (cut-off or damaged lines, error rows, rows of unfinished points, duplicates) is dropped
// and counted, and the point runs again. Rows are matched to points by their full parameter
// tuple (workload and every hardware column), never by position.
#pragma once

#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "sim/sweep/sweep.hpp"

namespace ssim {

// The whole file; `exists` says whether it could be opened ("" when not).
std::string slurp(const std::filesystem::path& p, bool& exists);

// The rows a sweep folder holds for the points of `spec`: DIR/sweep.csv and DIR/sweep_layers.csv
// read back. Rows are matched to points by their full parameter tuple (workload and every
// hardware column), not by position; a point counts when all its per-op rows are there, and its
// row says ok (or, with keep_errors, error). Throws InputError when a file has other columns.
struct SweepRows {
  std::map<int, std::string> rows;    // point -> its sweep.csv line (with '\n')
  std::map<int, std::string> layers;  // point -> its sweep_layers.csv lines
  size_t dropped = 0;                 // lines not kept (error rows, unfinished points, damage)
};
SweepRows read_sweep_rows(const SweepSpec& spec, const std::vector<SweepPoint>& points,
                          const std::string& dir, bool keep_errors);

class FolderLock;
// Makes spec.out_dir hold this sweep, as a run starts: takes its lock (held by `lock`), writes
// sweep.json for a new sweep (or with --force discards another one's results), or refuses a
// folder holding other arguments; for the same sweep, `stored` gets the finished points (status
// ok) found in the folder and in the folders `more_dirs` (a Slurm sweep's task folders). Both CSV
// files are rewritten with them in point order. Returns -1 when the folder is ready, else the
// exit code, after printing the one-line error to `err`.
int open_sweep_folder(const SweepSpec& spec, const std::vector<SweepPoint>& points,
                      const std::vector<std::string>& more_dirs, FolderLock& lock,
                      SweepRows& stored, std::ostream& err);

}  // namespace ssim
