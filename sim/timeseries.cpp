#include "sim/timeseries.h"

#include "sim/csv_number.h"

namespace hmmsim::sim {

TimeSeries::TimeSeries(sc_core::sc_module_name name, const TimeSeriesSpec& spec)
    : sc_module(name), m_spec(spec), m_epoch_ns(spec.epoch_ns) {
  SC_HAS_PROCESS(TimeSeries);
  if (m_spec.epoch_ns > 0) SC_THREAD(run);
}

void TimeSeries::column(const std::string& name, std::function<double()> read, bool delta) {
  const double v = read();
  m_cols.push_back(Column{name, std::move(read), delta, v});
}

void TimeSeries::run() {
  uint64_t idle = 0;
  while (idle < m_spec.idle_epochs) {
    wait(sc_core::sc_time(m_epoch_ns, sc_core::SC_NS));
    const size_t before = m_rows.size();
    sample(sc_core::sc_time_stamp().to_seconds() * 1e9);
    bool changed = false;
    for (size_t c = 0; c < m_cols.size(); ++c)
      if (m_cols[c].delta && m_rows.size() > before && m_rows.back()[c + 1] != 0) changed = true;
    idle = changed ? 0 : idle + 1;
  }
}

void TimeSeries::sample(double now_ns) {
  if (now_ns <= m_last_ns && !m_rows.empty()) return;
  std::vector<double> row{now_ns};
  for (Column& c : m_cols) {
    const double v = c.read();
    row.push_back(c.delta ? v - c.last : v);
    c.last = v;
  }
  m_rows.push_back(std::move(row));
  m_last_ns = now_ns;
  if (m_rows.size() >= m_spec.max_rows) halve();
}

void TimeSeries::halve() {
  std::vector<std::vector<double>> merged;
  for (size_t i = 0; i < m_rows.size(); i += 2) {
    if (i + 1 == m_rows.size()) {
      merged.push_back(m_rows[i]);
      break;
    }
    std::vector<double> r = m_rows[i + 1];  // the later row's end time and levels
    for (size_t c = 0; c < m_cols.size(); ++c)
      if (m_cols[c].delta) r[c + 1] += m_rows[i][c + 1];
    merged.push_back(std::move(r));
  }
  m_rows = std::move(merged);
  m_epoch_ns *= 2;
}

std::string TimeSeries::csv(double now_ns) {
  if (m_spec.epoch_ns > 0 && now_ns > m_last_ns) sample(now_ns);
  std::string out = "time_us";
  for (const Column& c : m_cols) out += "," + c.name;
  out += "\n";
  for (const auto& r : m_rows) {
    append_number(out, r[0] / 1000.0, std::chars_format::fixed, 3);
    for (size_t c = 1; c < r.size(); ++c) {
      out += ',';
      append_number(out, r[c], std::chars_format::general, 12);
    }
    out += '\n';
  }
  return out;
}

}  // namespace hmmsim::sim
