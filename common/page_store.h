#pragma once
// Contents of 4 KiB pages in one of three data modes (run.data):
//   full  real bytes: 4 KiB per page ever written (lazily allocated);
//   tag   one 64-bit version word per page, read back as that word repeated
//         across the page, so every copy, migration and copy-on-write
//         carries it: 8 bytes per page of the store's range;
//   off   nothing is kept; every read returns zeros (timing only).
// Host RAM (host::PhysMem) and VRAM (hw::VramCore) both keep their frames
// here, so a page moved between them keeps its content in every mode.
// Pages holding structures the hardware and driver read back (page tables,
// fault rings) keep real bytes in every mode (keep_bytes).
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace hmmsim::common {

enum class DataMode : uint8_t { Full, Tag, Off };

// The word a writer stores for version `v` (unique per writer and store):
// every byte depends on all of `v` (splitmix64's finaliser), so a store of
// k bytes changes the page's tag word unless they agree by chance (2^-8k),
// and a store that a migration lost shows as a mismatch.
inline uint64_t version_word(uint64_t v) {
  v ^= v >> 30;
  v *= 0xbf58476d1ce4e5b9ull;
  v ^= v >> 27;
  v *= 0x94d049bb133111ebull;
  return v ^ (v >> 31);
}

// Bytes [off, off + len) of a page holding the 64-bit `word` repeated: byte
// i is byte (off + i) % 8 of the word. What `tag` mode reads back.
inline void fill_word_pattern(uint8_t* dst, uint64_t off, uint64_t len, uint64_t word) {
  uint8_t w[8];
  std::memcpy(w, &word, 8);
  uint64_t i = 0;
  for (; i < len && ((off + i) & 7); ++i) dst[i] = w[(off + i) & 7];
  for (; i + 8 <= len; i += 8) std::memcpy(dst + i, w, 8);  // aligned: whole words
  for (; i < len; ++i) dst[i] = w[(off + i) & 7];
}
const char* to_string(DataMode m);
// "full", "tag", "off"; false if `s` is none of them.
bool parse_data_mode(const std::string& s, DataMode& out);

class PageStore {
 public:
  static constexpr uint64_t kPageBytes = 4096;
  PageStore(DataMode mode, uint64_t pages);
  DataMode mode() const { return m_mode; }
  uint64_t pages() const { return m_pages; }

  // Byte access within one page (off + len <= 4096).
  void read(uint64_t page, uint64_t off, void* dst, uint64_t len) const;
  void write(uint64_t page, uint64_t off, const void* src, uint64_t len);
  void copy(uint64_t dst, uint64_t src);
  void clear(uint64_t page);  // reads as zeros again; drops keep_bytes

  // The page holds real bytes whatever the mode, from now until clear().
  void keep_bytes(uint64_t page);
  bool keeps_bytes(uint64_t page) const { return m_mode != DataMode::Full && m_exact_bit[page]; }

  // Bytes held for contents now (for docs/performance figures).
  uint64_t bytes_held() const;

 private:
  using Page = std::array<uint8_t, kPageBytes>;
  const DataMode m_mode;
  const uint64_t m_pages;
  std::vector<std::unique_ptr<Page>> m_full;  // full: nullptr reads as zeros
  std::vector<uint64_t> m_tag;                // tag: one word per page
  uint64_t m_full_pages = 0;
  // tag/off: pages that keep real bytes (a bit each; bytes in a sparse map).
  std::vector<bool> m_exact_bit;
  std::unordered_map<uint64_t, std::unique_ptr<Page>> m_exact;
};

}  // namespace hmmsim::common
