#pragma once
// Trace input with bounded memory. A TraceFile is opened once; any number
// of cursors read it at their own offsets (one per warp in flight), each
// with a small buffer. Plain files are read in place; xz-compressed files
// (recognised by their magic bytes, whatever their name) are decompressed
// once, with liblzma, into an unlinked temporary file, because an xz stream
// cannot be read from many offsets at once.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hmmsim::workload {

class TraceFile {
 public:
  // Throws hw::SourceError naming the file (missing, unreadable, corrupt xz).
  static std::shared_ptr<const TraceFile> open(const std::string& path);
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  const std::string& path() const { return m_path; }  // as given (the .xz name for compressed files)
  bool compressed() const { return m_compressed; }
  uint64_t size() const { return m_size; }            // decompressed size
  // Reads up to `len` bytes at `off`; fewer only at the end of the file.
  size_t pread(void* buf, size_t len, uint64_t off) const;

 private:
  TraceFile(std::string path, int fd, bool compressed, uint64_t size);
  std::string m_path;
  int m_fd;
  bool m_compressed;
  uint64_t m_size;
};

// Lines of a TraceFile from a given offset, through a small private buffer.
class LineCursor {
 public:
  static constexpr size_t kDefaultBuffer = 16 * 1024;
  // A longer line is not text (e.g. a binary file given as a trace): next()
  // throws hw::SourceError rather than holding it all in memory.
  static constexpr size_t kMaxLine = 16 * 1024 * 1024;
  // `line_no` is the 1-based number of the line that starts at `offset`.
  // `buffer` bytes are allocated on the first next() (a reader that knows its
  // span is short, e.g. one warp, asks for less); longer lines still work.
  LineCursor(std::shared_ptr<const TraceFile> f, uint64_t offset = 0, uint64_t line_no = 1,
             size_t buffer = kDefaultBuffer);
  // The next line without its '\n' (and without a trailing '\r'); false at
  // the end of the file. The view stays valid until the next call.
  bool next(std::string_view& line);
  uint64_t line_no() const { return m_line_no; }  // number of the line last returned
  uint64_t offset() const { return m_next; }       // byte offset of the next line
  const TraceFile& file() const { return *m_file; }

 private:
  bool fill();
  std::shared_ptr<const TraceFile> m_file;
  std::vector<char> m_buf;
  uint64_t m_buf_off = 0;  // file offset of m_buf[0]
  size_t m_len = 0;        // valid bytes in m_buf
  uint64_t m_next;         // file offset of the next unread byte
  uint64_t m_line_no;      // number of the line last returned
  size_t m_cap;            // buffer size once allocated
  std::string m_long;      // a line longer than the buffer
};

}  // namespace hmmsim::workload
