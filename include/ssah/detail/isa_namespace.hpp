#pragma once
/// \file
/// `SSAH_ISA_NAMESPACE`: the name of an inline namespace, one per instruction set a translation unit
/// is compiled for, around every inline function and template whose code depends on that set.
///
/// Such code compiles differently in translation units built with different flags (-march, -m...,
/// nvcc): the Hamming kernel choice and dispatch (hashing/hamming.hpp) and the loops around the
/// kernels, which the compiler vectorises (the searches of hashing/, the evaluation of eval/). The
/// linker keeps one copy of an inline function for the whole program, so under one name a program
/// could run code compiled with -march=native where a default-flag translation unit expected code
/// for any x86-64 CPU. Inside `inline namespace SSAH_ISA_NAMESPACE` each instruction set gets its
/// own mangled names; callers still write `ssah::name` or `ssah::detail::name`.
///
/// The kernels of hashing/detail/ are inside it too: a target attribute adds its instruction set to
/// the translation unit's flags rather than replacing them, so an AVX2 kernel instantiated under
/// -march=native may contain AVX-512 code. The public entry points that call them (HammingIndex,
/// evaluate_retrieval, hamming_distances) are inside it, so such a program gets one of each per
/// instruction set (and a link error, not the wrong code, where one is passed between the two).
///
/// This protects the Hamming code only. Like any header-only library (Eigen says the same), the rest
/// of ssah (tensor kernels, std containers) compiles per translation unit too, and the linker keeps
/// one copy of each inline function: build all translation units of a program that run on older
/// CPUs with the same -march flags.

// Whether this translation unit compiles the x86-64 Hamming kernels, each with a target attribute
// (hashing/detail/hamming_popcnt.hpp, hamming_avx2.hpp, hamming_avx512.hpp): GCC or Clang on
// x86-64, host code outside nvcc, unless SSAH_HAMMING_NO_SIMD is defined. Only the portable kernel
// exists otherwise, so the kernel choice differs too: it is part of the namespace's name.
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(__CUDA_ARCH__) && \
    !defined(__CUDACC__) && !defined(SSAH_HAMMING_NO_SIMD)
#define SSAH_HAMMING_X86_KERNELS 1
#else
#define SSAH_HAMMING_X86_KERNELS 0
#endif

// The instruction set this translation unit is compiled for (not the Hamming kernel that runs: see
// hamming_kernel()). A new instruction set whose flags change such code (ARM NEON or SVE, say) gets
// its own name here.
#if !SSAH_HAMMING_X86_KERNELS
#define SSAH_ISA_NAMESPACE isa_no_x86_kernels
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VPOPCNTDQ__)
#define SSAH_ISA_NAMESPACE isa_avx512
#elif defined(__AVX2__)
#define SSAH_ISA_NAMESPACE isa_avx2
#elif defined(__POPCNT__)
#define SSAH_ISA_NAMESPACE isa_popcnt
#else
#define SSAH_ISA_NAMESPACE isa_portable
#endif
