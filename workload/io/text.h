#pragma once
// Small, strict text helpers shared by the trace readers: whitespace
// tokens and numbers that reject anything but the expected digits (no
// locale, no exceptions, no silent truncation).
#include <cstdint>
#include <string>
#include <string_view>

namespace hmmsim::workload::text {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
inline bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Whitespace-separated fields of one line, left to right.
class Tokens {
 public:
  explicit Tokens(std::string_view s) : m_s(s) {}
  bool next(std::string_view& tok) {
    while (m_pos < m_s.size() && is_space(m_s[m_pos])) ++m_pos;
    if (m_pos >= m_s.size()) return false;
    size_t b = m_pos;
    while (m_pos < m_s.size() && !is_space(m_s[m_pos])) ++m_pos;
    tok = m_s.substr(b, m_pos - b);
    return true;
  }
  std::string_view rest() const { return trim(m_s.substr(m_pos < m_s.size() ? m_pos : m_s.size())); }

 private:
  std::string_view m_s;
  size_t m_pos = 0;
};

// Unsigned decimal, digits only.
inline bool parse_udec(std::string_view s, uint64_t& v) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t r = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (r > (UINT64_MAX - d) / 10) return false;
    r = r * 10 + d;
  }
  v = r;
  return true;
}

// Signed decimal: optional '-' or '+', then digits; must fit in int64.
inline bool parse_sdec(std::string_view s, int64_t& v) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  uint64_t m = 0;
  if (!parse_udec(s, m)) return false;
  if (neg ? m > uint64_t(INT64_MAX) + 1 : m > uint64_t(INT64_MAX)) return false;
  v = neg ? static_cast<int64_t>(0 - m) : static_cast<int64_t>(m);
  return true;
}

// Hex with or without a 0x/0X prefix, at most 16 digits.
inline bool parse_hex(std::string_view s, uint64_t& v) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return false;
  uint64_t r = 0;
  for (char c : s) {
    unsigned d;
    if (is_digit(c)) d = unsigned(c - '0');
    else if (c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
    else return false;
    r = (r << 4) | d;
  }
  v = r;
  return true;
}

// A field quoted in an error message, shortened and with unprintable bytes
// replaced, so a binary or garbage line cannot produce a huge message.
inline std::string quote(std::string_view s, size_t max = 40) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (s.size() > max) out.append("...");
  out.push_back('\'');
  return out;
}

}  // namespace hmmsim::workload::text
