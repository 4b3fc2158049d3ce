// VramAllocator (single frames lowest first, aligned runs highest first, so
// the two gather at opposite ends of VRAM) and VramChunks (a migrated page
// at its VA's offset inside a per-VA-range contiguous chunk, sized to its
// VMA; a 64 KiB piece or a lone frame when no chunk can be had).
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
using Fit = VramChunks::Fit;

// Highest base of `frames` free frames in a row aligned to their size.
uint64_t highest_run(const std::vector<bool>& is_free, uint64_t frames) {
  const uint64_t total = is_free.size();
  for (uint64_t base = (total / frames) * frames; base >= frames;) {
    base -= frames;
    bool ok = true;
    for (uint64_t f = base; ok && f < base + frames; ++f) ok = is_free[f];
    if (ok) return base * F;
  }
  return kNone;
}

}  // namespace

// ---- VramAllocator ---------------------------------------------------------

TEST(VramAllocator, SingleFramesComeLowestFirst) {
  VramAllocator v(8 * F);
  EXPECT_EQ(v.total_frames(), 8u);
  EXPECT_EQ(v.free_frames(), 8u);
  EXPECT_EQ(v.alloc(), 0u);
  EXPECT_EQ(v.alloc(), 1 * F);
  EXPECT_EQ(v.alloc(), 2 * F);
  v.free(0);
  v.free(1 * F);
  EXPECT_EQ(v.free_frames(), 7u);
  EXPECT_EQ(v.alloc(), 0u);  // the lowest, though 1 was freed last (no LIFO)
  EXPECT_EQ(v.alloc(), 1 * F);
  EXPECT_EQ(v.alloc(), 3 * F);
  v.free(2 * F);
  EXPECT_EQ(v.alloc(), 2 * F);  // a frame freed below the others comes back first
  EXPECT_EQ(v.alloc(), 4 * F);
}

TEST(VramAllocator, RunsAreAlignedToTheirSizeHighestFirst) {
  VramAllocator v(64 * F);
  EXPECT_EQ(v.alloc(), 0u);             // frame 0 taken (a page table, say)
  EXPECT_EQ(v.alloc_run(32), 32 * F);   // the top half
  EXPECT_EQ(v.alloc_run(16), 16 * F);   // the highest free 16
  EXPECT_EQ(v.alloc_run(4), 12 * F);
  EXPECT_EQ(v.alloc_run(2), 10 * F);
  EXPECT_EQ(v.alloc_run(1), 9 * F);     // a run of one: the highest free frame
  EXPECT_EQ(v.free_frames(), 8u);       // 1..8 ...
  EXPECT_EQ(v.alloc_run(8), kNone);     // ... but no aligned 8 among them
  EXPECT_EQ(v.alloc_run(4), 4 * F);     // 0..3 holds frame 0
  EXPECT_EQ(v.alloc_run(2), 2 * F);
  EXPECT_EQ(v.alloc_run(1), 8 * F);
  EXPECT_EQ(v.alloc_run(1), 1 * F);
  EXPECT_EQ(v.free_frames(), 0u);
  for (uint64_t n : {1, 2, 4, 16, 64, 128}) EXPECT_EQ(v.alloc_run(n), kNone) << n;
  EXPECT_EQ(v.alloc(), kNone);
}

TEST(VramAllocator, RunsBelowAPartialTopRegionStayInsideVram) {
  VramAllocator v(600 * F);  // one 2 MiB region and 88 frames
  EXPECT_EQ(v.alloc_run(1024), kNone);
  EXPECT_EQ(v.alloc_run(512), 0u);      // the only whole region
  EXPECT_EQ(v.alloc_run(512), kNone);   // 88 frames are no region
  EXPECT_EQ(v.alloc_run(64), 512 * F);  // 576..639 would run past the end
  EXPECT_EQ(v.alloc_run(16), 576 * F);
  EXPECT_EQ(v.alloc_run(8), 592 * F);   // the last 8 frames
  EXPECT_EQ(v.alloc_run(8), kNone);
  EXPECT_EQ(v.free_frames(), 0u);
}

TEST(VramAllocator, RunExhaustionAndFragmentation) {
  VramAllocator v(64 * F);
  EXPECT_EQ(v.alloc_run(128), kNone);  // more than there is
  EXPECT_EQ(v.free_frames(), 64u);
  EXPECT_EQ(v.alloc_run(64), 0u);      // everything
  EXPECT_EQ(v.free_frames(), 0u);
  EXPECT_EQ(v.alloc(), kNone);
  for (uint64_t f = 0; f < 64; f += 2) v.free(f * F);  // every other frame
  EXPECT_EQ(v.free_frames(), 32u);
  EXPECT_EQ(v.alloc_run(2), kNone);    // 32 frames free, no two in a row
  EXPECT_EQ(v.alloc_run(1), 62 * F);   // highest
  v.free(63 * F);
  EXPECT_EQ(v.alloc_run(2), kNone);    // 62 is taken again
  v.free(62 * F);
  EXPECT_EQ(v.alloc_run(2), 62 * F);   // 62..63
  EXPECT_EQ(v.alloc_run(4), kNone);
  EXPECT_EQ(v.free_frames(), 31u);
  EXPECT_EQ(v.alloc(), 0u);            // singles still start at the bottom
}

TEST(VramAllocator, AllocSkipsFramesTakenByARun) {
  VramAllocator v(32 * F);
  EXPECT_EQ(v.alloc_run(16), 16 * F);
  EXPECT_EQ(v.free_frames(), 16u);
  for (uint64_t i = 0; i < 16; ++i) EXPECT_EQ(v.alloc(), i * F) << "lowest first, below the run";
  EXPECT_EQ(v.alloc(), kNone);
  EXPECT_EQ(v.free_frames(), 0u);
  // A run freed below the singles' cursor is found again.
  for (uint64_t f = 16; f < 32; ++f) v.free(f * F);
  v.free(3 * F);
  EXPECT_EQ(v.alloc(), 3 * F);
  EXPECT_EQ(v.alloc(), 16 * F);
}

TEST(VramAllocator, AllocSkipsFullTwoMiBRegions) {
  VramAllocator v(3 * 512 * F);
  EXPECT_EQ(v.alloc_run(512), 2 * k2M);  // runs from the top region down
  EXPECT_EQ(v.alloc_run(512), k2M);
  for (uint64_t i = 0; i < 512; ++i) ASSERT_EQ(v.alloc(), i * F);
  EXPECT_EQ(v.alloc(), kNone);
  v.free(2 * k2M + 7 * F);
  EXPECT_EQ(v.alloc(), 2 * k2M + 7 * F);  // past the full region 1
  v.free(k2M + 5 * F);
  v.free(100 * F);
  EXPECT_EQ(v.alloc(), 100 * F);
  EXPECT_EQ(v.alloc(), k2M + 5 * F);
  EXPECT_EQ(v.alloc(), kNone);
  for (uint64_t f = 512; f < 1024; ++f)
    if (f != 512 + 5) v.free(f * F);
  EXPECT_EQ(v.alloc_run(512), kNone);            // region 1 holds one single
  EXPECT_EQ(v.alloc_run(256), k2M + 256 * F);    // its free upper half
  EXPECT_EQ(v.alloc_run(8), k2M + 248 * F);
}

TEST(VramAllocator, FreedRunFramesComeBackOneByOneOrAsARun) {
  VramAllocator v(32 * F);
  ASSERT_EQ(v.alloc_run(16), 16 * F);
  ASSERT_EQ(v.alloc_run(16), 0u);
  v.free(5 * F);
  EXPECT_EQ(v.free_frames(), 1u);
  EXPECT_EQ(v.alloc(), 5 * F);  // one frame of a run, as a single
  for (uint64_t f = 16; f < 32; ++f) v.free(f * F);
  EXPECT_EQ(v.free_frames(), 16u);
  EXPECT_EQ(v.alloc_run(16), 16 * F);  // the whole run again
  EXPECT_EQ(v.alloc(), kNone);
  for (uint64_t f = 16; f < 32; ++f) v.free(f * F);
  std::vector<uint64_t> got;
  for (uint64_t pa; (pa = v.alloc()) != kNone;) got.push_back(pa);
  ASSERT_EQ(got.size(), 16u);
  for (uint64_t i = 0; i < 16; ++i) EXPECT_EQ(got[i], (16 + i) * F) << "each frame once, in order";
}

TEST(VramAllocator, RepeatedRunCyclesStayCorrect) {
  // Runs that come and go many times with no single-frame allocation in between.
  VramAllocator v(64 * F);
  for (int cycle = 0; cycle < 2000; ++cycle) {
    ASSERT_EQ(v.alloc_run(16), 48 * F) << cycle;
    ASSERT_EQ(v.alloc_run(32), 0u) << cycle;  // 32..47 is no aligned 32
    for (uint64_t f = 48; f < 64; ++f) v.free(f * F);
    for (uint64_t f = 0; f < 32; ++f) v.free(f * F);
  }
  EXPECT_EQ(v.free_frames(), 64u);
  std::vector<uint64_t> got;
  for (uint64_t pa; (pa = v.alloc()) != kNone;) got.push_back(pa);
  ASSERT_EQ(got.size(), 64u);
  for (uint64_t i = 0; i < 64; ++i) EXPECT_EQ(got[i], i * F) << i;
}

TEST(VramAllocator, SinglesAtTheBottomAndRunsAtTheTopDoNotInterleave) {
  VramAllocator v(64 * F);
  for (uint64_t i = 0; i < 3; ++i) ASSERT_EQ(v.alloc(), i * F);  // page tables
  ASSERT_EQ(v.alloc_run(16), 48 * F);
  ASSERT_EQ(v.alloc_run(16), 32 * F);
  for (uint64_t f = 48; f < 64; ++f) v.free(f * F);  // the top run goes back
  EXPECT_EQ(v.alloc(), 3 * F) << "not a frame of the freed run: a lower one is free";
  v.free(1 * F);
  EXPECT_EQ(v.alloc(), 1 * F);
  EXPECT_EQ(v.alloc_run(16), 48 * F) << "the freed run is still whole";
  EXPECT_EQ(v.alloc_run(1), 31 * F) << "a run of one comes from the top too";
}

// Against a reference: a free bitmap. No frame is ever handed out twice,
// alloc() takes the lowest free frame and alloc_run() the highest aligned fit.
TEST(VramAllocator, RandomizedAgainstAReference) {
  struct Config {
    uint64_t total, max_run_log2;
  };
  // 128 frames: one partial region. 1100: two whole regions and a partial one.
  for (const Config cfg : {Config{128, 6}, Config{1100, 10}}) {
    for (unsigned seed = 1; seed <= 6; ++seed) {
      const uint64_t total = cfg.total;
      VramAllocator v(total * F);
      std::mt19937_64 rng(seed);
      std::vector<bool> ref_free(total, true);
      uint64_t nfree = total;
      std::vector<uint64_t> held;  // frames
      auto take = [&](uint64_t f) {
        ASSERT_TRUE(ref_free[f]) << "frame " << f << " handed out twice (seed " << seed << ")";
        ref_free[f] = false;
        --nfree;
        held.push_back(f);
      };
      for (int step = 0; step < 20000; ++step) {
        const unsigned op = rng() % 10;
        if (op < 3) {  // alloc
          uint64_t want = kNone;
          for (uint64_t f = 0; f < total && want == kNone; ++f)
            if (ref_free[f]) want = f * F;
          const uint64_t pa = v.alloc();
          ASSERT_EQ(pa, want) << "total " << total << " seed " << seed << " step " << step;
          if (pa != kNone) take(pa / F);
        } else if (op < 5) {  // alloc_run
          const uint64_t frames = 1ull << (rng() % cfg.max_run_log2);
          const uint64_t want = highest_run(ref_free, frames);
          const uint64_t pa = v.alloc_run(frames);
          ASSERT_EQ(pa, want) << "total " << total << " seed " << seed << " step " << step << " frames " << frames;
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
          ref_free[f] = true;
          ++nfree;
        }
        ASSERT_EQ(v.free_frames(), nfree) << "seed " << seed << " step " << step;
      }
      for (uint64_t f : held) v.free(f * F);
      EXPECT_EQ(v.free_frames(), total);
      EXPECT_EQ(v.alloc(), 0u);
    }
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
  EXPECT_EQ(c.frame_for(va + 3 * F), 0x30000u + 3 * F);  // the highest aligned run
  EXPECT_EQ(c.chunks(), 1u);
  EXPECT_EQ(c.s_chunks_allocated, 1u);
  EXPECT_EQ(v.free_frames(), 64u - 1 - 16);  // the whole chunk is reserved
  EXPECT_EQ(c.frame_for(va + 15 * F), 0x30000u + 15 * F);
  EXPECT_EQ(c.frame_for(va), 0x30000u);
  EXPECT_EQ(c.chunks(), 1u);
  // The neighbouring VA range gets a chunk of its own, the next run down.
  EXPECT_EQ(c.frame_for(va + k64K + 2 * F), 0x20000u + 2 * F);
  // A range below gets the next free run too: placement is by VRAM address.
  EXPECT_EQ(c.frame_for(va - k64K + 9 * F), 0x10000u + 9 * F);
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
  EXPECT_EQ(c.frame_for(va + 4 * F), 48 * F + 4 * F);  // chunk at the top, 48..63
  // Same VA again (a COW copy, say): its slot is taken.
  const uint64_t lone = c.frame_for(va + 4 * F);
  EXPECT_EQ(lone, 0u);  // the lowest single frame, far from the chunk
  EXPECT_EQ(c.s_fallback_frames, 1u);
  EXPECT_EQ(c.chunks(), 1u);
  EXPECT_EQ(v.free_frames(), 64u - 16 - 1);
  // Fit::Chunk cannot do better by evicting: a taken slot gets a lone frame too.
  EXPECT_EQ(c.frame_for(va + 4 * F, Fit::Chunk), 1 * F);
  EXPECT_EQ(c.s_fallback_frames, 2u);
  c.release(1 * F);
  // The lone frame goes straight back; the chunk is untouched.
  c.release(lone);
  EXPECT_EQ(v.free_frames(), 64u - 16);
  EXPECT_EQ(c.chunks(), 1u);
  c.release(52 * F);
  EXPECT_EQ(c.chunks(), 0u);  // that was its only page: the chunk went back whole
  EXPECT_EQ(v.free_frames(), 64u);
}

TEST(VramChunks, NoChunkFitsFallsBackToSingleFramesUnlessFitChunk) {
  VramAllocator v(32 * F);
  // Fragment VRAM: every 64 KiB run has a frame in use.
  ASSERT_EQ(v.alloc_run(32), 0u);
  for (uint64_t f = 0; f < 32; ++f)
    if (f != 3 && f != 20) v.free(f * F);
  VramChunks c(v, k64K);
  // Fit::Chunk: the caller would evict rather than take a lone frame.
  EXPECT_EQ(c.frame_for(0x10000 + 5 * F, Fit::Chunk), kNone);
  EXPECT_EQ(v.free_frames(), 30u);
  EXPECT_EQ(c.s_fallback_frames, 0u);
  const uint64_t pa = c.frame_for(0x10000 + 5 * F, Fit::Any);
  EXPECT_EQ(pa, 0u);  // the lowest free frame
  EXPECT_EQ(c.s_fallback_frames, 1u);
  EXPECT_EQ(c.s_chunks_allocated, 0u);
  EXPECT_EQ(c.chunks(), 0u);
  EXPECT_EQ(v.free_frames(), 29u);
  c.release(pa);  // not in any chunk: a plain free
  EXPECT_EQ(v.free_frames(), 30u);
  // Once a run is free again, the next page of the range gets a chunk.
  v.free(20 * F);
  EXPECT_EQ(c.frame_for(0x10000 + 6 * F, Fit::Chunk), 16 * F + 6 * F);
  EXPECT_EQ(c.s_chunks_allocated, 1u);
}

TEST(VramChunks, FullVramYieldsNone) {
  VramAllocator v(16 * F);
  VramChunks c(v, k64K);
  EXPECT_EQ(c.frame_for(0x0), 0u);  // one chunk is all of VRAM
  EXPECT_EQ(c.frame_for(0x10000), kNone);
  EXPECT_EQ(c.frame_for(0x0), kNone);  // taken slot, no lone frame left
  EXPECT_EQ(c.s_fallback_frames, 0u);  // only frames handed out count
  EXPECT_EQ(c.frame_for(0x1000), 1 * F);  // a free slot of the chunk still works
}

TEST(VramChunks, ChunkGoesBackWholeWhenItsLastPageLeaves) {
  VramAllocator v(64 * F);
  VramChunks c(v, k64K);
  const uint64_t va = 0x1230000;
  std::vector<uint64_t> pas;
  for (uint64_t i : {0, 5, 15}) pas.push_back(c.frame_for(va + i * F));
  EXPECT_EQ(pas, (std::vector<uint64_t>{48 * F, 53 * F, 63 * F}));
  EXPECT_EQ(v.free_frames(), 48u);
  c.release(63 * F);
  c.release(48 * F);
  EXPECT_EQ(c.chunks(), 1u);
  EXPECT_EQ(v.free_frames(), 48u);  // nothing goes back before the last page
  // A released slot is free for the same VA again.
  EXPECT_EQ(c.frame_for(va), 48 * F);
  c.release(48 * F);
  c.release(53 * F);
  EXPECT_EQ(c.chunks(), 0u);
  EXPECT_EQ(v.free_frames(), 64u);
  EXPECT_EQ(v.alloc_run(64), 0u);  // all of it is free and whole
  for (uint64_t f = 0; f < 64; ++f) v.free(f * F);
  // The VA range gets a fresh chunk next time.
  EXPECT_EQ(c.frame_for(va + 7 * F), 55 * F);
  EXPECT_EQ(c.s_chunks_allocated, 2u);
}

TEST(VramChunks, TwoMiBChunksThenPieces) {
  VramAllocator v(8ull << 20);
  ASSERT_EQ(v.alloc(), 0u);
  VramChunks c(v, k2M);
  const uint64_t va = 3 * k2M;
  EXPECT_EQ(c.frame_for(va + 0x5000), 3 * k2M + 0x5000);  // the top region
  EXPECT_EQ(c.frame_for(va + k2M - F), 4 * k2M - F);
  EXPECT_EQ(c.frame_for(va + 0x40000), 3 * k2M + 0x40000);
  EXPECT_EQ(v.free_frames(), 2048u - 1 - 512);
  EXPECT_EQ(c.frame_for(0x1000), 2 * k2M + 0x1000);
  EXPECT_EQ(c.frame_for(9 * k2M), k2M);
  EXPECT_EQ(c.s_chunks_allocated, 3u);
  // No whole 2 MiB run left (frame 0 breaks region 0): 64 KiB pieces from
  // its top, each page at its offset in the piece of its 64 KiB VA range.
  EXPECT_EQ(c.frame_for(11 * k2M + 2 * F), k2M - k64K + 2 * F);
  EXPECT_EQ(c.frame_for(11 * k2M + k64K + F), k2M - 2 * k64K + F);
  EXPECT_EQ(c.frame_for(11 * k2M + 3 * F), k2M - k64K + 3 * F);  // same piece
  EXPECT_EQ(c.s_pieces_allocated, 2u);
  EXPECT_EQ(c.s_fallback_frames, 0u);
  EXPECT_EQ(c.chunks(), 5u);
  for (uint64_t off : {uint64_t(0x5000), k2M - F, uint64_t(0x40000)}) c.release(3 * k2M + off);
  EXPECT_EQ(c.chunks(), 4u);
  EXPECT_EQ(v.free_frames(), 2048u - 1 - 2 * 512 - 2 * 16);
}

TEST(VramChunks, FitChunkYieldsNoneWhereAnyTakesAPieceOrALoneFrame) {
  VramAllocator v(4ull << 20);
  ASSERT_EQ(v.alloc(), 0u);          // a page table in region 0
  ASSERT_EQ(v.alloc_run(512), k2M);  // another block's chunk is region 1
  VramChunks c(v, k2M);
  const uint64_t va = 5 * k2M;
  EXPECT_EQ(c.frame_for(va + 3 * F, Fit::Chunk), kNone);
  EXPECT_EQ(v.free_frames(), 511u);
  EXPECT_EQ(c.chunks(), 0u);
  EXPECT_EQ(c.s_pieces_allocated + c.s_fallback_frames + c.s_chunks_allocated, 0u);
  EXPECT_EQ(c.frame_for(va + 3 * F, Fit::Any), k2M - k64K + 3 * F);  // a piece
  EXPECT_EQ(c.s_pieces_allocated, 1u);
  // A free slot of a piece the range holds is good enough for Fit::Chunk ...
  EXPECT_EQ(c.frame_for(va + 4 * F, Fit::Chunk), k2M - k64K + 4 * F);
  // ... a new piece is not: the page should have its 2 MiB chunk.
  EXPECT_EQ(c.frame_for(va + k64K, Fit::Chunk), kNone);
  EXPECT_EQ(c.s_pieces_allocated, 1u);
  // A taken slot: a lone frame either way, from the bottom.
  EXPECT_EQ(c.frame_for(va + 3 * F, Fit::Chunk), 1 * F);
  EXPECT_EQ(c.s_fallback_frames, 1u);
  // Take every other 64 KiB run: then not even a piece fits.
  while (v.alloc_run(16) != kNone) {
  }
  EXPECT_EQ(v.free_frames(), 14u);  // frames 2..15
  EXPECT_EQ(c.frame_for(va + 2 * k64K, Fit::Chunk), kNone);
  EXPECT_EQ(c.frame_for(va + 2 * k64K, Fit::Any), 2 * F);
  EXPECT_EQ(c.s_fallback_frames, 2u);
  EXPECT_EQ(c.s_pieces_allocated, 1u);
  // The piece goes back whole once both of its pages leave.
  c.release(k2M - k64K + 3 * F);
  EXPECT_EQ(v.free_frames(), 13u);
  c.release(k2M - k64K + 4 * F);
  EXPECT_EQ(v.free_frames(), 13u + 16);
  EXPECT_EQ(c.chunks(), 0u);
}

TEST(VramChunks, SixtyFourKiBPiecesServeAVmaSmallerThanTwoMiB) {
  VramAllocator v(4ull << 20);
  VramChunks c(v, k2M);
  const uint64_t lo = 0x40010000, hi = 0x40030000;  // two 64 KiB ranges, no 2 MiB one
  ASSERT_EQ(c.chunk_bytes_for(lo + 3 * F, lo, hi), k64K);
  // A piece is the chunk such a page should have: Fit::Chunk takes one.
  EXPECT_EQ(c.frame_for(lo + 3 * F, Fit::Chunk, lo, hi), 0x3F0000u + 3 * F);
  EXPECT_EQ(c.frame_for(lo + 15 * F, Fit::Any, lo, hi), 0x3F0000u + 15 * F);
  EXPECT_EQ(c.frame_for(lo + k64K + 5 * F, Fit::Any, lo, hi), 0x3E0000u + 5 * F);
  EXPECT_EQ(c.s_pieces_allocated, 2u);
  EXPECT_EQ(c.s_chunks_allocated, 0u);
  EXPECT_EQ(c.s_fallback_frames, 0u);
  EXPECT_EQ(c.chunks(), 2u);
  EXPECT_EQ(v.free_frames(), 1024u - 2 * 16);
  c.release(0x3F0000u + 3 * F);
  EXPECT_EQ(v.free_frames(), 1024u - 2 * 16);  // a page still lives in it
  c.release(0x3F0000u + 15 * F);
  EXPECT_EQ(v.free_frames(), 1024u - 16);  // the piece went back whole
  EXPECT_EQ(c.chunks(), 1u);
  EXPECT_EQ(c.frame_for(lo + 3 * F, Fit::Any, lo, hi), 0x3F0000u + 3 * F);  // a fresh one
  EXPECT_EQ(c.s_pieces_allocated, 3u);
  // With every 64 KiB run taken, Fit::Chunk waits for one; Fit::Any goes alone.
  std::vector<uint64_t> runs;
  for (uint64_t pa; (pa = v.alloc_run(16)) != kNone;) runs.push_back(pa);
  EXPECT_EQ(c.frame_for(lo + k64K + 9 * F, Fit::Chunk, lo, hi), 0x3E0000u + 9 * F);  // its piece exists
  EXPECT_EQ(c.frame_for(lo + 7 * F, Fit::Chunk, lo, hi), 0x3F0000u + 7 * F);
  v.free(runs.back());  // frame 0 is single now
  EXPECT_EQ(c.frame_for(lo - k64K, Fit::Chunk, lo - k64K, hi), kNone);
  EXPECT_EQ(c.frame_for(lo - k64K, Fit::Any, lo - k64K, hi), 0u);
  EXPECT_EQ(c.s_fallback_frames, 1u);
}

TEST(VramChunks, ChunkBytesFitTheVma) {
  VramAllocator v(16 * F);
  VramChunks c2(v, k2M), c64(v, k64K), c4(v, F);
  const uint64_t B = 0x40000000;  // 2 MiB aligned
  const uint64_t all = ~0ull;
  EXPECT_EQ(c2.chunk_bytes_for(B + 5 * F, 0, all), k2M);
  // A VMA of exactly one 2 MiB block.
  for (uint64_t va : {B, B + 5 * F, B + k2M - F}) EXPECT_EQ(c2.chunk_bytes_for(va, B, B + k2M), k2M) << va;
  // One page short: 64 KiB ranges, but the last one sticks out too.
  EXPECT_EQ(c2.chunk_bytes_for(B + 5 * F, B, B + k2M - F), k64K);
  EXPECT_EQ(c2.chunk_bytes_for(B + k2M - k64K - F, B, B + k2M - F), k64K);
  EXPECT_EQ(c2.chunk_bytes_for(B + k2M - k64K, B, B + k2M - F), F);
  EXPECT_EQ(c2.chunk_bytes_for(B + k2M - 2 * F, B, B + k2M - F), F);
  // Unaligned start: the first 64 KiB range starts below the VMA.
  const uint64_t lo = B + F, hi = B + 2 * k2M;
  EXPECT_EQ(c2.chunk_bytes_for(B + F, lo, hi), F);
  EXPECT_EQ(c2.chunk_bytes_for(B + k64K - F, lo, hi), F);
  EXPECT_EQ(c2.chunk_bytes_for(B + k64K, lo, hi), k64K);
  EXPECT_EQ(c2.chunk_bytes_for(B + k2M - F, lo, hi), k64K);
  EXPECT_EQ(c2.chunk_bytes_for(B + k2M, lo, hi), k2M);
  EXPECT_EQ(c2.chunk_bytes_for(B + 2 * k2M - F, lo, hi), k2M);
  // Smaller than 64 KiB, or 64 KiB long but unaligned: 4 KiB.
  EXPECT_EQ(c2.chunk_bytes_for(B + F, B, B + 15 * F), F);
  EXPECT_EQ(c2.chunk_bytes_for(B + k64K, B + F, B + k64K + F), F);
  EXPECT_EQ(c2.chunk_bytes_for(B + 2 * k64K + F, B + 2 * k64K, B + 3 * k64K), k64K);
  // A 64 KiB chunk never grows past its configured size; 4 KiB never changes.
  EXPECT_EQ(c64.chunk_bytes_for(B + 5 * F, 0, all), k64K);
  EXPECT_EQ(c64.chunk_bytes_for(B + 5 * F, B, B + k2M), k64K);
  EXPECT_EQ(c64.chunk_bytes_for(B + F, lo, hi), F);
  EXPECT_EQ(c64.chunk_bytes_for(B + k64K + F, lo, hi), k64K);
  EXPECT_EQ(c4.chunk_bytes_for(B, 0, all), F);
  EXPECT_EQ(c4.chunk_bytes_for(B, B, B + k2M), F);
}

TEST(VramChunks, AVmaThatFitsOnly4KiBTakesPlainFramesNotFallbacks) {
  for (uint64_t chunk : {k64K, k2M}) {
    VramAllocator v(64 * F);
    VramChunks c(v, chunk);
    const uint64_t B = 0x40000000, lo = B + F, hi = B + 15 * F;
    ASSERT_EQ(c.chunk_bytes_for(B + 3 * F, lo, hi), F);
    EXPECT_EQ(c.frame_for(B + 3 * F, Fit::Any, lo, hi), 0u) << chunk;  // lowest single
    EXPECT_EQ(c.frame_for(B + 3 * F, Fit::Any, lo, hi), 1 * F) << chunk;  // no slot to collide with
    EXPECT_EQ(c.frame_for(B + 4 * F, Fit::Chunk, lo, hi), 2 * F) << chunk;  // not kNone: it is its size
    EXPECT_EQ(c.s_fallback_frames, 0u) << chunk;
    EXPECT_EQ(c.s_pieces_allocated, 0u) << chunk;
    EXPECT_EQ(c.s_chunks_allocated, 0u) << chunk;
    EXPECT_EQ(c.chunks(), 0u) << chunk;
    c.release(1 * F);
    EXPECT_EQ(v.free_frames(), 62u);
    EXPECT_EQ(v.alloc(), 1 * F);
  }
}

TEST(VramChunks, FreedChunkDoesNotPullSinglesUpward) {
  VramAllocator v(64 * F);
  VramChunks c(v, k64K);
  for (uint64_t i = 0; i < 3; ++i) ASSERT_EQ(v.alloc(), i * F);  // page tables
  const uint64_t pa = c.frame_for(0x50000);
  ASSERT_EQ(pa, 48 * F);
  c.release(pa);  // the chunk goes back whole
  EXPECT_EQ(v.alloc(), 3 * F) << "the next single stays at the bottom";
  EXPECT_EQ(c.frame_for(0x60000 + F), 48 * F + F) << "the chunk's run is still whole";
}

// Random frame_for / release over two VMAs (one large and aligned, one small
// and unaligned): live pages never share a frame, pages in a chunk or piece
// sit at their VA offset, and everything comes back.
TEST(VramChunks, RandomizedNoFrameSharedAndAllReturned) {
  struct Vma {
    uint64_t lo, hi;
  };
  const Vma vmas[] = {{0x10000000, 0x10000000 + 3 * k2M}, {0x20003000, 0x20003000 + 200 * F}};
  for (uint64_t chunk : {F, k64K, k2M}) {
    const uint64_t total = 2048;  // 8 MiB
    VramAllocator v(total * F);
    VramChunks c(v, chunk);
    std::mt19937_64 rng(chunk);
    std::map<uint64_t, uint64_t> live;  // pa -> va
    std::vector<uint64_t> pas;
    for (int step = 0; step < 8000; ++step) {
      if (rng() % 3 != 0 || pas.empty()) {
        // Some VAs are touched twice (COW-like duplicates).
        const Vma& m = vmas[rng() % 4 == 0 ? 1 : 0];
        const uint64_t va = m.lo + (rng() % ((m.hi - m.lo) / F)) * F;
        const Fit fit = rng() % 4 == 0 ? Fit::Chunk : Fit::Any;
        const uint64_t want = c.chunk_bytes_for(va, m.lo, m.hi);
        const uint64_t fb = c.s_fallback_frames, pieces = c.s_pieces_allocated;
        const uint64_t pa = c.frame_for(va, fit, m.lo, m.hi);
        if (pa == kNone) continue;
        ASSERT_EQ(pa % F, 0u);
        ASSERT_LT(pa, total * F);
        ASSERT_TRUE(live.emplace(pa, va).second) << "frame 0x" << std::hex << pa << " handed out twice";
        if (fit == Fit::Chunk && want == k2M) {
          ASSERT_EQ(c.s_pieces_allocated, pieces) << "Fit::Chunk took a piece";
        }
        if (c.s_fallback_frames == fb && want >= k64K) {
          ASSERT_EQ(pa % k64K, va % k64K);
          if (want == k2M && c.s_pieces_allocated == 0) {
            ASSERT_EQ(pa % k2M, va % k2M);
          }
        }
        if (want == F) {
          ASSERT_EQ(c.s_fallback_frames, fb) << "a 4 KiB page counted as a fallback";
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
    if (chunk == k2M) {
      EXPECT_GT(c.s_pieces_allocated, 0u) << "the small VMA should have used pieces";
    }
    for (uint64_t pa : pas) c.release(pa);
    EXPECT_EQ(c.chunks(), 0u) << chunk;
    EXPECT_EQ(v.free_frames(), total) << chunk;
    EXPECT_EQ(v.alloc_run(total), 0u) << chunk;
  }
}
