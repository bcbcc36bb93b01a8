// Helpers for the workload tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "models/types.hpp"
#include "workloads/layer.hpp"
#include "workloads/lower.hpp"

namespace ssim::test {

// A square-kernel convolution's parameters.
inline Conv2dLayer conv(int64_t h, int64_t w, int64_t c, int64_t f, int64_t k, int64_t stride = 1,
                        int64_t pad = 0, int64_t dil = 1, int64_t groups = 1) {
  Conv2dLayer p;
  p.in_h = h;
  p.in_w = w;
  p.in_c = c;
  p.filters = f;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  p.dilation_h = p.dilation_w = dil;
  p.groups = groups;
  return p;
}

// Success if f() throws InputError whose one-line message contains every one of `parts`.
template <class F>
::testing::AssertionResult throws_input_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    if (msg.find('\n') != std::string::npos)
      return ::testing::AssertionFailure() << "message is not one line: " << msg;
    for (const auto& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks '" << p << "': " << msg;
    return ::testing::AssertionSuccess() << msg;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-InputError: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// A scratch folder removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ssim_wl_XXXXXX";
    const char* d = mkdtemp(tmpl);
    path_ = d ? d : "/tmp";
  }
  ~TempDir() {
    for (const auto& f : files_) std::remove(f.c_str());
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  // Writes `text` to the file `name` in the folder; returns its path.
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    files_.push_back(p);
    return p;
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

inline std::string data_dir() {
  return SSIM_SOURCE_DIR "/tests/data/workloads";
}

// The GEMM a layer lowers to has this M, N, K.
inline void expect_shape(const Layer& l, int64_t M, int64_t N, int64_t K) {
  const std::vector<Op> ops = lower(l);
  const GemmOp* g = as_gemm(ops.at(0));
  ASSERT_NE(g, nullptr) << l.name;
  const GemmShape s = g->shape;
  EXPECT_EQ(s.M, M) << l.name;
  EXPECT_EQ(s.N, N) << l.name;
  EXPECT_EQ(s.K, K) << l.name;
}

}  // namespace ssim::test
