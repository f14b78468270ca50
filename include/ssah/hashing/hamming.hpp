#pragma once
/// \file
/// Hamming distance between packed codes (see codes.hpp), specialised on the code length K.
///
/// - `HammingComputer<K>` holds one query in registers and XORs + popcounts one database code per
///   call; it also runs inside Thrust kernels (CUDA: `__popcll`).
/// - `hamming_distances<K>` computes the distances from one query to a run of consecutive codes.
///   Three kernels give the same distances bit for bit: AVX-512 (VPOPCNTDQ + BW: 8 to 32 codes per
///   instruction), AVX2 (nibble lookup with VPSHUFB) and portable (one popcount per 64-bit word, the
///   POPCNT instruction where the CPU has it), one header each in hashing/detail/.
/// - **The kernel is chosen at run time**, once per process (`hamming_kernel()`): the best one the
///   CPU supports, whatever flags the including translation unit was compiled with. On x86-64 with
///   GCC or Clang every kernel is compiled with target attributes, and the hot loops are instantiated
///   once per kernel (`detail::HammingIsa*`), so that a default-flag build of `ssah` or of a user's
///   program runs the AVX-512 kernel on a CPU that has it. The environment variable
///   `SSAH_HAMMING_ISA=portable|avx2|avx512` caps the choice (for tests and comparisons); a
///   `SearchOptions::kernel` / `EvalOptions::kernel` other than `automatic` picks one per call.
/// - Generic code that surrounds the kernels lives in the inline namespace `SSAH_ISA_NAMESPACE`
///   (ssah/detail/isa_namespace.hpp), named after the instruction set the translation unit is
///   compiled for, so that translation units compiled with different flags never share (and never
///   swap) its instantiations.
///
/// A kernel for another instruction set: a header in hashing/detail/ like hamming_avx2.hpp (the
/// kernel compiled with a target attribute, a `HammingIsa*` policy), included here; a
/// `HammingKernel` value, its CPU check in the run-time choice below, and a case in
/// `SSAH_HAMMING_DISPATCH`, with the kernel's statement at each use of it (mask_le64 and
/// hamming_distances below, scan_topk in select.hpp).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ssah/config.hpp"
#include "ssah/detail/isa_namespace.hpp"
#include "ssah/error.hpp"
#include "ssah/hashing/detail/hamming_avx2.hpp"
#include "ssah/hashing/detail/hamming_avx512.hpp"
#include "ssah/hashing/detail/hamming_popcnt.hpp"
#include "ssah/hashing/detail/hamming_portable.hpp"

namespace ssah {

/// The distance kernels (see the file comment). `automatic` is the process-wide choice,
/// `hamming_kernel()`.
enum class HammingKernel { automatic, portable, avx2, avx512 };

/// "automatic", "portable", "avx2" or "avx512".
inline const char* to_string(HammingKernel kernel) noexcept {
  switch (kernel) {
    case HammingKernel::portable:
      return "portable";
    case HammingKernel::avx2:
      return "avx2";
    case HammingKernel::avx512:
      return "avx512";
    default:
      return "automatic";
  }
}

namespace detail {

inline namespace SSAH_ISA_NAMESPACE {

/// Whether this CPU can run the AVX-512 / AVX2 kernels, and the POPCNT instruction.
#if SSAH_HAMMING_X86_KERNELS
inline bool cpu_has_avx512_kernels() noexcept {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("popcnt");
}
inline bool cpu_has_avx2_kernels() noexcept {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
}
inline bool cpu_has_popcnt() noexcept { return __builtin_cpu_supports("popcnt"); }
#else
inline bool cpu_has_avx512_kernels() noexcept { return false; }
inline bool cpu_has_avx2_kernels() noexcept { return false; }
inline bool cpu_has_popcnt() noexcept { return false; }
#endif  // SSAH_HAMMING_X86_KERNELS

/// Whether this CPU runs `kernel` (the portable one everywhere).
inline bool cpu_supports(HammingKernel kernel) noexcept {
  switch (kernel) {
    case HammingKernel::avx512:
      return cpu_has_avx512_kernels();
    case HammingKernel::avx2:
      return cpu_has_avx2_kernels();
    default:
      return true;
  }
}

/// The kernel named by SSAH_HAMMING_ISA (portable, avx2 or avx512), automatic when it is unset or
/// empty. Throws InvalidArgument for any other value.
inline HammingKernel hamming_kernel_from_environment() {
  const char* value = std::getenv("SSAH_HAMMING_ISA");
  if (value == nullptr || *value == '\0') return HammingKernel::automatic;
  for (HammingKernel k : {HammingKernel::portable, HammingKernel::avx2, HammingKernel::avx512})
    if (std::strcmp(value, to_string(k)) == 0) return k;
  throw InvalidArgument(std::string("SSAH_HAMMING_ISA='") + value + "': expected portable, avx2 or avx512");
}

/// The best kernel this CPU runs, at most `cap` (automatic: no cap).
inline HammingKernel best_hamming_kernel(HammingKernel cap = HammingKernel::automatic) noexcept {
  const bool capped = cap != HammingKernel::automatic;
  if ((!capped || cap == HammingKernel::avx512) && cpu_has_avx512_kernels()) return HammingKernel::avx512;
  if ((!capped || cap != HammingKernel::portable) && cpu_has_avx2_kernels()) return HammingKernel::avx2;
  return HammingKernel::portable;
}

/// Whether the portable kernel runs its POPCNT-compiled instance (x86-64 CPUs with POPCNT).
inline bool portable_kernel_uses_popcnt() noexcept {
  static const bool uses = cpu_has_popcnt();
  return uses;
}

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail

inline namespace SSAH_ISA_NAMESPACE {

/// The kernel that searches and evaluations use unless told otherwise: the best one this CPU
/// runs, capped by SSAH_HAMMING_ISA when it is set (a cap above what the CPU runs gives the best
/// it runs). Chosen once per process (per instruction-set namespace); throws InvalidArgument when SSAH_HAMMING_ISA is
/// malformed.
inline HammingKernel hamming_kernel() {
  static const HammingKernel chosen = detail::best_hamming_kernel(detail::hamming_kernel_from_environment());
  return chosen;
}

/// `requested` itself, or hamming_kernel() for automatic. Throws InvalidArgument when this CPU
/// cannot run the requested kernel.
inline HammingKernel resolve_hamming_kernel(HammingKernel requested) {
  if (requested == HammingKernel::automatic) return hamming_kernel();
  SSAH_CHECK_AS(InvalidArgument, detail::cpu_supports(requested), "the ", to_string(requested),
                " Hamming kernel needs instructions this CPU (or this build) lacks");
  return requested;
}

/// What runs for `kernel` (automatic: hamming_kernel()): "avx512", "avx2", "portable (popcnt)" or
/// "portable". Printed by `ssah search` and `ssah eval`.
inline std::string hamming_kernel_name(HammingKernel kernel = HammingKernel::automatic) {
  const HammingKernel k = resolve_hamming_kernel(kernel);
  if (k == HammingKernel::portable && detail::portable_kernel_uses_popcnt()) return "portable (popcnt)";
  return to_string(k);
}

}  // namespace SSAH_ISA_NAMESPACE

namespace detail {

/// Runs the statement for `kernel` (resolved: not automatic): `portable_call`, or `popcnt_call` when
/// the portable kernel runs its POPCNT instance, `avx2_call`, `avx512_call`. A macro because only the
/// portable statement exists where the x86 kernels are not compiled (other CPUs, nvcc).
#if SSAH_HAMMING_X86_KERNELS
#define SSAH_HAMMING_DISPATCH(kernel, portable_call, popcnt_call, avx2_call, avx512_call) \
  switch (kernel) {                                                                       \
    case ::ssah::HammingKernel::avx512:                                                   \
      avx512_call;                                                                        \
      break;                                                                              \
    case ::ssah::HammingKernel::avx2:                                                     \
      avx2_call;                                                                          \
      break;                                                                              \
    default:                                                                              \
      if (::ssah::detail::portable_kernel_uses_popcnt()) {                                \
        popcnt_call;                                                                      \
      } else {                                                                            \
        portable_call;                                                                    \
      }                                                                                   \
  }
#else
#define SSAH_HAMMING_DISPATCH(kernel, portable_call, popcnt_call, avx2_call, avx512_call) \
  do {                                                                                    \
    (void)(kernel);                                                                       \
    portable_call;                                                                        \
  } while (0)
#endif

inline namespace SSAH_ISA_NAMESPACE {

/// Bit i set when d[i] <= t, for the 64 distances at d, with `kernel` (resolved).
inline std::uint64_t mask_le64(HammingKernel kernel, const std::uint16_t* d, std::uint16_t t) noexcept {
  std::uint64_t m = 0;
  SSAH_HAMMING_DISPATCH(kernel, (m = mask_le64_portable(d, t)), (m = mask_le64_portable(d, t)),
                        (m = mask_le64_avx2(d, t)), (m = mask_le64_avx512(d, t)));
  return m;
}

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail

inline namespace SSAH_ISA_NAMESPACE {

/// Hamming distances from `query` to the n consecutive codes at `codes` (K / 8 bytes each), written
/// to out[0..n), with `kernel`, which must be one this CPU runs: what resolve_hamming_kernel() or
/// hamming_kernel() returned, resolved once outside the loop over queries (another is an illegal
/// instruction; automatic, not resolved, runs the portable kernel).
template <int K>
inline void hamming_distances(HammingKernel kernel, const std::uint8_t* query, const std::uint8_t* codes, std::size_t n,
                              std::uint16_t* out) noexcept {
  SSAH_HAMMING_DISPATCH(kernel, (detail::hamming_block_portable<K>(query, codes, n, out)),
                        (detail::hamming_block_popcnt<K>(query, codes, n, out)),
                        (detail::hamming_block_avx2<K>(query, codes, n, out)),
                        (detail::hamming_block_avx512<K>(query, codes, n, out)));
}

/// The same with hamming_kernel(), the best kernel this CPU runs (InvalidArgument when
/// SSAH_HAMMING_ISA is malformed).
template <int K>
inline void hamming_distances(const std::uint8_t* query, const std::uint8_t* codes, std::size_t n, std::uint16_t* out) {
  hamming_distances<K>(hamming_kernel(), query, codes, n, out);
}

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace ssah
