#pragma once
// Named implementations of one component interface, as Ramulator 2 does:
// each kind of component (TLB replacement, TLB organisation, page-walk
// cache, DRAM timing, ...) has one Registry, its implementations are added
// by name, and the config picks one with `impl:`. Plain C++: the cores it
// builds stay testable without a SystemC kernel.
//
// Registration is explicit (each family's registry function adds its
// built-in implementations) rather than by static initialisers, which a
// static library may drop at link time.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace hmmsim::common {

// Thrown by Registry::make for a name nobody registered; the message lists
// the registered names.
struct UnknownImpl : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

template <class Interface, class... Args>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Interface>(Args...)>;

  // `kind` names the family in messages ("TLB replacement").
  explicit Registry(std::string kind) : m_kind(std::move(kind)) {}

  void add(const std::string& name, Factory make) {
    if (!m_factories.emplace(name, std::move(make)).second)
      throw std::logic_error(m_kind + " implementation '" + name + "' registered twice");
  }
  bool has(const std::string& name) const { return m_factories.count(name) != 0; }
  // Sorted, for messages and config choices.
  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (auto& [k, v] : m_factories) n.push_back(k);
    return n;
  }
  std::string names_text() const {
    std::string s;
    for (auto& n : names()) s += (s.empty() ? "" : ", ") + n;
    return s;
  }
  std::unique_ptr<Interface> make(const std::string& name, Args... args) const {
    auto it = m_factories.find(name);
    if (it == m_factories.end())
      throw UnknownImpl("unknown " + m_kind + " '" + name + "'; registered: " + names_text());
    return it->second(std::forward<Args>(args)...);
  }
  const std::string& kind() const { return m_kind; }

 private:
  std::string m_kind;
  std::map<std::string, Factory> m_factories;
};

// A Spec's validation failure: the key (relative to the component's config
// block) and why. The config layer turns it into a ConfigError with file and
// line; constructors throw it as std::invalid_argument.
struct SpecError {
  std::string key;
  std::string message;
};

}  // namespace hmmsim::common
