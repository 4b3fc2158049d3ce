#include "sim/scenario/data_pattern.h"

#include <cstring>

namespace hmmsim::sim {

void DataPattern::render(uint64_t off, uint8_t* dst, uint64_t len) const {
  if (kind == Kind::Fill) {
    std::memset(dst, static_cast<int>(value & 0xFF), len);
    return;
  }
  for (uint64_t i = 0; i < len; ++i) {
    const uint64_t at = off + i;
    const int64_t k = static_cast<int64_t>(at / 4);
    int64_t v = 0;
    switch (kind) {
      case Kind::Index: v = k; break;
      case Kind::Neg: v = -k; break;
      case Kind::IndexPlus: v = k + value; break;
      case Kind::Const: v = value; break;
      case Kind::Fill: break;
    }
    const uint32_t w = static_cast<uint32_t>(v);
    dst[i] = static_cast<uint8_t>(w >> (8 * (at % 4)));
  }
}

std::string DataPattern::describe() const {
  switch (kind) {
    case Kind::Index: return "index";
    case Kind::Neg: return "neg";
    case Kind::IndexPlus: return "index_plus " + std::to_string(value);
    case Kind::Const: return value == 0 ? "zero" : "const " + std::to_string(value);
    case Kind::Fill: return "fill " + std::to_string(value);
  }
  return "?";
}

DataPattern parse_pattern(ConfigReader& r, const std::string& key) {
  const YAML::Node n = r.node()[key];
  r.mark_used(key);
  DataPattern p;
  if (n.IsScalar()) {
    const std::string s = n.Scalar();
    if (s == "index") return p;
    if (s == "neg") return DataPattern{DataPattern::Kind::Neg, 0};
    if (s == "zero") return DataPattern{DataPattern::Kind::Const, 0};
    r.fail(key, "unknown pattern '" + s + "'; use index, neg, zero, {index_plus: c}, {const: v} or {fill: b}");
  }
  if (!n.IsMap() || n.size() != 1) r.fail(key, "a pattern is a word or a map with one key");
  ConfigReader m(r.child(key));
  if (m.has("index_plus")) p = DataPattern{DataPattern::Kind::IndexPlus, m.i64("index_plus", 0, INT32_MIN, INT32_MAX)};
  else if (m.has("const")) p = DataPattern{DataPattern::Kind::Const, m.i64("const", 0, INT32_MIN, UINT32_MAX)};
  else if (m.has("fill")) p = DataPattern{DataPattern::Kind::Fill, static_cast<int64_t>(m.u64("fill", 0, 0, 255))};
  m.finish();
  return p;
}

DataExpect parse_data_expect(ConfigReader& r, const std::string& key) {
  DataExpect e;
  if (!r.node()[key].IsSequence()) {
    e.segments.push_back({UINT64_MAX, parse_pattern(r, key)});
    return e;
  }
  std::vector<ConfigReader> segs = r.list(key);
  for (size_t i = 0; i < segs.size(); ++i) {
    ConfigReader& seg = segs[i];
    const uint64_t pages = seg.u64("pages", UINT64_MAX, 1, UINT64_MAX);
    if (pages == UINT64_MAX && i + 1 != segs.size()) seg.fail("", "only the last segment may run to the end");
    if (!seg.has("pattern")) seg.fail("", "a segment needs a pattern");
    e.segments.push_back({pages, parse_pattern(seg, "pattern")});
    seg.finish();
  }
  return e;
}

uint64_t DataExpect::covered() const {
  uint64_t n = 0;
  for (const Segment& s : segments) n = s.pages == UINT64_MAX ? UINT64_MAX : n + s.pages;
  return n;
}

std::vector<uint8_t> DataExpect::render(uint64_t first_page, uint64_t pages) const {
  std::vector<uint8_t> out(pages * 4096, 0);
  uint64_t at = 0;  // pages rendered
  for (const Segment& s : segments) {
    if (at >= pages) break;
    const uint64_t n = std::min(s.pages, pages - at);
    s.pattern.render((first_page + at) * 4096, out.data() + at * 4096, n * 4096);
    at += n;
  }
  return out;
}

}  // namespace hmmsim::sim
