#pragma once
// P ranks as P threads of one process, for testing the distributed algorithms in every build (the
// sanitizer builds included) without MPI: run_ranks(P, f) calls f(communicator) on P threads, one
// rank each, and rethrows the first failure. Collectives meet at a barrier; sums are added in rank
// order, as a deterministic MPI reduction would.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "ssah/dist/communicator.hpp"

namespace ssah::test {

class ThreadRank final : public dist::Communicator {
 public:
  struct Shared {
    explicit Shared(int n) : size(n), slots(static_cast<std::size_t>(n)) {}
    std::mutex mutex;
    std::condition_variable arrived_all;
    int size, arrived = 0;
    std::uint64_t generation = 0;
    std::vector<std::vector<unsigned char>> slots;
  };
  ThreadRank(Shared& shared, int rank) : shared_(shared), rank_(rank) {}

  int rank() const noexcept override { return rank_; }
  int size() const noexcept override { return shared_.size; }
  void all_reduce_sum(double* values, std::size_t n) override { sum(values, n); }
  void all_reduce_sum(float* values, std::size_t n) override { sum(values, n); }
  void broadcast(void* data, std::size_t bytes, int root) override {
    const auto all = all_gather(data, rank_ == root ? bytes : 0);
    if (rank_ != root) std::memcpy(data, all[static_cast<std::size_t>(root)].data(), bytes);
  }
  std::vector<std::vector<unsigned char>> all_gather(const void* data, std::size_t bytes) override {
    {
      std::lock_guard<std::mutex> lock(shared_.mutex);
      const auto* p = static_cast<const unsigned char*>(data);
      shared_.slots[static_cast<std::size_t>(rank_)].assign(p, p + bytes);
    }
    barrier();
    std::vector<std::vector<unsigned char>> all;
    {
      std::lock_guard<std::mutex> lock(shared_.mutex);
      all = shared_.slots;
    }
    barrier();  // no rank writes its slot again before every rank has read them all
    return all;
  }

 private:
  template <class T>
  void sum(T* values, std::size_t n) {
    const auto all = all_gather(values, n * sizeof(T));
    for (std::size_t i = 0; i < n; ++i) {
      T s = 0;
      for (const auto& part : all) s += reinterpret_cast<const T*>(part.data())[i];
      values[i] = s;
    }
  }
  void barrier() {
    std::unique_lock<std::mutex> lock(shared_.mutex);
    const std::uint64_t generation = shared_.generation;
    if (++shared_.arrived == shared_.size) {
      shared_.arrived = 0;
      ++shared_.generation;
      shared_.arrived_all.notify_all();
    } else {
      shared_.arrived_all.wait(lock, [&] { return shared_.generation != generation; });
    }
  }

  Shared& shared_;
  int rank_;
};

/// Calls f(rank's communicator) on `ranks` threads; rethrows the lowest rank's exception.
inline void run_ranks(int ranks, const std::function<void(dist::Communicator&)>& f) {
  ThreadRank::Shared shared(ranks);
  std::vector<std::exception_ptr> failures(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      ThreadRank comm(shared, r);
      try {
        f(comm);
      } catch (...) {
        failures[static_cast<std::size_t>(r)] = std::current_exception();
      }
    });
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : failures)
    if (e) std::rethrow_exception(e);
}

}  // namespace ssah::test
