// libFuzzer target: the .npy reader on arbitrary bytes must return an array whose bytes match
// its shape, or throw ssah::IoError; never crash, leak or allocate more than the input implies.
#include <cstddef>
#include <cstdint>

#include "ssah/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const ssah::io::NpyArray a = ssah::io::parse_npy(data, size, "fuzz.npy");
    a.check_consistent();
    if (a.bytes.size() > size) __builtin_trap();  // the data came from the input
    try {
      (void)a.as<double>();
      ssah::io::check_finite(a);
    } catch (const ssah::Error&) {
      // lossy conversion or NaN: a clear error is the expected outcome
    }
  } catch (const ssah::IoError&) {
  }
  return 0;
}
