// "bank_row": open-row banks behind per-channel data buses, served first
// come, first served. Per timed unit (an interleave chunk, or one burst when
// the Spec has a burst size):
//   hit      : CAS, data after CL
//   miss     : ACT, tRCD, CAS, CL
//   conflict : PRE (no earlier than tRAS after the row's ACT), tRP, ACT, tRCD, CAS, CL
// then the data waits for its channel's bus. ACTs in a channel respect tRRD
// and tFAW; column commands tCCD_S (any bank group) and tCCD_L (same group);
// all-bank refresh blocks a channel for tRFC every tREFI (staggered over the
// channels) and closes its rows. Constraints whose time is 0 are skipped, so
// the default Spec reproduces the simple model bit for bit.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "hw/dram/dram_address_map.h"
#include "hw/dram/impl/register.h"

namespace hmmsim::hw::dram_impl {
namespace {

constexpr double kNever = -std::numeric_limits<double>::infinity();

class BankRow final : public IDramTiming {
 public:
  explicit BankRow(const DramSpec& s)
      : m_spec(s),
        m_map(s),
        m_banks(size_t(s.channels) * s.banks_per_channel),
        m_channels(s.channels, Channel{0, kNever, kNever, {kNever, kNever, kNever, kNever}, 0,
                                       std::vector<double>(s.bank_groups, kNever)}),
        m_unit(s.burst_bytes ? s.burst_bytes : s.interleave_bytes),
        m_ccd(s.t_ccd_s_ns > 0 || s.t_ccd_l_ns > 0),
        m_act_limits(s.t_rrd_ns > 0 || s.t_faw_ns > 0) {}

  double access(uint64_t pa, uint64_t len, bool write, double t) override {
    double done = t;
    for (uint64_t a = pa; a < pa + len;) {
      const uint64_t n = std::min(pa + len - a, m_unit - a % m_unit);
      done = std::max(done, unit(a, n, t));
      ++(write ? m_counters.writes : m_counters.reads);
      (write ? m_counters.bytes_written : m_counters.bytes_read) += n;
      a += n;
    }
    return done;
  }

 private:
  struct Bank {
    int64_t open_row = -1;
    double busy_until = 0;  // next command to this bank
    double act_at = kNever;
    int64_t epoch = -1;  // refresh interval of its last command (-1: before any)
  };
  struct Channel {
    double bus_free;
    double last_col, last_act;
    std::array<double, 4> acts;  // last four ACTs, for tFAW
    unsigned act_next;
    std::vector<double> last_col_group;
  };

  // tREFI periods from channel `ch`'s refresh offset to `t` (negative before it).
  int64_t epoch(uint32_t ch, double t) const {
    return int64_t(std::floor((t - refresh_offset(ch)) / m_spec.t_refi_ns));
  }
  double refresh_offset(uint32_t ch) const { return m_spec.t_refi_ns * ch / m_spec.channels; }

  double unit(uint64_t pa, uint64_t len, double t) {
    const DramLocation loc = m_map.decode(pa);
    Bank& b = m_banks[size_t(loc.channel) * m_spec.banks_per_channel + loc.bank];
    Channel& c = m_channels[loc.channel];
    const uint32_t group = m_map.group_of(loc.bank);
    const double cl = m_spec.t_cl_ns;

    double start = std::max(t, b.busy_until);
    if (m_spec.t_refi_ns > 0) {
      // Refresh k >= 1 of a channel runs from offset + k tREFI for tRFC.
      const int64_t e = epoch(loc.channel, start);
      const double refresh_end = refresh_offset(loc.channel) + double(e) * m_spec.t_refi_ns + m_spec.t_rfc_ns;
      if (e >= 1 && start < refresh_end) start = refresh_end;
      if (e >= 1 && e > b.epoch) b.open_row = -1;  // a refresh since its last use precharged it
      b.epoch = std::max(b.epoch, e);
    }
    const bool hit = b.open_row == loc.row, miss = !hit && b.open_row < 0;
    if (!hit && !miss && m_spec.t_ras_ns > 0) start = std::max(start, b.act_at + m_spec.t_ras_ns);

    double lat = cl;
    if (hit) {
      ++m_counters.row_hits;
    } else if (miss) {
      ++m_counters.row_misses;
      lat += m_spec.t_rcd_ns;
    } else {
      ++m_counters.row_conflicts;
      lat += m_spec.t_rp_ns + m_spec.t_rcd_ns;
    }
    if (!hit) start = activate(c, b, start, miss ? 0 : m_spec.t_rp_ns);
    b.open_row = loc.row;

    double ready = start + lat;       // data could start
    double col = start + (lat - cl);  // column command
    const double xfer = m_spec.burst_bytes ? dram_burst_ns(m_spec) : double(len) / m_spec.channel_gbps;
    if (m_ccd) {
      const double earliest = std::max(c.last_col + m_spec.t_ccd_s_ns, c.last_col_group[group] + m_spec.t_ccd_l_ns);
      if (earliest > col) col = earliest, ready = col + cl;
    }
    const double data_start = std::max(ready, c.bus_free);
    const double done = data_start + xfer;
    c.bus_free = done;
    if (m_ccd) {
      // The command really goes out when its data can follow on the bus.
      col = std::max(col, data_start - cl);
      c.last_col = c.last_col_group[group] = col;
    }
    b.busy_until = col + xfer;
    return done;
  }

  // Places the ACT (after a precharge of `pre` ns) no earlier than tRRD
  // after the channel's last ACT and tFAW after its fourth-last; returns the
  // possibly later start.
  double activate(Channel& c, Bank& b, double start, double pre) {
    double act = start + pre;
    if (m_act_limits) {
      const double earliest = std::max(c.last_act + m_spec.t_rrd_ns, c.acts[c.act_next] + m_spec.t_faw_ns);
      if (earliest > act) start += earliest - act, act = earliest;
      c.last_act = act;
      c.acts[c.act_next] = act;
      c.act_next = (c.act_next + 1) % c.acts.size();
    }
    b.act_at = act;
    return start;
  }

  const DramSpec m_spec;
  const DramAddressMap m_map;
  std::vector<Bank> m_banks;
  std::vector<Channel> m_channels;
  const uint64_t m_unit;
  const bool m_ccd, m_act_limits;
};

}  // namespace

std::unique_ptr<IDramTiming> make_bank_row(const DramSpec& s) {
  if (auto e = check_dram_spec(s)) throw std::invalid_argument("DRAM spec: " + e->key + ": " + e->message);
  return std::make_unique<BankRow>(s);
}

}  // namespace hmmsim::hw::dram_impl
