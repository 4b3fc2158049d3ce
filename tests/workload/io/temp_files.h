#pragma once
// Test helpers: a private temporary folder, files written into it, and xz
// compression with liblzma (traces are made at test time, never committed).
#include <lzma.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace hmmsim::testing {

class TempDir {
 public:
  TempDir() {
    const char* env = getenv("TMPDIR");
    std::string t = std::string(env && *env ? env : "/tmp") + "/hmmsim-test-XXXXXX";
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    m_path = buf.data();
  }
  ~TempDir() {
    for (const auto& f : m_files) unlink(f.c_str());
    rmdir(m_path.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return m_path; }
  // Writes `data` to <dir>/<name> and returns the full path.
  std::string write(const std::string& name, const std::string& data) {
    std::string p = m_path + "/" + name;
    FILE* f = std::fopen(p.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + p);
    if (!data.empty()) std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
    m_files.push_back(p);
    return p;
  }

 private:
  std::string m_path;
  std::vector<std::string> m_files;
};

// `data` compressed as one xz stream (preset 1, CRC64), like `xz -1`.
inline std::string xz_compress(const std::string& data) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_easy_encoder(&s, 1, LZMA_CHECK_CRC64) != LZMA_OK) throw std::runtime_error("lzma_easy_encoder");
  std::string out;
  std::vector<uint8_t> buf(64 * 1024);
  s.next_in = reinterpret_cast<const uint8_t*>(data.data());
  s.avail_in = data.size();
  for (;;) {
    s.next_out = buf.data();
    s.avail_out = buf.size();
    lzma_ret r = lzma_code(&s, LZMA_FINISH);
    out.append(reinterpret_cast<const char*>(buf.data()), buf.size() - s.avail_out);
    if (r == LZMA_STREAM_END) break;
    if (r != LZMA_OK) {
      lzma_end(&s);
      throw std::runtime_error("lzma_code");
    }
  }
  lzma_end(&s);
  return out;
}

}  // namespace hmmsim::testing
