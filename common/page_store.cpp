#include "common/page_store.h"

#include <cassert>
#include <cstring>

namespace hmmsim::common {

const char* to_string(DataMode m) {
  switch (m) {
    case DataMode::Full: return "full";
    case DataMode::Tag: return "tag";
    case DataMode::Off: return "off";
  }
  return "?";
}

bool parse_data_mode(const std::string& s, DataMode& out) {
  if (s == "full") out = DataMode::Full;
  else if (s == "tag") out = DataMode::Tag;
  else if (s == "off") out = DataMode::Off;
  else return false;
  return true;
}

PageStore::PageStore(DataMode mode, uint64_t pages) : m_mode(mode), m_pages(pages) {
  if (mode == DataMode::Full) m_full.resize(pages);
  if (mode == DataMode::Tag) m_tag.assign(pages, 0);
  if (mode != DataMode::Full) m_exact_bit.assign(pages, false);
}

void PageStore::keep_bytes(uint64_t page) {
  assert(page < m_pages);
  if (m_mode == DataMode::Full || m_exact_bit[page]) return;
  m_exact_bit[page] = true;
  auto p = std::make_unique<Page>();
  p->fill(0);
  m_exact[page] = std::move(p);
}

void PageStore::read(uint64_t page, uint64_t off, void* dst, uint64_t len) const {
  assert(page < m_pages && off + len <= kPageBytes);
  auto* d = static_cast<uint8_t*>(dst);
  if (keeps_bytes(page)) {
    std::memcpy(d, m_exact.at(page)->data() + off, len);
    return;
  }
  switch (m_mode) {
    case DataMode::Full:
      if (const auto& p = m_full[page])
        std::memcpy(d, p->data() + off, len);
      else
        std::memset(d, 0, len);
      return;
    case DataMode::Tag:
      fill_word_pattern(d, off, len, m_tag[page]);
      return;
    case DataMode::Off:
      std::memset(d, 0, len);
      return;
  }
}

void PageStore::write(uint64_t page, uint64_t off, const void* src, uint64_t len) {
  assert(page < m_pages && off + len <= kPageBytes);
  const auto* s = static_cast<const uint8_t*>(src);
  if (keeps_bytes(page)) {
    std::memcpy(m_exact.at(page)->data() + off, s, len);
    return;
  }
  switch (m_mode) {
    case DataMode::Full: {
      auto& p = m_full[page];
      if (!p) {
        p = std::make_unique<Page>();
        p->fill(0);
        ++m_full_pages;
      }
      std::memcpy(p->data() + off, s, len);
      return;
    }
    case DataMode::Tag: {
      // Writers store the page's new tag repeated; any aligned or unaligned
      // part of that pattern updates the word consistently.
      uint8_t w[8];
      std::memcpy(w, &m_tag[page], 8);
      for (uint64_t i = 0; i < len && i < 8; ++i) w[(off + i) & 7] = s[i];
      std::memcpy(&m_tag[page], w, 8);
      return;
    }
    case DataMode::Off:
      return;
  }
}

void PageStore::copy(uint64_t dst, uint64_t src) {
  assert(dst < m_pages && src < m_pages);
  if (keeps_bytes(dst) || keeps_bytes(src)) {  // never on a data path; kept simple
    Page tmp;
    read(src, 0, tmp.data(), kPageBytes);
    write(dst, 0, tmp.data(), kPageBytes);
    return;
  }
  switch (m_mode) {
    case DataMode::Full:
      if (!m_full[src]) {
        clear(dst);
      } else {
        if (!m_full[dst]) ++m_full_pages;
        if (!m_full[dst]) m_full[dst] = std::make_unique<Page>();
        *m_full[dst] = *m_full[src];
      }
      return;
    case DataMode::Tag:
      m_tag[dst] = m_tag[src];
      return;
    case DataMode::Off:
      return;
  }
}

void PageStore::clear(uint64_t page) {
  assert(page < m_pages);
  if (m_mode == DataMode::Full && m_full[page]) {
    m_full[page].reset();
    --m_full_pages;
  }
  if (m_mode == DataMode::Tag) m_tag[page] = 0;
  if (keeps_bytes(page)) {
    m_exact_bit[page] = false;
    m_exact.erase(page);
  }
}

uint64_t PageStore::bytes_held() const {
  switch (m_mode) {
    case DataMode::Full: return m_full.size() * sizeof(void*) + m_full_pages * kPageBytes;
    case DataMode::Tag: return m_tag.size() * sizeof(uint64_t) + m_exact.size() * kPageBytes;
    case DataMode::Off: return m_exact.size() * kPageBytes;
  }
  return 0;
}

}  // namespace hmmsim::common
