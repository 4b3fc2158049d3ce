#include "sim/resolved_config.h"

#include <cstddef>
#include <vector>

namespace hmmsim::sim {

namespace {
// The node at `path`, made on the way when `make`, else nullptr if missing;
// `last` receives the final name token (empty when the path ends in [i]).
nlohmann::json* walk(nlohmann::json& tree, const std::string& path, bool make, nlohmann::json** parent,
                     std::string* last) {
  nlohmann::json* at = &tree;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      continue;
    }
    if (path[i] == '[') {
      const std::size_t close = path.find(']', i);
      const std::size_t idx = std::stoul(path.substr(i + 1, close - i - 1));
      if (!make && (!at->is_array() || at->size() <= idx)) return nullptr;
      if (!at->is_array()) *at = nlohmann::json::array();
      while (at->size() <= idx) at->push_back(nlohmann::json::object());
      *parent = at;
      last->clear();
      at = &(*at)[idx];
      i = close + 1;
      continue;
    }
    std::size_t end = path.find_first_of(".[", i);
    if (end == std::string::npos) end = path.size();
    const std::string name = path.substr(i, end - i);
    if (!make && (!at->is_object() || !at->contains(name))) return nullptr;
    if (!at->is_object()) *at = nlohmann::json::object();
    *parent = at;
    *last = name;
    at = &(*at)[name];
    i = end;
  }
  return at;
}
}  // namespace

void ResolvedConfig::set(const std::string& path, nlohmann::json value) {
  nlohmann::json* parent = nullptr;
  std::string last;
  *walk(tree, path, true, &parent, &last) = std::move(value);
}

void ResolvedConfig::erase(const std::string& path) {
  nlohmann::json* parent = nullptr;
  std::string last;
  if (walk(tree, path, false, &parent, &last) && parent && parent->is_object() && !last.empty()) parent->erase(last);
}

nlohmann::json yaml_to_json(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return nullptr;
  if (n.IsScalar()) return n.Scalar();
  if (n.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& item : n) a.push_back(yaml_to_json(item));
    return a;
  }
  nlohmann::json o = nlohmann::json::object();
  for (const auto& kv : n) o[kv.first.Scalar()] = yaml_to_json(kv.second);
  return o;
}

}  // namespace hmmsim::sim
