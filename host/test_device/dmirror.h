#pragma once
// One open mirror of a process on a test device (a "dmirror fd"): its own
// device page table and the commands of lib/test_hmm_uapi.h, with the same
// results: status, pages handled (cpages) and fault rounds (faults), and
// SNAPSHOT bytes with the same values. See docs/scenarios.md.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "host/hmm/range_fault.h"
#include "host/test_device/dmirror_device.h"

namespace hmmsim::host {

enum class DmirrorCmd : uint8_t {
  Read = 0x00,
  Write = 0x01,
  MigrateToDev = 0x02,
  MigrateToSys = 0x03,
  Snapshot = 0x04,
  Exclusive = 0x05,
  CheckExclusive = 0x06,
  Release = 0x07,
  Flags = 0x08,
};
const char* to_string(DmirrorCmd c);

// SNAPSHOT bytes (lib/test_hmm_uapi.h).
namespace snap {
constexpr uint8_t kError = 0xFF, kNone = 0x00, kRead = 0x01, kWrite = 0x02, kPmd = 0x04, kPud = 0x08,
                  kZero = 0x10, kDevPrivateLocal = 0x20, kDevPrivateRemote = 0x30;
}
constexpr uint64_t kDmirrorFailAlloc = 1;  // FLAGS bit 0: the next allocation fails once

struct DmirrorResult {
  Status status = Status::Ok;
  uint64_t cpages = 0, faults = 0;  // only meaningful when status is Ok (the uapi copies them back only then)
};

class Dmirror final : public IMmuIntervalNotifierOps {
 public:
  Dmirror(DmirrorDevice& dev, AddressSpace& mm);
  ~Dmirror() override;  // close: stop mirroring, evict the device's pages
  Dmirror(const Dmirror&) = delete;
  Dmirror& operator=(const Dmirror&) = delete;

  // One ioctl. `buf` is the user buffer: data for READ/WRITE/MIGRATE/
  // EXCLUSIVE (npages * 4 KiB), one byte per page for SNAPSHOT. It is
  // resized as the command needs; on error READ leaves it untouched.
  DmirrorResult run(DmirrorCmd cmd, uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf);

  DmirrorDevice& device() { return m_dev; }
  AddressSpace& mm() { return m_mm; }
  uint64_t flags() const { return m_flags; }
  bool take_fail_alloc();  // FAIL_ALLOC: consume the one-shot flag
  // Test hooks for the retry protocol: the next `n` snapshots taken by a
  // device fault are invalidated before the retry check (busy), or the
  // entries a fault stored are invalidated right after it (refault).
  void inject_busy(uint32_t n) { m_inject_busy = n; }
  void inject_refault(uint32_t n) { m_inject_refault = n; }

  enum Tag : uint8_t { kTagRead = 0, kTagAtomic = 1, kTagWrite = 3 };
  struct Entry {
    Pfn page;  // the system page holding the data (a device pfn only via the fault quirk)
    uint8_t tag;
  };
  const std::map<uint64_t, Entry>& page_table() const { return m_pt; }
  void store(uint64_t va, Pfn page, uint8_t tag);
  void erase(uint64_t va);
  // A device page was freed: entries naming it directly must go (they can
  // only come from the fault path's quirk; see data_page()).
  void drop_device_page(Pfn pfn);

  bool invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t cur_seq) override;

  uint64_t s_invalidations = 0, s_fault_calls = 0, s_range_fault_retries = 0;

 private:
  Status do_read(uint64_t start, uint64_t end, uint64_t addr, std::vector<uint8_t>& bounce, uint64_t& cpages);
  Status do_write(uint64_t start, uint64_t end, uint64_t addr, const std::vector<uint8_t>& data, uint64_t& cpages);
  Status fault(uint64_t start, uint64_t end, bool write);
  Status copy_with_faults(uint64_t addr, uint64_t end, bool write, DmirrorResult& r,
                          const std::function<Status(uint64_t from)>& copy);
  Status read(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r);
  Status write(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r);
  Status migrate_to_device(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r);
  Status migrate_to_system(uint64_t addr, uint64_t npages, DmirrorResult& r);
  Status snapshot(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r);
  Status exclusive(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r);
  Status check_exclusive(uint64_t addr, uint64_t npages);
  // Runs `move` on each migrate_vma chunk of [addr, end) after setup.
  Status for_each_chunk(uint64_t addr, uint64_t end, uint32_t flags, const std::function<Status(MigrateVma&)>& move);
  void alloc_and_copy(MigrateVma& a);
  void finalize_and_map(MigrateVma& a);
  Pfn data_page(Pfn p) const;  // resolves a device pfn to its backing page
  uint8_t snapshot_byte(uint64_t hmm_pfn) const;

  DmirrorDevice& m_dev;
  AddressSpace& m_mm;
  MmuIntervalNotifier m_notifier;
  std::map<uint64_t, Entry> m_pt;  // virtual page number -> entry (the xarray)
  std::map<Pfn, std::set<uint64_t>> m_dev_entries;  // device pfn -> vpns whose entry names it
  uint64_t m_flags = 0;
  uint32_t m_inject_busy = 0, m_inject_refault = 0;
};

}  // namespace hmmsim::host
