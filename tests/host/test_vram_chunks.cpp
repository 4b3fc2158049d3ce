// VramAllocator (single frames, LIFO, and aligned runs beside them) and
// VramChunks (a migrated page at its VA's offset inside a per-VA-range
// contiguous chunk, a lone frame when that cannot be).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <vector>

#include "host/common/status.h"
#include "host/gpu_driver/vram_allocator.h"
#include "host/gpu_driver/vram_chunks.h"

using namespace hmmsim::host;

namespace {

constexpr uint64_t F = kPageSize;  // one frame
constexpr uint64_t kNone = VramAllocator::kNone;
constexpr uint64_t k64K = 64ull << 10;
constexpr uint64_t k2M = 2ull << 20;

// Lowest base of `frames` free frames in a row aligned to their size.
uint64_t lowest_run(const std::set<uint64_t>& free_frames, uint64_t total, uint64_t frames) {
  for (uint64_t base = 0; base + frames <= total; base += frames) {
    bool ok = true;
    for (uint64_t f = base; ok && f < base + frames; ++f) ok = free_frames.count(f) != 0;
    if (ok) return base * F;
  }
  return kNone;
}

}  // namespace

// ---- VramAllocator ---------------------------------------------------------

TEST(VramAllocator, SingleFramesLowestFirstThenLifo) {
  VramAllocator v(8 * F);
  EXPECT_EQ(v.total_frames(), 8u);
  EXPECT_EQ(v.free_frames(), 8u);
  EXPECT_EQ(v.alloc(), 0u);
  EXPECT_EQ(v.alloc(), 1 * F);
  EXPECT_EQ(v.alloc(), 2 * F);
  v.free(1 * F);
  v.free(0);
  EXPECT_EQ(v.free_frames(), 7u);
  EXPECT_EQ(v.alloc(), 0u);  // the last one freed comes back first
  EXPECT_EQ(v.alloc(), 1 * F);
  EXPECT_EQ(v.alloc(), 3 * F);
}

TEST(VramAllocator, RunsAreAlignedToTheirSize) {
  VramAllocator v(64 * F);
  EXPECT_EQ(v.alloc(), 0u);                // frame 0 taken (a page table, say)
  EXPECT_EQ(v.alloc_run(16), 16 * F);      // 0..15 is not all free
  EXPECT_EQ(v.alloc_run(4), 4 * F);        // 0..3 is not, 4..7 is
  EXPECT_EQ(v.alloc_run(2), 2 * F);        // 2..3
  EXPECT_EQ(v.alloc_run(1), 1 * F);        // a run of one: the lowest free frame
  EXPECT_EQ(v.alloc_run(8), 8 * F);
  EXPECT_EQ(v.alloc_run(32), 32 * F);
  EXPECT_EQ(v.free_frames(), 0u);
  for (uint64_t n : {1, 2, 4, 16, 64, 128}) EXPECT_EQ(v.alloc_run(n), kNone) << n;
  EXPECT_EQ(v.alloc(), kNone);
}

TEST(VramAllocator, RunExhaustionAndFragmentation) {
  VramAllocator v(64 * F);
  EXPECT_EQ(v.alloc_run(128), kNone);  // more than there is
  EXPECT_EQ(v.free_frames(), 64u);
  EXPECT_EQ(v.alloc_run(64), 0u);      // everything
  EXPECT_EQ(v.free_frames(), 0u);
  EXPECT_EQ(v.alloc(), kNone);         // every stack entry is stale now
  for (uint64_t f = 0; f < 64; f += 2) v.free(f * F);  // every other frame
  EXPECT_EQ(v.free_frames(), 32u);
  EXPECT_EQ(v.alloc_run(2), kNone);    // 32 frames free, no two in a row
  EXPECT_EQ(v.alloc_run(1), 0u);
  v.free(1 * F);
  EXPECT_EQ(v.alloc_run(2), kNone);    // 0 is taken again
  v.free(0);
  EXPECT_EQ(v.alloc_run(2), 0u);       // 0..1
  EXPECT_EQ(v.alloc_run(4), kNone);
  EXPECT_EQ(v.free_frames(), 31u);
}

TEST(VramAllocator, AllocSkipsFramesTakenByARun) {
  VramAllocator v(32 * F);
  EXPECT_EQ(v.alloc_run(16), 0u);  // frames 0..15 are still on the stack
  EXPECT_EQ(v.free_frames(), 16u);
  std::set<uint64_t> got;
  for (int i = 0; i < 16; ++i) {
    const uint64_t pa = v.alloc();
    ASSERT_NE(pa, kNone) << i;
    EXPECT_GE(pa, 16 * F) << "frame of the run handed out again";
    got.insert(pa);
  }
  EXPECT_EQ(got.size(), 16u);
  EXPECT_EQ(*got.begin(), 16 * F);  // lowest first
  EXPECT_EQ(v.alloc(), kNone);
  EXPECT_EQ(v.free_frames(), 0u);
}

TEST(VramAllocator, FreedRunFramesComeBackOneByOneOrAsARun) {
  VramAllocator v(32 * F);
  ASSERT_EQ(v.alloc_run(16), 0u);
  v.free(5 * F);
  EXPECT_EQ(v.free_frames(), 17u);
  EXPECT_EQ(v.alloc(), 5 * F);  // freed last: on top of the stack
  EXPECT_EQ(v.alloc_run(16), 16 * F);
  for (uint64_t f = 0; f < 16; ++f) v.free(f * F);
  EXPECT_EQ(v.free_frames(), 16u);
  EXPECT_EQ(v.alloc_run(16), 0u);  // the whole run again, despite stale and fresh stack entries
  EXPECT_EQ(v.alloc(), kNone);
  for (uint64_t f = 0; f < 16; ++f) v.free(f * F);
  // Stale entries below and fresh ones on top: each frame exactly once.
  std::set<uint64_t> got;
  for (uint64_t pa; (pa = v.alloc()) != kNone;) EXPECT_TRUE(got.insert(pa).second) << pa;
  EXPECT_EQ(got.size(), 16u);
}

TEST(VramAllocator, RepeatedRunCyclesStayCorrect) {
  // A chunk that comes and goes many times with no single-frame allocation
  // in between: the free stack gathers an entry per freed frame each time.
  VramAllocator v(64 * F);
  for (int cycle = 0; cycle < 2000; ++cycle) {
    ASSERT_EQ(v.alloc_run(16), 0u) << cycle;
    ASSERT_EQ(v.alloc_run(32), 32 * F) << cycle;
    for (uint64_t f = 0; f < 16; ++f) v.free(f * F);
    for (uint64_t f = 32; f < 64; ++f) v.free(f * F);
  }
  EXPECT_EQ(v.free_frames(), 64u);
  // LIFO: the frames freed last come back first, each once.
  std::vector<uint64_t> got;
  for (uint64_t pa; (pa = v.alloc()) != kNone;) got.push_back(pa);
  ASSERT_EQ(got.size(), 64u);
  EXPECT_EQ(got[0], 63 * F);
  EXPECT_EQ(got[31], 32 * F);
  EXPECT_EQ(got[32], 15 * F);
  EXPECT_EQ(got[47], 0u);
  EXPECT_EQ(got[48], 16 * F);  // never freed since the start: initial order
  EXPECT_EQ(got[63], 31 * F);
}

// Against a reference: a set of free frames and a LIFO list of candidates.
// No frame is ever handed out twice, runs are the lowest aligned fit, and
// alloc() takes the most recently freed frame that is still free.
TEST(VramAllocator, RandomizedAgainstAReference) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    const uint64_t total = 128;
    VramAllocator v(total * F);
    std::mt19937_64 rng(seed);
    std::set<uint64_t> ref_free;
    std::vector<uint64_t> ref_stack;  // top = back
    for (uint64_t f = total; f-- > 0;) {
      ref_free.insert(f);
      ref_stack.push_back(f);
    }
    std::vector<uint64_t> held;  // frames
    auto take = [&](uint64_t f) {
      ASSERT_EQ(ref_free.erase(f), 1u) << "frame " << f << " handed out twice (seed " << seed << ")";
      held.push_back(f);
    };
    for (int step = 0; step < 20000; ++step) {
      const unsigned op = rng() % 10;
      if (op < 3) {  // alloc
        while (!ref_stack.empty() && !ref_free.count(ref_stack.back())) ref_stack.pop_back();
        const uint64_t want = ref_stack.empty() ? kNone : ref_stack.back() * F;
        const uint64_t pa = v.alloc();
        ASSERT_EQ(pa, want) << "seed " << seed << " step " << step;
        if (pa != kNone) {
          ref_stack.pop_back();
          take(pa / F);
        }
      } else if (op < 5) {  // alloc_run
        const uint64_t frames = 1ull << (rng() % 6);
        const uint64_t want = lowest_run(ref_free, total, frames);
        const uint64_t pa = v.alloc_run(frames);
        ASSERT_EQ(pa, want) << "seed " << seed << " step " << step << " frames " << frames;
        if (pa != kNone) {
          ASSERT_EQ(pa % (frames * F), 0u);
          for (uint64_t f = 0; f < frames; ++f) take(pa / F + f);
        }
      } else if (!held.empty()) {  // free a random held frame
        const size_t i = rng() % held.size();
        const uint64_t f = held[i];
        held[i] = held.back();
        held.pop_back();
        v.free(f * F);
        ref_free.insert(f);
        ref_stack.push_back(f);
      }
      ASSERT_EQ(v.free_frames(), ref_free.size()) << "seed " << seed << " step " << step;
    }
    for (uint64_t f : held) v.free(f * F);
    EXPECT_EQ(v.free_frames(), total);
    EXPECT_EQ(v.alloc_run(total), 0u);
  }
}

// ---- VramChunks ------------------------------------------------------------

TEST(VramChunks, FourKiBChunksArePlainFrames) {
  VramAllocator v(16 * F);
  VramChunks c(v, F);
  EXPECT_EQ(c.chunk_bytes(), F);
  EXPECT_EQ(c.frame_for(0x7000), 0u);
  EXPECT_EQ(c.frame_for(0x3000), 1 * F);
  EXPECT_EQ(c.frame_for(0x3000), 2 * F);  // no slot to collide with
  EXPECT_EQ(c.chunks(), 0u);
  EXPECT_EQ(c.s_chunks_allocated, 0u);
  EXPECT_EQ(c.s_fallback_frames, 0u);
  c.release(1 * F);
  EXPECT_EQ(v.free_frames(), 14u);
  EXPECT_EQ(v.alloc(), 1 * F);
}

TEST(VramChunks, PagesSitAtTheirVaOffsetInsideAnAlignedChunk) {
  VramAllocator v(64 * F);
  ASSERT_EQ(v.alloc(), 0u);  // a page table took the lowest frame
  VramChunks c(v, k64K);
  const uint64_t va = 0x7f0000050000ull;  // 64 KiB aligned
  EXPECT_EQ(c.frame_for(va + 3 * F), 0x10000u + 3 * F);
  EXPECT_EQ(c.chunks(), 1u);
  EXPECT_EQ(c.s_chunks_allocated, 1u);
  EXPECT_EQ(v.free_frames(), 64u - 1 - 16);  // the whole chunk is reserved
  EXPECT_EQ(c.frame_for(va + 15 * F), 0x10000u + 15 * F);
  EXPECT_EQ(c.frame_for(va), 0x10000u);
  EXPECT_EQ(c.chunks(), 1u);
  // The neighbouring VA range gets a chunk of its own, the next aligned run.
  EXPECT_EQ(c.frame_for(va + k64K + 2 * F), 0x20000u + 2 * F);
  // A range below gets the next free run too: placement is by VRAM address.
  EXPECT_EQ(c.frame_for(va - k64K + 9 * F), 0x30000u + 9 * F);
  EXPECT_EQ(c.chunks(), 3u);
  EXPECT_EQ(c.s_chunks_allocated, 3u);
  EXPECT_EQ(c.s_fallback_frames, 0u);
  // Reserved but unused slots are never handed out as single frames.
  std::set<uint64_t> singles;
  for (uint64_t pa; (pa = v.alloc()) != kNone;) singles.insert(pa);
  EXPECT_EQ(singles.size(), 15u);  // frames 1..15
  for (uint64_t pa : singles) EXPECT_LT(pa, 0x10000u);
}

TEST(VramChunks, TakenSlotFallsBackToALoneFrame) {
  VramAllocator v(64 * F);
  VramChunks c(v, k64K);
  const uint64_t va = 0x40000;
  EXPECT_EQ(c.frame_for(va + 4 * F), 4 * F);  // chunk at 0
  // Same VA again (a COW copy, say): its slot is taken.
  const uint64_t lone = c.frame_for(va + 4 * F);
  EXPECT_EQ(lone, 16 * F);  // the lowest single frame outside the chunk
  EXPECT_EQ(c.s_fallback_frames, 1u);
  EXPECT_EQ(c.chunks(), 1u);
  EXPECT_EQ(v.free_frames(), 64u - 16 - 1);
  // The lone frame goes straight back; the chunk is untouched.
  c.release(lone);
  EXPECT_EQ(v.free_frames(), 64u - 16);
  EXPECT_EQ(c.chunks(), 1u);
  // The slot stays taken until the chunk page is released.
  c.release(4 * F);
  EXPECT_EQ(c.chunks(), 0u);  // that was its only page: the chunk went back whole
  EXPECT_EQ(v.free_frames(), 64u);
}

TEST(VramChunks, NoChunkFitsFallsBackToSingleFrames) {
  VramAllocator v(32 * F);
  // Fragment VRAM: every 64 KiB run has a frame in use.
  ASSERT_EQ(v.alloc_run(32), 0u);
  for (uint64_t f = 0; f < 32; ++f)
    if (f != 3 && f != 20) v.free(f * F);
  VramChunks c(v, k64K);
  const uint64_t pa = c.frame_for(0x10000 + 5 * F);
  ASSERT_NE(pa, kNone);
  EXPECT_NE(pa, 3 * F);
  EXPECT_NE(pa, 20 * F);
  EXPECT_EQ(c.s_fallback_frames, 1u);
  EXPECT_EQ(c.s_chunks_allocated, 0u);
  EXPECT_EQ(c.chunks(), 0u);
  EXPECT_EQ(v.free_frames(), 29u);
  c.release(pa);  // not in any chunk: a plain free
  EXPECT_EQ(v.free_frames(), 30u);
  // Once a run is free again, the next page of the range gets a chunk.
  v.free(20 * F);
  EXPECT_EQ(c.frame_for(0x10000 + 6 * F), 16 * F + 6 * F);
  EXPECT_EQ(c.s_chunks_allocated, 1u);
}

TEST(VramChunks, FullVramYieldsNone) {
  VramAllocator v(16 * F);
  VramChunks c(v, k64K);
  EXPECT_EQ(c.frame_for(0x0), 0u);  // one chunk is all of VRAM
  EXPECT_EQ(c.frame_for(0x10000), kNone);
  EXPECT_EQ(c.frame_for(0x0), kNone);  // taken slot, no lone frame left
  EXPECT_EQ(c.s_fallback_frames, 2u);
  EXPECT_EQ(c.frame_for(0x1000), 1 * F);  // a free slot of the chunk still works
}

TEST(VramChunks, ChunkGoesBackWholeWhenItsLastPageLeaves) {
  VramAllocator v(64 * F);
  VramChunks c(v, k64K);
  const uint64_t va = 0x1230000;
  std::vector<uint64_t> pas;
  for (uint64_t i : {0, 5, 15}) pas.push_back(c.frame_for(va + i * F));
  EXPECT_EQ(pas, (std::vector<uint64_t>{0, 5 * F, 15 * F}));
  EXPECT_EQ(v.free_frames(), 48u);
  c.release(15 * F);
  c.release(0);
  EXPECT_EQ(c.chunks(), 1u);
  EXPECT_EQ(v.free_frames(), 48u);  // nothing goes back before the last page
  // A released slot is free for the same VA again.
  EXPECT_EQ(c.frame_for(va), 0u);
  c.release(0);
  c.release(5 * F);
  EXPECT_EQ(c.chunks(), 0u);
  EXPECT_EQ(v.free_frames(), 64u);
  EXPECT_EQ(v.alloc_run(64), 0u);  // all of it is free and whole
  for (uint64_t f = 0; f < 64; ++f) v.free(f * F);
  // The VA range gets a fresh chunk next time.
  EXPECT_EQ(c.frame_for(va + 7 * F), 7 * F);
  EXPECT_EQ(c.s_chunks_allocated, 2u);
}

TEST(VramChunks, TwoMiBChunks) {
  VramAllocator v(8ull << 20);
  ASSERT_EQ(v.alloc(), 0u);
  VramChunks c(v, k2M);
  const uint64_t va = 3 * k2M;
  EXPECT_EQ(c.frame_for(va + 0x5000), k2M + 0x5000);
  EXPECT_EQ(c.frame_for(va + k2M - F), 2 * k2M - F);
  EXPECT_EQ(c.frame_for(va + 0x40000), k2M + 0x40000);
  EXPECT_EQ(v.free_frames(), 2048u - 1 - 512);
  EXPECT_EQ(c.frame_for(0x1000), 2 * k2M + 0x1000);
  EXPECT_EQ(c.frame_for(9 * k2M), 3 * k2M);
  EXPECT_EQ(c.frame_for(11 * k2M), F);  // no 2 MiB run left: a lone frame
  EXPECT_EQ(c.s_fallback_frames, 1u);
  EXPECT_EQ(c.chunks(), 3u);
  for (uint64_t off : {uint64_t(0x5000), k2M - F, uint64_t(0x40000)}) c.release(k2M + off);
  EXPECT_EQ(c.chunks(), 2u);
  EXPECT_EQ(v.free_frames(), 2048u - 1 - 2 * 512 - 1);
}

// Random frame_for / release over a few VA ranges: live pages never share a
// frame, chunk pages sit at their VA offset, and everything comes back.
TEST(VramChunks, RandomizedNoFrameSharedAndAllReturned) {
  for (uint64_t chunk : {F, k64K, k2M}) {
    const uint64_t total = 2048;  // 8 MiB
    VramAllocator v(total * F);
    VramChunks c(v, chunk);
    std::mt19937_64 rng(chunk);
    std::map<uint64_t, uint64_t> live;  // pa -> va
    std::vector<uint64_t> pas;
    for (int step = 0; step < 8000; ++step) {
      if (rng() % 3 != 0 || pas.empty()) {
        // 6 MiB of VA, a fifth of it touched twice (COW-like duplicates).
        const uint64_t va = 0x10000000 + (rng() % 1536) * F;
        const uint64_t fb = c.s_fallback_frames;
        const uint64_t pa = c.frame_for(va);
        if (pa == kNone) continue;
        ASSERT_EQ(pa % F, 0u);
        ASSERT_LT(pa, total * F);
        ASSERT_TRUE(live.emplace(pa, va).second) << "frame 0x" << std::hex << pa << " handed out twice";
        if (chunk > F && c.s_fallback_frames == fb) {
          ASSERT_EQ(pa % chunk, va % chunk);
        }
        pas.push_back(pa);
      } else {
        const size_t i = rng() % pas.size();
        const uint64_t pa = pas[i];
        pas[i] = pas.back();
        pas.pop_back();
        live.erase(pa);
        c.release(pa);
      }
      ASSERT_LE(live.size() + v.free_frames(), total);
    }
    for (uint64_t pa : pas) c.release(pa);
    EXPECT_EQ(c.chunks(), 0u) << chunk;
    EXPECT_EQ(v.free_frames(), total) << chunk;
    EXPECT_EQ(v.alloc_run(total), 0u) << chunk;
  }
}
