#include "workload/io/trace_file.h"

#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "hw/kernel/kernel_source.h"

namespace hmmsim::workload {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw hw::SourceError(path + ": " + what);
}

std::string errno_text(int err) { return std::strerror(err); }

// Closes a descriptor unless released (error paths of open()).
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

size_t pread_full(int fd, void* buf, size_t len, uint64_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, static_cast<char*>(buf) + done, len - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file (or an I/O error, treated as the end)
    done += static_cast<size_t>(n);
  }
  return done;
}

void write_full(int fd, const uint8_t* p, size_t len, const std::string& path, const std::string& tmpdir) {
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(path, "cannot write the decompressed copy in " + tmpdir + ": " + errno_text(errno));
    p += n;
    len -= static_cast<size_t>(n);
  }
}

const char* lzma_text(lzma_ret r) {
  switch (r) {
    case LZMA_FORMAT_ERROR: return "not an xz stream";
    case LZMA_OPTIONS_ERROR: return "unsupported xz options";
    case LZMA_DATA_ERROR: return "corrupt xz data";
    case LZMA_BUF_ERROR: return "truncated xz stream";
    case LZMA_MEM_ERROR: return "out of memory decompressing xz";
    case LZMA_MEMLIMIT_ERROR: return "xz memory limit reached";
    case LZMA_UNSUPPORTED_CHECK: return "unsupported xz integrity check";
    default: return "xz decoder error";
  }
}

// Decompresses the xz file `in` into a new unlinked temporary file; returns
// its descriptor and sets `size`.
int decompress_xz(int in, const std::string& path, uint64_t& size) {
  const char* env = std::getenv("TMPDIR");
  std::string tmpdir = (env && *env) ? env : "/tmp";
  std::string templ = tmpdir + "/hmmsim-trace-XXXXXX";
  std::vector<char> name(templ.begin(), templ.end());
  name.push_back('\0');
  FdGuard out{::mkstemp(name.data())};
  if (out.fd < 0) fail(path, "cannot create a temporary file in " + tmpdir + ": " + errno_text(errno));
  ::unlink(name.data());  // gone when closed, even if we crash

  lzma_stream strm = LZMA_STREAM_INIT;
  // LZMA_CONCATENATED: `xz` may write several streams (e.g. -T0 threads).
  lzma_ret r = lzma_stream_decoder(&strm, UINT64_MAX, LZMA_CONCATENATED);
  if (r != LZMA_OK) fail(path, lzma_text(r));
  struct End {
    lzma_stream* s;
    ~End() { lzma_end(s); }
  } end{&strm};

  std::vector<uint8_t> ibuf(64 * 1024), obuf(256 * 1024);
  uint64_t in_off = 0;
  lzma_action action = LZMA_RUN;
  size = 0;
  for (;;) {
    if (strm.avail_in == 0 && action == LZMA_RUN) {
      size_t n = pread_full(in, ibuf.data(), ibuf.size(), in_off);
      in_off += n;
      strm.next_in = ibuf.data();
      strm.avail_in = n;
      if (n < ibuf.size()) action = LZMA_FINISH;
    }
    strm.next_out = obuf.data();
    strm.avail_out = obuf.size();
    r = lzma_code(&strm, action);
    size_t produced = obuf.size() - strm.avail_out;
    write_full(out.fd, obuf.data(), produced, path, tmpdir);
    size += produced;
    if (r == LZMA_STREAM_END) break;
    if (r != LZMA_OK) fail(path, lzma_text(r));
    // With LZMA_FINISH and all input used, a decoder that makes no progress
    // reports LZMA_BUF_ERROR on the next call; this guards against a loop.
    if (action == LZMA_FINISH && strm.avail_in == 0 && produced == 0) {
      r = lzma_code(&strm, LZMA_FINISH);
      if (r == LZMA_STREAM_END) break;
      fail(path, r == LZMA_OK ? "truncated xz stream" : lzma_text(r));
    }
  }
  return out.release();
}

}  // namespace

TraceFile::TraceFile(std::string path, int fd, bool compressed, uint64_t size)
    : m_path(std::move(path)), m_fd(fd), m_compressed(compressed), m_size(size) {}

TraceFile::~TraceFile() {
  if (m_fd >= 0) ::close(m_fd);
}

std::shared_ptr<const TraceFile> TraceFile::open(const std::string& path) {
  FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) fail(path, "cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) fail(path, "cannot stat: " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");

  static const uint8_t kXzMagic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
  uint8_t head[6] = {};
  size_t got = pread_full(fd.fd, head, sizeof head, 0);
  bool xz = got == sizeof head && std::memcmp(head, kXzMagic, sizeof head) == 0;
  if (!xz) {
    uint64_t size = static_cast<uint64_t>(st.st_size);
    return std::shared_ptr<const TraceFile>(new TraceFile(path, fd.release(), false, size));
  }
  uint64_t size = 0;
  int tmp = decompress_xz(fd.fd, path, size);
  return std::shared_ptr<const TraceFile>(new TraceFile(path, tmp, true, size));
}

size_t TraceFile::pread(void* buf, size_t len, uint64_t off) const {
  if (off >= m_size) return 0;
  len = static_cast<size_t>(std::min<uint64_t>(len, m_size - off));
  return pread_full(m_fd, buf, len, off);
}

LineCursor::LineCursor(std::shared_ptr<const TraceFile> f, uint64_t offset, uint64_t line_no, size_t buffer)
    : m_file(std::move(f)), m_next(offset), m_line_no(line_no - 1), m_cap(std::max<size_t>(buffer, 64)) {}

bool LineCursor::fill() {
  if (m_buf.empty()) m_buf.resize(m_cap);
  m_buf_off = m_next;
  m_len = m_file->pread(m_buf.data(), m_buf.size(), m_next);
  return m_len > 0;
}

bool LineCursor::next(std::string_view& line) {
  bool is_long = false;  // the line so far is in m_long
  m_long.clear();
  auto finish = [&](const char* p, size_t n) {
    if (is_long) {
      m_long.append(p, n);
      p = m_long.data();
      n = m_long.size();
    }
    if (n > 0 && p[n - 1] == '\r') --n;
    line = std::string_view(p, n);
    ++m_line_no;
    return true;
  };
  for (;;) {
    // m_next lies in [m_buf_off, m_buf_off + m_len] after any fill().
    if (m_next >= m_buf_off && m_next < m_buf_off + m_len) {
      size_t pos = static_cast<size_t>(m_next - m_buf_off);
      const char* b = m_buf.data() + pos;
      size_t avail = m_len - pos;
      if (const void* nl = std::memchr(b, '\n', avail)) {
        size_t n = static_cast<size_t>(static_cast<const char*>(nl) - b);
        m_next += n + 1;
        return finish(b, n);
      }
      if (m_len < m_buf.size()) {  // a short read: this is the end of the file
        m_next += avail;
        return finish(b, avail);
      }
      if (pos == 0) {  // the whole buffer is part of one line
        if (m_long.size() + avail > kMaxLine)
          fail(m_file->path(), "line " + std::to_string(m_line_no + 1) + " is longer than " +
                                   std::to_string(kMaxLine >> 20) + " MiB (not a text trace?)");
        m_long.append(b, avail);
        is_long = true;
        m_next += avail;
      }
      // otherwise refill from the start of the unfinished line
    }
    if (!fill()) {
      if (is_long) return finish(m_long.data(), 0);
      return false;
    }
  }
}

}  // namespace hmmsim::workload
