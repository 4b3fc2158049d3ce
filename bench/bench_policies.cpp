// Driver policy hot paths, without the simulator: a prefetcher's decision
// per serviced block, an eviction policy's bookkeeping per GPU access (lru,
// lru4k and tbn see every access) and per victim, and a histogram sample
// (one per batch and stage). items_per_second is decisions, accesses or
// samples per host second. Also the VRAM allocator: a single frame, a 2 MiB
// run found by a scan from the top, a page placed in its block's chunk.
//
//   build/release/bench/hmm_bench --benchmark_filter='Prefetch|Evict|Histogram|Vram'
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/histogram.h"
#include "host/gpu_driver/eviction_policy.h"
#include "host/gpu_driver/prefetch_policy.h"
#include "host/gpu_driver/vram_allocator.h"
#include "host/gpu_driver/vram_chunks.h"

namespace {

using namespace hmmsim::host;

// One block with a quarter of its pages resident and 8 fresh faults.
void BM_PrefetchSelect(benchmark::State& st, const std::string& impl) {
  auto p = prefetch_registry().make(impl, PrefetchSpec{impl, 0.51});
  PrefetchQuery q;
  for (size_t i = 0; i < kBlockPages; i += 4) q.resident.set(i);
  for (size_t i = 3; i < kBlockPages; i += 64) q.faulted.set(i);
  q.eligible.set();
  size_t n = 0;
  for (auto _ : st) {
    n += p->select(q).count();
    benchmark::DoNotOptimize(n);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK_CAPTURE(BM_PrefetchSelect, uvm_tree, std::string("uvm_tree"));
BENCHMARK_CAPTURE(BM_PrefetchSelect, seq64k, std::string("seq64k"));
BENCHMARK_CAPTURE(BM_PrefetchSelect, tbn, std::string("tbn"));

// 64 MiB resident (16384 pages); accesses stream over it line by line.
void BM_EvictOnAccess(benchmark::State& st, const std::string& impl) {
  auto p = eviction_registry().make(impl, EvictionSpec{impl, 1, 0.5});
  constexpr uint64_t kBase = 1ull << 32, kPages = 16384;
  for (uint64_t i = 0; i < kPages; ++i) p->on_resident(kBase + i * 4096);
  uint64_t va = kBase;
  for (auto _ : st) {
    p->on_access(va);
    va += 128;
    if (va >= kBase + kPages * 4096) va = kBase;
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK_CAPTURE(BM_EvictOnAccess, fifo, std::string("fifo"));
BENCHMARK_CAPTURE(BM_EvictOnAccess, lru, std::string("lru"));
BENCHMARK_CAPTURE(BM_EvictOnAccess, lru4k, std::string("lru4k"));
BENCHMARK_CAPTURE(BM_EvictOnAccess, tbn, std::string("tbn"));

// Pick a victim, release its pages, make them resident again elsewhere.
void BM_EvictVictim(benchmark::State& st, const std::string& impl) {
  auto p = eviction_registry().make(impl, EvictionSpec{impl, 1, 0.5});
  constexpr uint64_t kBase = 1ull << 32, kPages = 16384;
  for (uint64_t i = 0; i < kPages; ++i) p->on_resident(kBase + i * 4096);
  uint64_t next = kBase + kPages * 4096;
  for (auto _ : st) {
    auto v = p->victim(0);
    if (!v) break;
    for (uint64_t a = v->va; a < v->va + v->bytes; a += 4096) {
      p->on_released(a);
      p->on_resident(next);
      next += 4096;
    }
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK_CAPTURE(BM_EvictVictim, fifo, std::string("fifo"));
BENCHMARK_CAPTURE(BM_EvictVictim, lru4k, std::string("lru4k"));
BENCHMARK_CAPTURE(BM_EvictVictim, tbn, std::string("tbn"));

void BM_HistogramAdd(benchmark::State& st) {
  hmmsim::common::Histogram h;
  double v = 1;
  for (auto _ : st) {
    h.add(v);
    v = v * 1.37 + 3;
    if (v > 1e9) v = 1;
  }
  benchmark::DoNotOptimize(h.percentile(0.99));
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_HistogramAdd);

}  // namespace

// 16 GiB of VRAM, half of it taken: alloc() then free() of the lowest frame.
void BM_VramAllocFree(benchmark::State& st) {
  VramAllocator v(16ull << 30);
  for (uint64_t i = 0; i < v.total_frames() / 2; ++i) v.alloc();
  for (auto _ : st) {
    const uint64_t pa = v.alloc();
    benchmark::DoNotOptimize(pa);
    v.free(pa);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_VramAllocFree);

// 16 GiB of VRAM where every 2 MiB region but the lowest has one frame
// taken: each 2 MiB run is found after passing 8191 busy regions.
void BM_VramRunWorstCase(benchmark::State& st) {
  VramAllocator v(16ull << 30);
  const uint64_t regions = v.total_frames() / VramAllocator::kRootFrames;
  const uint64_t all = v.alloc_run(v.total_frames());
  for (uint64_t f = 0; f < v.total_frames(); ++f)
    if (f < VramAllocator::kRootFrames || f % VramAllocator::kRootFrames) v.free(all + f * 4096);
  for (auto _ : st) {
    const uint64_t pa = v.alloc_run(VramAllocator::kRootFrames);
    benchmark::DoNotOptimize(pa);
    for (uint64_t f = 0; f < VramAllocator::kRootFrames; ++f) v.free(pa + f * 4096);
  }
  st.counters["regions"] = static_cast<double>(regions);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_VramRunWorstCase);

// 1 GiB of VRAM in 2 MiB chunks: every page of a block placed in its chunk,
// then released (the chunk goes back whole). Items are pages.
void BM_VramChunkPages(benchmark::State& st) {
  VramAllocator v(1ull << 30);
  VramChunks c(v, 2ull << 20);
  uint64_t block = 1ull << 32;
  std::vector<uint64_t> pas(512);
  for (auto _ : st) {
    for (uint64_t i = 0; i < 512; ++i) pas[i] = c.frame_for(block + i * 4096);
    for (uint64_t pa : pas) c.release(pa);
    block += 2ull << 20;
  }
  st.SetItemsProcessed(st.iterations() * 512);
}
BENCHMARK(BM_VramChunkPages);
