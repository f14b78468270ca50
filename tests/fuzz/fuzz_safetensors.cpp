// libFuzzer target: the safetensors reader on arbitrary bytes must return tensors whose bytes
// match their shapes, or throw ssah::IoError; never crash or allocate more than the input holds.
#include <cstddef>
#include <cstdint>

#include "ssah/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const ssah::io::SafetensorsFile f = ssah::io::parse_safetensors(data, size, "fuzz.safetensors");
    std::size_t total = 0;
    for (const auto& [name, t] : f.tensors) {
      t.check_consistent();
      total += t.bytes.size();
    }
    if (total > size) __builtin_trap();
    // Whatever was read can be written again and reads back the same.
    ssah::io::SafetensorsWriter w;
    for (const auto& [name, t] : f.tensors) w.add(name, t);
    for (const auto& [k, v] : f.metadata)
      if (k != ssah::io::safetensors_checksum_key) w.set_metadata(k, v);
    const std::vector<unsigned char> again = w.encode();
    const ssah::io::SafetensorsFile g = ssah::io::parse_safetensors(again.data(), again.size(), "re-encoded");
    if (g.tensors.size() != f.tensors.size() || !g.checksum_verified) __builtin_trap();
    for (const auto& [name, t] : f.tensors)
      if (g.at(name).bytes != t.bytes || g.at(name).shape != t.shape) __builtin_trap();
  } catch (const ssah::IoError&) {
  } catch (const ssah::InvalidArgument&) {
    // a name or metadata value that is not valid UTF-8 cannot be written back
  }
  return 0;
}
