#pragma once
// MAP of Hamming ranking for the model tests, through the library's evaluation layer.
#include <cstddef>
#include <vector>

#include "ssah/eval/labels.hpp"
#include "ssah/eval/metrics.hpp"
#include "ssah/hashing/codes.hpp"

namespace ssah::test {

/// mAP (stable ties) of ranking `database` codes for each `queries` code; codes are real-valued
/// [rows, K] arrays (bit = value > 0), labels multi-hot [rows, classes].
template <int K>
double hamming_map(const std::vector<float>& queries, const std::vector<float>& database,
                   const std::vector<float>& query_labels, const std::vector<float>& database_labels,
                   std::size_t classes) {
  EvalOptions options;
  options.precision_at.clear();
  options.pr_curve = false;
  options.per_query = false;
  return evaluate_retrieval(PackedCodes<K>::from_values(queries), PackedCodes<K>::from_values(database),
                            LabelMatrix::from_multi_hot(query_labels, classes),
                            LabelMatrix::from_multi_hot(database_labels, classes), options)
      .map;
}

/// The expected mAP of a random ranking: every query's AP is about its fraction of relevant items.
inline double map_of_random_ranking(const std::vector<float>& labels, std::size_t rows, std::size_t classes) {
  double total = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    std::size_t relevant = 0;
    for (std::size_t j = 0; j < rows; ++j) {
      bool share = false;
      for (std::size_t c = 0; c < classes && !share; ++c)
        share = labels[i * classes + c] > 0 && labels[j * classes + c] > 0;
      relevant += share;
    }
    total += double(relevant) / double(rows);
  }
  return total / double(rows);
}

}  // namespace ssah::test
