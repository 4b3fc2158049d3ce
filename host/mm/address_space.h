#pragma once
// One process address space (mm_struct): VMAs, a CPU page table with
// present, device-private and migration entries, the zero page, and the
// interval notifiers that mirrors register. Every page-table change that a
// mirror could have copied raises a notifier event first.
#include <cstdint>
#include <map>

#include "host/common/status.h"
#include "host/mm/device_pagemap.h"
#include "host/mm/mmu_notifier.h"

namespace hmmsim::host {

enum Prot : uint32_t { kProtNone = 0, kProtRead = 1, kProtWrite = 2 };

enum class VmaKind : uint8_t { AnonPrivate, AnonShared };

struct Vma {
  uint64_t start = 0, end = 0;  // [start, end), page aligned
  uint32_t prot = kProtNone;
  VmaKind kind = VmaKind::AnonPrivate;
  bool anonymous() const { return true; }
};

enum class PteKind : uint8_t {
  None,           // nothing mapped
  Present,        // system page `pfn` (may be the zero page)
  DevicePrivate,  // special swap entry naming device page `pfn`
  Migration,      // page `pfn` is being migrated; CPU accesses must wait
};

struct Pte {
  PteKind kind = PteKind::None;
  bool write = false;  // writable (for swap entries: the write variant)
  bool dirty = false;
  Pfn pfn = 0;
};

class AddressSpace {
 public:
  explicit AddressSpace(HostSystem& sys) : m_sys(sys) {}
  ~AddressSpace();
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  HostSystem& system() { return m_sys; }
  MmuNotifierList& notifiers() { return m_notifiers; }

  // mmap at a fixed, page-aligned address. Inval on overlap or bad range.
  Status mmap_fixed(uint64_t addr, uint64_t len, uint32_t prot, VmaKind kind);
  // munmap: raises UNMAP, then frees pages (device pages via their pagemap).
  Status munmap(uint64_t addr, uint64_t len);

  const Vma* find_vma(uint64_t va) const;

  // CPU loads and stores with fault handling. Again: a page is under
  // migration, retry later. Fault/Perm: the access would SIGSEGV.
  Status cpu_read(uint64_t va, void* dst, uint64_t len);
  Status cpu_write(uint64_t va, const void* src, uint64_t len);

  // handle_mm_fault for one page: make it present (and writable if `write`).
  Status handle_fault(uint64_t va, bool write);

  // Page-table access for the HMM core (mm/hmm, migrate) only.
  Pte pte(uint64_t va) const;
  void set_pte(uint64_t va, const Pte& pte);
  void clear_pte(uint64_t va);
  // Drops the reference a PTE held on its page (system or device).
  void release_page(const Pte& pte);

  uint64_t s_cpu_faults = 0;
  uint64_t s_zero_page_maps = 0;
  uint64_t s_migrate_to_ram = 0;

 private:
  Status access(uint64_t va, void* buf, uint64_t len, bool write);

  HostSystem& m_sys;
  std::map<uint64_t, Vma> m_vmas;   // by start
  std::map<uint64_t, Pte> m_ptes;   // by virtual page number
  MmuNotifierList m_notifiers;
};

}  // namespace hmmsim::host
