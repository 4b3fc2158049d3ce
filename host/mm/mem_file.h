#pragma once
// A simple in-memory file (or shmem object): a page cache of frames indexed
// by page offset. Shared mappings map these frames directly; private file
// mappings map them read-only and copy on write.
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "host/mm/phys_mem.h"

namespace hmmsim::host {

class MemFile {
 public:
  MemFile(PhysMem& phys, std::string name) : m_phys(phys), m_name(std::move(name)) {}
  ~MemFile();
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  const std::string& name() const { return m_name; }
  // The cached frame of page `index`, created zero-filled on first use
  // (kNoPfn when memory is exhausted). The file holds one reference.
  Pfn page(uint64_t index);
  Pfn find(uint64_t index) const;
  void mark_dirty(uint64_t index) { m_dirty.insert(index); }
  bool dirty(uint64_t index) const { return m_dirty.count(index) != 0; }
  // Writes back dirty pages (the file's content is its page cache here).
  uint64_t writeback();
  uint64_t cached_pages() const { return m_pages.size(); }
  uint64_t s_writebacks = 0;

 private:
  PhysMem& m_phys;
  std::string m_name;
  std::map<uint64_t, Pfn> m_pages;
  std::set<uint64_t> m_dirty;
};

}  // namespace hmmsim::host
