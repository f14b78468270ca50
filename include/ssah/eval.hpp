#pragma once
/// \file
/// Retrieval quality on plain host arrays: label tables, mAP (over the whole ranking and at a
/// cut-off), precision-recall and precision@N curves, and mAP on the device system
/// (thrust_metrics.hpp). Includes hashing.hpp.

#include "ssah/eval/labels.hpp"
#include "ssah/eval/metrics.hpp"
#include "ssah/eval/thrust_metrics.hpp"
#include "ssah/hashing.hpp"
