// The gateway's side of the shared body ring (docs/protocol.md "3c"): the
// memfd it creates, the span rules, and the release position.
#include "workers/body_ring.hpp"

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>

namespace pagi::workers {
namespace {

constexpr std::uint32_t kSize = 64 * 1024;

class BodyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ring = BodyRing::create(kSize, error);
    ASSERT_TRUE(ring) << error;
    void* map = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, ring->fd(), 0);
    ASSERT_NE(map, MAP_FAILED);
    writable = static_cast<char*>(map);
  }
  void TearDown() override {
    if (writable != nullptr) ::munmap(writable, kSize);
  }

  // The worker's part: bytes at `position`, then the span.
  protocol::SharedBytes put(std::uint64_t position, const std::string& bytes) {
    std::memcpy(writable + position % kSize, bytes.data(), bytes.size());
    protocol::SharedBytes out;
    const char* why = nullptr;
    EXPECT_TRUE(ring->take(position, static_cast<std::uint32_t>(bytes.size()), out, why)) << why;
    return out;
  }
  bool refused(std::uint64_t position, std::uint32_t length, std::string_view expected_words) {
    protocol::SharedBytes out;
    const char* why = nullptr;
    if (ring->take(position, length, out, why)) return false;
    EXPECT_NE(std::string_view(why).find(expected_words), std::string_view::npos) << why;
    return out.empty();
  }

  std::shared_ptr<BodyRing> ring;
  char* writable = nullptr;
};

TEST_F(BodyRingTest, MemfdIsSealedAgainstResizing) {
  const int seals = ::fcntl(ring->fd(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  EXPECT_NE(::ftruncate(ring->fd(), 4096), 0) << "a worker must not be able to shrink the gateway's mapping";
  EXPECT_NE(::ftruncate(ring->fd(), 2 * kSize), 0);
  struct stat st {};
  ASSERT_EQ(::fstat(ring->fd(), &st), 0);
  EXPECT_EQ(st.st_size, kSize);
  EXPECT_EQ(::fcntl(ring->fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC) << "only the launched worker inherits it";
}

TEST_F(BodyRingTest, SpanViewsTheWorkersBytesWithoutACopy) {
  const protocol::SharedBytes a = put(0, "hello ring");
  EXPECT_EQ(a.view(), "hello ring");
  // The same memory: what the worker writes later shows (the gateway never copies).
  writable[0] = 'J';
  EXPECT_EQ(a.view(), "Jello ring");
  const protocol::SharedBytes b = put(100, "second");
  EXPECT_EQ(a.storage(), b.storage()) << "spans of one ring count as one storage for pinning";
  EXPECT_EQ(a.storage(), static_cast<const void*>(static_cast<protocol::ExternalBytesOwner*>(ring.get())));
  EXPECT_EQ(ring->held(), 2u);
}

TEST_F(BodyRingTest, SpansBreakingTheRulesAreRefused) {
  EXPECT_TRUE(refused(0, 0, "length"));
  EXPECT_TRUE(refused(0, kSize + 1, "length"));
  EXPECT_TRUE(refused(kSize - 10, 20, "across the end"));
  const protocol::SharedBytes held = put(1000, std::string(1000, 'a'));
  EXPECT_TRUE(refused(1500, 10, "before the end of the previous"));
  // Held from 1000: the next span may reach 1000 + kSize, not beyond.
  EXPECT_TRUE(refused(kSize, 1001, "not yet released"));
  EXPECT_TRUE(refused(~std::uint64_t{0} - 5, 4, "not yet released"));
  // Up to exactly the held span's start, one ring later: no overlap.
  const protocol::SharedBytes ok = put(kSize, std::string(1000, 'b'));
  EXPECT_EQ(ok.view(), std::string(1000, 'b'));
  EXPECT_EQ(held.view(), std::string(1000, 'a'));
}

TEST_F(BodyRingTest, EmptiedRingTakesASpanAnywhereAhead) {
  // Nothing held: a worker that learned so starts its next turn at the
  // ring's beginning and counts the whole ring as room from there.
  put(1000, std::string(1000, 'a'));  // taken and released at once
  EXPECT_EQ(ring->held(), 0u);
  EXPECT_TRUE(refused(1500, 10, "before the end of the previous"));
  const protocol::SharedBytes first = put(3 * std::uint64_t{kSize}, std::string(kSize / 2, 'b'));
  // Held again: from here the bound is that span's start plus the ring.
  EXPECT_TRUE(refused(4 * std::uint64_t{kSize}, 1, "not yet released"));
  const protocol::SharedBytes last = put(3 * std::uint64_t{kSize} + kSize / 2, std::string(kSize / 2, 'c'));
  EXPECT_EQ(first.view(), std::string(kSize / 2, 'b'));
  EXPECT_EQ(last.view(), std::string(kSize / 2, 'c'));
}

TEST_F(BodyRingTest, ReleasePositionMovesInOrderOverDoneSpans) {
  std::vector<protocol::SharedBytes> spans;
  for (int i = 0; i < 4; ++i) spans.push_back(put(static_cast<std::uint64_t>(i) * 1000, std::string(1000, 'x')));
  EXPECT_EQ(ring->released(), 0u);
  spans[1] = {};  // done out of order: the oldest still holds the position
  EXPECT_EQ(ring->released(), 0u);
  spans[0] = {};
  EXPECT_EQ(ring->released(), 2000u);
  spans[3] = {};
  EXPECT_EQ(ring->released(), 2000u);
  spans[2] = {};
  EXPECT_EQ(ring->released(), 4000u);
  EXPECT_EQ(ring->held(), 0u);
  // A copy of a span holds it as long as the original did.
  protocol::SharedBytes s = put(5000, "abc");
  protocol::SharedBytes copy = s;
  s = {};
  EXPECT_EQ(ring->released(), 5000u);
  copy = {};
  EXPECT_EQ(ring->released(), 5003u);
}

TEST_F(BodyRingTest, AnnouncesAfterAnEighthAndSignalsOncePerAnnouncement) {
  int signals = 0;
  ring->set_on_progress([&] { ++signals; });
  const std::uint32_t eighth = kSize / 8;
  protocol::SharedBytes keep = put(0, "k");  // held: the ring is never empty below
  protocol::SharedBytes a = put(1, std::string(eighth - 1, 'a'));
  protocol::SharedBytes b = put(eighth, "bb");
  keep = {};
  EXPECT_EQ(signals, 0) << "1 byte released";
  EXPECT_EQ(ring->take_announcement(), 0u) << "less than an eighth moved, something still held";
  a = {};
  EXPECT_EQ(signals, 1) << "an eighth released";
  protocol::SharedBytes c = put(eighth + 2, "cc");
  b = {};
  EXPECT_EQ(signals, 1) << "one signal until the owner takes the announcement";
  EXPECT_EQ(ring->take_announcement(), eighth + 2);
  EXPECT_EQ(ring->take_announcement(), 0u);
  c = {};
  EXPECT_EQ(signals, 2) << "the ring emptied: worth telling, however little moved";
  EXPECT_EQ(ring->take_announcement(), eighth + 4);
}

// Resident kB of the mapping that starts at `start`, from /proc/self/smaps.
long resident_kb(const void* start) {
  std::ifstream smaps("/proc/self/smaps");
  char head[32];
  std::snprintf(head, sizeof head, "%lx-", reinterpret_cast<unsigned long>(start));
  bool in = false;
  for (std::string line; std::getline(smaps, line);) {
    if (line.find('-') != std::string::npos && line.find(' ') > line.find('-')) in = line.rfind(head, 0) == 0;
    if (in && line.rfind("Rss:", 0) == 0) return std::stol(line.substr(4));
  }
  return -1;
}

TEST_F(BodyRingTest, IdleRingDropsTheGatewaysPagesAfterAQuietPeriod) {
  const std::string bytes(kSize / 2, 'p');
  EXPECT_FALSE(ring->trim_if_idle()) << "nothing was ever touched";
  const char* base = nullptr;
  {
    const protocol::SharedBytes span = put(0, bytes);
    base = span.data();
    volatile char sum = 0;
    for (std::size_t i = 0; i < span.size(); i += 4096) sum = sum + span.data()[i];  // as the client write reads it
    EXPECT_GE(resident_kb(base), kSize / 2 / 1024);
    EXPECT_FALSE(ring->trim_if_idle()) << "a held span (taken in this period, too) keeps the pages";
  }
  EXPECT_TRUE(ring->trim_if_idle()) << "a whole period without a span";
  EXPECT_EQ(resident_kb(base), 0);
  EXPECT_FALSE(ring->trim_if_idle()) << "once per idle stretch";
  // The bytes were the worker's all along: a later span reads them back.
  const protocol::SharedBytes again = put(kSize / 2, "x");
  EXPECT_EQ(std::string_view(base, 4), "pppp");
}

TEST_F(BodyRingTest, MappingOutlivesTheRingsOwnerWhileASpanIsHeld) {
  const protocol::SharedBytes span = put(0, "still here");
  std::weak_ptr<BodyRing> weak = ring;
  ring.reset();  // the worker is gone
  ::munmap(writable, kSize);
  writable = nullptr;
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ(span.view(), "still here");
}

}  // namespace
}  // namespace pagi::workers
