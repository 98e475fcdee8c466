#include "gateway/observability/log_writer.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

namespace pagi::gateway::observability {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits (bounded) until `p` holds `want`; the writer thread flushes on its own.
bool eventually_equals(const fs::path& p, const std::string& want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (slurp(p) == want) return true;
    std::this_thread::yield();
  }
  return false;
}

class LogWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pagi-logw-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(LogWriterTest, LinesReachTheFileAndAreFlushedAtDestruction) {
  const auto file = dir_ / "access.log";
  {
    LogWriter w(file.string(), Seconds(3600), 1 << 20);  // only the destructor flushes
    w.write("one\n");
    w.write("two\n");
  }
  EXPECT_EQ(slurp(file), "one\ntwo\n");
}

TEST_F(LogWriterTest, FlushIntervalBoundsTheDelay) {
  const auto file = dir_ / "access.log";
  LogWriter w(file.string(), Seconds(0.01), 1 << 20);
  w.write("soon\n");
  EXPECT_TRUE(eventually_equals(file, "soon\n"));
}

TEST_F(LogWriterTest, ReopenFollowsARotatedFile) {
  const auto file = dir_ / "access.log";
  const auto rotated = dir_ / "access.log.1";
  LogWriter w(file.string(), Seconds(0.01), 1 << 20);
  w.write("before\n");
  ASSERT_TRUE(eventually_equals(file, "before\n"));
  fs::rename(file, rotated);
  w.write("still old\n");  // written to the renamed file until the reopen
  ASSERT_TRUE(eventually_equals(rotated, "before\nstill old\n"));
  w.reopen();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (w.reopens() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(w.reopens(), 1u);
  w.write("after\n");
  EXPECT_TRUE(eventually_equals(file, "after\n"));
  EXPECT_EQ(slurp(rotated), "before\nstill old\n");
}

// A line logged after SIGUSR1 goes to the new file even when the writer
// thread has not reopened yet (a busy machine), and one logged before it
// to the old file.
TEST_F(LogWriterTest, LinesAfterTheReopenRequestGoToTheNewFile) {
  const auto file = dir_ / "access.log";
  const auto rotated = dir_ / "access.log.1";
  {
    LogWriter w(file.string(), Seconds(3600), 1 << 20);
    w.write("queued before\n");
    fs::rename(file, rotated);
    w.reopen();
    w.write("after the signal\n");
  }
  EXPECT_EQ(slurp(rotated), "queued before\n");
  EXPECT_EQ(slurp(file), "after the signal\n");
}

TEST_F(LogWriterTest, AFullBufferDropsAndCounts) {
  const auto file = dir_ / "access.log";
  {
    LogWriter w(file.string(), Seconds(3600), 8);
    w.write("0123456789\n");  // larger than the whole buffer
    w.write("ok\n");
    EXPECT_EQ(w.dropped_lines(), 1u);
  }
  EXPECT_EQ(slurp(file), "ok\n");
}

TEST_F(LogWriterTest, AnUnwritableFileFailsAtConstruction) {
  EXPECT_THROW(LogWriter((dir_ / "missing" / "x.log").string(), Seconds(1), 1024), std::system_error);
}

}  // namespace
}  // namespace pagi::gateway::observability
