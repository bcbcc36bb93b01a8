// The roofline's reference kernels (run_canonical_kernels, sim/run/network_run.hpp), computed once
// per hardware configuration and binary, and kept in a user cache folder (docs/reports.md,
// "The reference kernels"): a --report run on hardware seen before pays nothing for them.
#pragma once

#include <string>

#include "sim/run/network_run.hpp"

namespace ssim {

// The cache folder: $SSIM_CACHE_DIR, else $XDG_CACHE_HOME/systolic-sim, else
// $HOME/.cache/systolic-sim; "" (no cache) when SSIM_CACHE_DIR is "off" or no folder is known.
std::string canonical_cache_dir();

// The text that identifies an entry: the hardware as --print-config writes it (every key, the run
// name left out), the binary (its size and modification time) and the kernels' sizes.
std::string canonical_cache_key(const HwSpec& hw);

// The kernels for `hw`: from the cache when it holds an entry with this key (source "cached:
// PATH"), else simulated (source "simulated") and stored there (written to a temporary file and
// renamed, so concurrent runs never read half an entry). A missing, unreadable or damaged entry
// is simulated again; a cache that cannot be written is skipped. Never throws for the cache.
CanonicalKernels canonical_kernels(const ValidHw& hw);

}  // namespace ssim
