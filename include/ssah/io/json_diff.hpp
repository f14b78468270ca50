#pragma once
/// \file
/// Where two JSON documents differ, as a dotted path ("modalities.0.sample_shape" is written
/// "modalities" for arrays, which compare whole), and the value at such a path as text: what a
/// message needs to say "X is A there but B here" about two configurations.

#include <algorithm>
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace ssah::io {

/// The first path at which `a` and `b` differ, "" when they are equal; "(value)" when they are
/// not objects and differ. Objects compare key by key (a's keys first, then keys only b has).
inline std::string json_first_difference(const nlohmann::json& a, const nlohmann::json& b,
                                         const std::string& path = "") {
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, value] : a.items()) {
      const std::string p = path.empty() ? key : path + "." + key;
      if (!b.contains(key)) return p;
      const std::string d = json_first_difference(value, b.at(key), p);
      if (!d.empty()) return d;
    }
    for (const auto& [key, value] : b.items())
      if (!a.contains(key)) return path.empty() ? key : path + "." + key;
    return "";
  }
  return a == b ? "" : (path.empty() ? std::string("(value)") : path);
}

/// The value at a path of `json_first_difference` as compact JSON text ("absent" when missing).
inline std::string json_value_at(const nlohmann::json& j, const std::string& path) {
  if (path == "(value)") return j.dump();
  const nlohmann::json* p = &j;
  std::size_t begin = 0;
  while (begin <= path.size()) {
    const std::size_t end = std::min(path.find('.', begin), path.size());
    const std::string key = path.substr(begin, end - begin);
    if (!p->is_object() || !p->contains(key)) return "absent";
    p = &p->at(key);
    begin = end + 1;
  }
  return p->dump();
}

}  // namespace ssah::io
