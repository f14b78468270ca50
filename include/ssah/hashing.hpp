#pragma once
/// \file
/// Binary codes on plain host arrays (no tensors): packing to K-bit codes, Hamming distances with
/// a kernel chosen for the CPU at run time, exact k-NN and radius search, run-time code lengths to
/// compile-time K, and the same search on the device system (thrust_search.hpp).

#include "ssah/hashing/codes.hpp"
#include "ssah/hashing/dispatch.hpp"
#include "ssah/hashing/hamming.hpp"
#include "ssah/hashing/index.hpp"
#include "ssah/hashing/select.hpp"
#include "ssah/hashing/thrust_search.hpp"
