#pragma once
// One process address space (mm_struct): VMAs, a CPU page table with
// present, device-private, migration and device-exclusive entries, the zero
// page, transparent and hugetlb 2 MiB pages, copy-on-write after fork, and
// the interval notifiers that mirrors register. Every page-table change a
// mirror could have copied raises a notifier event before it takes effect.
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "common/block_table.h"
#include "host/common/status.h"
#include "host/mm/device_pagemap.h"
#include "host/mm/mem_file.h"
#include "host/mm/mmu_notifier.h"

namespace hmmsim::host {

enum Prot : uint32_t { kProtNone = 0, kProtRead = 1, kProtWrite = 2 };

enum class VmaKind : uint8_t {
  AnonPrivate,  // MAP_PRIVATE | MAP_ANONYMOUS
  AnonShared,   // MAP_SHARED | MAP_ANONYMOUS (shmem: page-cache backed, not "anonymous")
  FilePrivate,  // MAP_PRIVATE of a file: page cache read-only, COW into anonymous pages
  FileShared,   // MAP_SHARED of a file
};
const char* to_string(VmaKind k);

constexpr uint64_t kHugeSize = 2ull << 20;
constexpr uint64_t kHugePages = kHugeSize >> kPageShift;  // 512

struct Vma {
  uint64_t start = 0, end = 0;  // [start, end), page aligned
  uint32_t prot = kProtNone;
  VmaKind kind = VmaKind::AnonPrivate;
  std::shared_ptr<MemFile> file;  // AnonShared, FilePrivate, FileShared
  uint64_t pgoff = 0;             // file page index at `start`
  bool thp = false;               // MADV_HUGEPAGE
  bool hugetlb = false;           // MAP_HUGETLB: 2 MiB pages only, never split
  // vma_is_anonymous(): only private anonymous memory; migration to device
  // memory populates holes only here.
  bool anonymous() const { return kind == VmaKind::AnonPrivate; }
  bool shared() const { return kind == VmaKind::AnonShared || kind == VmaKind::FileShared; }
  uint64_t file_index(uint64_t va) const { return pgoff + ((va - start) >> kPageShift); }
};

enum class PteKind : uint8_t {
  None,           // nothing mapped
  Present,        // system page `pfn` (may be the zero page)
  DevicePrivate,  // special swap entry naming device page `pfn` (read or write variant)
  Migration,      // page `pfn` is being migrated; CPU accesses wait
  Exclusive,      // device-exclusive entry: page `pfn` lent to a device for atomics
};
const char* to_string(PteKind k);

struct Pte {
  PteKind kind = PteKind::None;
  bool write = false;     // writable (swap entries: the write variant)
  bool dirty = false;     // written since last cleaned
  bool anon = false;      // the page is anonymous (not page cache, not the zero page)
  bool pmd = false;       // part of a 2 MiB (PMD) mapping
  bool lazyfree = false;  // MADV_FREE: may be discarded by reclaim while clean
  Pfn pfn = 0;
  const void* owner = nullptr;  // Exclusive: the device holding the page
};

struct MremapFlags {
  bool maymove = false;
  bool fixed = false;
  bool dontunmap = false;
};

enum class Advice : uint8_t { Hugepage, NoHugepage, DontNeed, Free };

class AddressSpace {
 public:
  explicit AddressSpace(HostSystem& sys) : m_sys(sys) {}
  ~AddressSpace();
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  HostSystem& system() { return m_sys; }
  MmuNotifierList& notifiers() { return m_notifiers; }

  // mmap at a fixed, page-aligned address (MAP_FIXED_NOREPLACE semantics:
  // Inval on overlap). File kinds need `file`; hugetlb needs 2 MiB alignment.
  Status mmap_fixed(uint64_t addr, uint64_t len, uint32_t prot, VmaKind kind,
                    std::shared_ptr<MemFile> file = nullptr, uint64_t pgoff = 0, bool hugetlb = false);
  // Picks the lowest free, `align`-aligned address at or above `hint`.
  uint64_t find_free(uint64_t len, uint64_t hint, uint64_t align = kPageSize) const;
  // munmap, also partial: splits VMAs and PMD mappings. Raises UNMAP.
  Status munmap(uint64_t addr, uint64_t len);
  // mprotect: raises PROTECTION_VMA, drops write permission from entries.
  Status mprotect(uint64_t addr, uint64_t len, uint32_t prot);
  // The kernel's change_protection() for a driver that keeps a copy of
  // private pages (read duplication): raises PROTECTION_PAGE with `owner`,
  // then drops write permission from the present entries of [addr, addr +
  // len), one private, non-hugetlb VMA. The CPU's next write faults; a page
  // it does not own alone is copied, raising CLEAR, so the copy's keeper
  // hears of the write (do_wp_page reuses by refcount, as Linux 5.8-5.18).
  Status write_protect(uint64_t addr, uint64_t len, const void* owner);
  // mremap: shrink, grow in place, or move (MREMAP_MAYMOVE / FIXED /
  // DONTUNMAP). Returns the new address in `*new_addr`. Raises UNMAP on the
  // old range when pages move.
  Status mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, MremapFlags flags,
                uint64_t* new_addr);
  Status madvise(uint64_t addr, uint64_t len, Advice advice);
  // A child address space sharing every page copy-on-write (private) or
  // directly (shared). Writable private entries, device-private ones too,
  // become read-only in both; raises PROTECTION_PAGE on the parent first.
  std::unique_ptr<AddressSpace> fork();
  // Process exit: RELEASE, then every page reference is dropped.
  void exit();
  bool exited() const { return m_exited; }
  // Discards clean MADV_FREE pages (what reclaim does under pressure).
  uint64_t reclaim();

  const Vma* find_vma(uint64_t va) const;
  const std::map<uint64_t, Vma>& vmas() const { return m_vmas; }

  // CPU loads and stores with fault handling. Again: a page is under
  // migration, retry later. Fault/Perm: the access would SIGSEGV.
  Status cpu_read(uint64_t va, void* dst, uint64_t len);
  Status cpu_write(uint64_t va, const void* src, uint64_t len);

  // handle_mm_fault for one page: make it present (and writable if `write`).
  Status handle_fault(uint64_t va, bool write);

  // make_device_exclusive(): faults the page in writable, raises EXCLUSIVE
  // with `owner`, and installs an exclusive entry. Anonymous memory only.
  Status make_device_exclusive(uint64_t va, const void* owner, Pfn* pfn);
  // A device wrote [start, end): mark the pages dirty so write-back, reclaim
  // and MADV_FREE see it (the seeds' dirty-range helper).
  void mark_dirty(uint64_t start, uint64_t end);

  // Page-table access for the HMM core (range fault, migrate) only.
  Pte pte(uint64_t va) const;
  // Installs `pte` at `va` (None clears), keeping the reverse map right.
  // Does not touch page references.
  void set_pte(uint64_t va, const Pte& pte);
  void clear_pte(uint64_t va) { set_pte(va, Pte{}); }
  // Drops the reference a PTE held on its page (system or device).
  void release_page(const Pte& pte);
  // Turns a PMD mapping covering `va` into 512 PTE mappings (THP only).
  void split_pmd(uint64_t va);
  // Entries in [start, end), in address order.
  std::vector<std::pair<uint64_t, Pte>> entries(uint64_t start, uint64_t end) const;

  uint64_t s_cpu_faults = 0;
  uint64_t s_zero_page_maps = 0;
  uint64_t s_migrate_to_ram = 0;
  uint64_t s_cow_copies = 0;
  uint64_t s_thp_faults = 0;
  uint64_t s_thp_fallbacks = 0;
  uint64_t s_thp_splits = 0;
  uint64_t s_exclusive_restores = 0;
  uint64_t s_reclaimed = 0;

 private:
  Status access(uint64_t va, void* buf, uint64_t len, bool write);
  Status fault_none(const Vma& vma, uint64_t va, bool write);
  Status fault_wp(const Vma& vma, uint64_t va, Pte p);
  Status restore_exclusive(uint64_t va, Pte p);
  bool thp_eligible(const Vma& vma, uint64_t va) const;
  // Drops every entry in [start, end), dirty shared file pages marked dirty.
  void zap(uint64_t start, uint64_t end);
  // Splits VMAs so that `addr` is a boundary (no-op if it already is).
  void split_vma_at(uint64_t addr);
  // Makes [start, end) PMD boundaries safe: splits THP mappings that cross them.
  Status split_pmds_across(uint64_t start, uint64_t end);
  void notify(uint64_t start, uint64_t end, NotifyEvent e, const void* owner = nullptr);

  HostSystem& m_sys;
  std::map<uint64_t, Vma> m_vmas;  // by start
  common::BlockTable<Pte> m_ptes;  // by virtual page number
  MmuNotifierList m_notifiers;
  bool m_exited = false;
};

}  // namespace hmmsim::host
