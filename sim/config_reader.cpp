#include "sim/config_reader.h"

#include "sim/config_reader_detail.h"
#include "sim/config_units.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include <yaml-cpp/depthguard.h>  // YAML::DeepRecursion; not pulled in by yaml.h

namespace hmmsim::sim {

namespace fs = std::filesystem;
using namespace units;

// Shared with config_reader_typed.cpp through config_reader_detail.h.
namespace detail {

constexpr const char* kSetFile = "--set";
// Guards against hostile documents: a self-referencing alias ("&a [*a]")
// loads as an infinitely deep tree, and nested aliases ("billion laughs")
// expand to an enormous one. No real config comes near either limit.
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxNodes = 1000000;
constexpr std::size_t kMaxIncludeDepth = 32;
constexpr std::size_t kMaxIncludedFiles = 1000;

std::string format_what(const std::string& file, int line, const std::string& key,
                        const std::string& message) {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  if (!key.empty()) s += key + ": ";
  return s + message;
}

int line_of(const YAML::Mark& m) { return m.is_null() || m.line < 0 ? 0 : m.line + 1; }

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// True if `path` is `prefix` or lies under it ("a.b" is under "a", "a[2]" too).
bool within(const std::string& path, const std::string& prefix) {
  if (!starts_with(path, prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '.' ||
         path[prefix.size()] == '[';
}

bool is_overridden(const ConfigDoc& doc, const std::string& path) {
  for (const auto& o : doc.overridden)
    if (within(path, o)) return true;
  return false;
}

// The file a value at `path` came from: the longest listed prefix wins.
std::string source_of(const std::map<std::string, std::string>& sources,
                      const std::string& default_file, const std::string& path) {
  const std::string* best = &default_file;
  std::size_t best_len = 0;
  for (const auto& [p, f] : sources) {
    if (within(path, p) && (best == &default_file || p.size() >= best_len)) {
      best = &f;
      best_len = p.size();
    }
  }
  return *best;
}

ConfigError error_at(const ConfigDoc& doc, const std::string& keypath, int line, const std::string& message) {
  if (is_overridden(doc, keypath)) return ConfigError(kSetFile, 0, keypath, message);
  return ConfigError(source_of(doc.sources, doc.file, keypath), line, keypath, message);
}

[[noreturn]] void throw_at(const ConfigDoc& doc, const std::string& keypath, int line,
                           const std::string& message) {
  throw error_at(doc, keypath, line, message);
}

// Short rendering of a node for "got '...'" messages; bounded so a huge (or
// alias-expanded) node cannot blow up the message.
void render(const YAML::Node& n, std::string& out, std::size_t budget) {
  if (out.size() > budget) return;
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      for (char c : n.Scalar()) out += (c == '\n') ? std::string("\\n") : std::string(1, c);
      break;
    case YAML::NodeType::Sequence: {
      out += "[";
      bool first = true;
      for (const auto& e : n) {
        if (out.size() > budget) break;
        if (!first) out += ", ";
        first = false;
        render(e, out, budget);
      }
      out += "]";
      break;
    }
    case YAML::NodeType::Map: {
      out += "{";
      bool first = true;
      for (const auto& kv : n) {
        if (out.size() > budget) break;
        if (!first) out += ", ";
        first = false;
        render(kv.first, out, budget);
        out += ": ";
        render(kv.second, out, budget);
      }
      out += "}";
      break;
    }
    default:
      out += "null";
  }
}

std::string describe(const YAML::Node& n) {
  constexpr std::size_t kBudget = 60;
  std::string s;
  render(n, s, kBudget);
  if (s.size() > kBudget) s = s.substr(0, kBudget) + "...";
  return s;
}

std::string got(const YAML::Node& n) { return "got '" + describe(n) + "'"; }

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? sep : "") + items[i];
  return s;
}

std::string range_msg(const std::string& text, const std::string& min, const std::string& max) {
  return "value " + text + " out of range [" + min + ", " + max + "]";
}

// ---- loading ---------------------------------------------------------------

// Rejects what yaml-cpp accepts silently but a config must not contain:
// duplicate keys (yaml-cpp keeps both), non-string keys, runaway aliases.
class Validator {
 public:
  Validator(std::string file, bool with_lines) : file_(std::move(file)), lines_(with_lines) {}

  void walk(const YAML::Node& n, const std::string& path, int depth) {
    if (++count_ > kMaxNodes) error(path, n.Mark(), "document too large (alias expansion?)");
    if (depth > kMaxDepth)
      error(path, n.Mark(), "nested more than " + std::to_string(kMaxDepth) +
                                " levels deep (recursive alias?)");
    if (n.IsMap()) {
      std::map<std::string, int> seen;  // key -> line
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) error(path, kv.first.Mark(), "map keys must be strings, " + got(kv.first));
        const std::string& name = kv.first.Scalar();
        std::string p = join_path(path, name);
        auto [it, fresh] = seen.emplace(name, line_of(kv.first.Mark()));
        if (!fresh)
          error(p, kv.first.Mark(),
                lines_ ? "duplicate key (first given at line " + std::to_string(it->second) + ")"
                       : "duplicate key");
        walk(kv.second, p, depth + 1);
      }
    } else if (n.IsSequence()) {
      std::size_t i = 0;
      for (const auto& e : n) walk(e, path + "[" + std::to_string(i++) + "]", depth + 1);
    }
  }

 private:
  [[noreturn]] void error(const std::string& path, const YAML::Mark& m, const std::string& msg) {
    // A runaway path ("a[0][0][0]...") is cut short to keep the message readable.
    std::string p = path.size() > 60 ? path.substr(0, 60) + "..." : path;
    throw ConfigError(file_, lines_ ? line_of(m) : 0, p, msg);
  }
  std::string file_;
  bool lines_;
  std::size_t count_ = 0;
};

// One YAML document; `file` and `with_lines` only shape the errors.
YAML::Node parse_yaml(const std::string& text, const std::string& file, const std::string& key,
                      bool with_lines) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::DeepRecursion& e) {  // its own message is a bare "bad file"
    throw ConfigError(file, with_lines ? line_of(e.mark) : 0, key,
                      "nested too deeply (more than " + std::to_string(e.depth()) + " levels)");
  } catch (const YAML::Exception& e) {
    throw ConfigError(file, with_lines ? line_of(e.mark) : 0, key, e.msg);
  }
  if (docs.size() > 1)
    throw ConfigError(file, with_lines ? line_of(docs[1].Mark()) : 0, key,
                      "more than one YAML document");
  YAML::Node root = docs.empty() ? YAML::Node() : docs[0];
  Validator(file, with_lines).walk(root, key, 0);
  return root;
}

bool read_text(const std::string& path, std::string& text, std::string& why) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    why = "is a directory";
    return false;
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = errno ? std::strerror(errno) : "cannot open";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    why = "read error";
    return false;
  }
  text = ss.str();
  return true;
}

struct Loaded {
  YAML::Node root;
  std::string file;
  std::map<std::string, std::string> sources;
};

// Records that the value at `p` came from `from`: its effective file for `p`
// plus any finer-grained entries beneath it.
void copy_sources(const Loaded& from, const std::string& p, std::map<std::string, std::string>& to) {
  to[p] = source_of(from.sources, from.file, p);
  for (const auto& [q, f] : from.sources)
    if (q != p && within(q, p)) to[q] = f;
}

bool find_key(const YAML::Node& map, const std::string& key, YAML::Node& k, YAML::Node& v) {
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) {
      k.reset(kv.first);
      v.reset(kv.second);
      return true;
    }
  }
  return false;
}

// Deep merge of two maps into a new map (inputs are never modified, so nodes
// shared through YAML aliases stay intact). `b` wins; a null in `b` over a
// map in `a` keeps the map, as a null map means "nothing set here".
YAML::Node merge_maps(const YAML::Node& a, const Loaded& la, const YAML::Node& b, const Loaded& lb,
                      const std::string& prefix, std::map<std::string, std::string>& sources) {
  // Index both sides by key: keys are unique strings (checked on load).
  std::map<std::string, std::pair<YAML::Node, YAML::Node>> in_b;
  for (const auto& kv : b) in_b.emplace(kv.first.Scalar(), std::make_pair(kv.first, kv.second));
  std::set<std::string> in_a;

  YAML::Node out(YAML::NodeType::Map);
  for (const auto& kv : a) {
    const std::string& name = kv.first.Scalar();
    in_a.insert(name);
    std::string p = join_path(prefix, name);
    auto it = in_b.find(name);
    YAML::Node kb = it == in_b.end() ? YAML::Node() : it->second.first;
    YAML::Node vb = it == in_b.end() ? YAML::Node() : it->second.second;
    if (it == in_b.end() || (kv.second.IsMap() && vb.IsNull())) {
      out.force_insert(kv.first, kv.second);
      copy_sources(la, p, sources);
    } else if (kv.second.IsMap() && vb.IsMap()) {
      sources[p] = source_of(lb.sources, lb.file, p);  // the key node kept is b's
      out.force_insert(kb, merge_maps(kv.second, la, vb, lb, p, sources));
    } else {
      out.force_insert(kb, vb);
      copy_sources(lb, p, sources);
    }
  }
  for (const auto& kv : b) {
    if (in_a.count(kv.first.Scalar())) continue;
    out.force_insert(kv.first, kv.second);
    copy_sources(lb, join_path(prefix, kv.first.Scalar()), sources);
  }
  return out;
}

struct IncludeFrame {
  std::string canonical;
  std::string display;
};

struct LoadContext {
  std::vector<IncludeFrame> stack;  // files being loaded, outermost first
  std::size_t files_loaded = 0;
};

std::string canonical_name(const std::string& path) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(path, ec);
  return ec ? fs::path(path).lexically_normal().string() : c.string();
}

Loaded load_text(const std::string& text, const std::string& file, LoadContext& ctx) {
  Loaded self{parse_yaml(text, file, "", true), file, {}};
  if (!self.root.IsMap()) return self;
  YAML::Node inc_key, inc_list;
  if (!find_key(self.root, "include", inc_key, inc_list)) return self;

  std::vector<YAML::Node> entries;
  if (inc_list.IsScalar()) {
    entries.push_back(inc_list);
  } else if (inc_list.IsSequence()) {
    for (const auto& e : inc_list) entries.push_back(e);
  } else if (!inc_list.IsNull()) {
    throw ConfigError(file, line_of(inc_key.Mark()), "include",
                      "expected a file name or a list of file names, " + got(inc_list));
  }

  Loaded acc{YAML::Node(YAML::NodeType::Map), file, {}};
  fs::path base = fs::path(file).parent_path();
  for (const auto& e : entries) {
    int line = line_of(e.Mark().is_null() ? inc_key.Mark() : e.Mark());
    if (!e.IsScalar() || e.Scalar().empty())
      throw ConfigError(file, line, "include", "expected a file name, " + got(e));
    fs::path p(e.Scalar());
    std::string display = (p.is_absolute() ? p : base / p).lexically_normal().string();
    std::string canon = canonical_name(display);
    for (std::size_t i = 0; i < ctx.stack.size(); ++i) {
      if (ctx.stack[i].canonical != canon) continue;
      std::vector<std::string> chain;
      for (std::size_t j = i; j < ctx.stack.size(); ++j) chain.push_back(ctx.stack[j].display);
      chain.push_back(display);
      throw ConfigError(file, line, "include", "include cycle: " + join(chain, " -> "));
    }
    if (ctx.stack.size() >= kMaxIncludeDepth || ++ctx.files_loaded > kMaxIncludedFiles)
      throw ConfigError(file, line, "include", "too many nested or repeated includes");
    std::string inc_text, why;
    if (!read_text(display, inc_text, why))
      throw ConfigError(file, line, "include", "cannot read '" + display + "': " + why);

    ctx.stack.push_back({canon, display});
    Loaded inc = load_text(inc_text, display, ctx);
    ctx.stack.pop_back();
    if (inc.root.IsNull()) continue;  // an empty file adds nothing
    if (!inc.root.IsMap())
      throw ConfigError(display, line_of(inc.root.Mark()), "",
                        "top level of an included file must be a map, " + got(inc.root));
    std::map<std::string, std::string> sources;
    YAML::Node merged = merge_maps(acc.root, acc, inc.root, inc, "", sources);
    acc.root.reset(merged);
    acc.sources = std::move(sources);
  }

  // This file's own keys (minus `include`) go on top.
  YAML::Node own(YAML::NodeType::Map);
  for (const auto& kv : self.root)
    if (kv.first.Scalar() != "include") own.force_insert(kv.first, kv.second);
  std::map<std::string, std::string> sources;
  YAML::Node merged = merge_maps(acc.root, acc, own, Loaded{own, file, {}}, "", sources);
  return Loaded{merged, file, std::move(sources)};
}

ConfigDoc load_top(const std::string& text, const std::string& file) {
  LoadContext ctx;
  ctx.stack.push_back({canonical_name(file), file});
  try {
    Loaded l = load_text(text, file, ctx);
    return ConfigDoc{l.root, file, {}, std::move(l.sources), nullptr};
  } catch (const YAML::Exception& e) {  // defensive: yaml-cpp misuse must not escape
    throw ConfigError(file, line_of(e.mark), "", e.msg);
  }
}

// Returns a copy of `node` (a map, or null for a missing one) with the value
// at parts[i..] replaced. Maps along the path are rebuilt rather than edited
// so that aliased nodes elsewhere in the document do not change too.
// `created` receives the first path component that did not exist yet.
YAML::Node set_path(const YAML::Node& node, const std::vector<std::string>& parts, std::size_t i,
                    const YAML::Node& value, const std::string& full, std::string& created) {
  const bool last = i + 1 == parts.size();
  if (node.IsSequence()) {  // a list item by its index: buffers.0.bytes
    std::vector<std::string> head(parts.begin(), parts.begin() + i);
    const std::string& p = parts[i];
    const bool digits = !p.empty() && p.size() < 10 && p.find_first_not_of("0123456789") == std::string::npos;
    if (node.size() == 0)
      throw ConfigError(kSetFile, 0, full, "cannot set: '" + join(head, ".") + "' is an empty list");
    if (!digits || std::stoul(p) >= node.size())
      throw ConfigError(kSetFile, 0, full,
                        "cannot set: '" + join(head, ".") + "' is a list of " + std::to_string(node.size()) +
                            " items: name one by its index, 0 to " + std::to_string(node.size() - 1));
    const std::size_t at = std::stoul(p);
    YAML::Node out(YAML::NodeType::Sequence);
    for (std::size_t k = 0; k < node.size(); ++k)
      out.push_back(k != at ? node[k] : last ? value : set_path(node[k], parts, i + 1, value, full, created));
    return out;
  }
  if (!node.IsNull() && node.IsDefined() && !node.IsMap()) {
    std::vector<std::string> head(parts.begin(), parts.begin() + i);
    std::string where = i == 0 ? "the top level" : "'" + join(head, ".") + "'";
    throw ConfigError(kSetFile, 0, full, "cannot set: " + where + " is not a map");
  }
  YAML::Node out(YAML::NodeType::Map);
  bool found = false;
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (!found && kv.first.IsScalar() && kv.first.Scalar() == parts[i]) {
        found = true;
        out.force_insert(kv.first,
                         last ? value : set_path(kv.second, parts, i + 1, value, full, created));
      } else {
        out.force_insert(kv.first, kv.second);
      }
    }
  }
  if (!found) {
    if (created.empty()) {
      std::vector<std::string> head(parts.begin(), parts.begin() + i + 1);
      created = join(head, ".");
    }
    out.force_insert(parts[i],
                     last ? value : set_path(YAML::Node(), parts, i + 1, value, full, created));
  }
  return out;
}

}  // namespace detail

using namespace detail;

ConfigError::ConfigError(std::string file_, int line_, std::string key_, std::string message_)
    : std::runtime_error(format_what(file_, line_, key_, message_)),
      file(std::move(file_)),
      line(line_),
      key(std::move(key_)),
      message(std::move(message_)) {}

ConfigDoc load_config_file(const std::string& path) {
  std::string text, why;
  if (!read_text(path, text, why)) throw ConfigError(path, 0, "", "cannot open file: " + why);
  return load_top(text, path);
}

ConfigDoc load_config_string(const std::string& yaml_text, const std::string& name) {
  return load_top(yaml_text, name);
}

// The first `n` parts of a --set key as config readers name them: list
// items by [i] ("workload.buffers[0].read_mostly"), so that errors about a
// value set this way blame --set.
std::string reader_path(const YAML::Node& root, const std::vector<std::string>& parts, std::size_t n) {
  std::string out;
  YAML::Node cur;
  cur.reset(root);
  for (std::size_t i = 0; i < n; ++i) {
    const YAML::Node& c = cur;
    YAML::Node next;
    if (c.IsSequence()) {
      out += "[" + std::to_string(std::stoul(parts[i])) + "]";  // "01" is item 1
      next.reset(c[std::stoul(parts[i])]);
    } else {
      out += (i ? "." : "") + parts[i];
      if (c.IsMap()) next.reset(c[parts[i]]);
    }
    cur.reset(next);
  }
  return out;
}

void apply_override(ConfigDoc& doc, const std::string& assignment) {
  std::size_t eq = assignment.find('=');
  if (eq == std::string::npos)
    throw ConfigError(kSetFile, 0, "", "expected key=value, got '" + assignment + "'");
  std::string key = trim(assignment.substr(0, eq));
  std::string text = trim(assignment.substr(eq + 1));
  if (key.empty()) throw ConfigError(kSetFile, 0, "", "empty key in '" + assignment + "'");

  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    std::size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (parts.back().empty())
      throw ConfigError(kSetFile, 0, key, "empty path component in '" + key + "'");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }

  try {
    // An empty value is the empty string, not YAML null.
    YAML::Node value(std::string{});
    if (!text.empty()) {
      try {
        value.reset(parse_yaml(text, kSetFile, key, false));
      } catch (const ConfigError& e) {
        throw ConfigError(kSetFile, 0, e.key, "invalid value '" + text + "': " + e.message);
      }
    }
    std::string created;
    doc.root.reset(set_path(doc.root, parts, 0, value, key, created));
    doc.overridden.insert(reader_path(doc.root, parts, parts.size()));
    // Maps the override had to create belong to --set as a whole.
    if (!created.empty())
      doc.overridden.insert(reader_path(doc.root, parts, std::count(created.begin(), created.end(), '.') + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError(kSetFile, 0, key, e.msg);
  }
}

}  // namespace hmmsim::sim
