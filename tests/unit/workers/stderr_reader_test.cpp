// The worker stderr reader on a real pipe: lines split, long lines cut at
// the cap, a last line without newline logged at EOF, each message tagged
// with the pool and pid (LogContext) at warn level.
#include "workers/stderr_reader.hpp"

#include <fcntl.h>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "workers/log_context.hpp"

namespace pagi::workers {
namespace {

struct Seen {
  std::string message;
  std::string pool;
  int pid = 0;
  spdlog::level::level_enum level;
};

class CollectSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<Seen> seen;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto* c = current_log_context;
    seen.push_back({std::string(msg.payload.data(), msg.payload.size()), c ? std::string(c->pool) : "", c ? c->pid : 0,
                    msg.level});
  }
  void flush_() override {}
};

class StderrReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_ = std::make_shared<CollectSink>();
    saved_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink_));
  }
  void TearDown() override { spdlog::set_default_logger(saved_); }
  std::shared_ptr<CollectSink> sink_;
  std::shared_ptr<spdlog::logger> saved_;
};

TEST_F(StderrReaderTest, LinesTaggedCappedAndFlushedAtEof) {
  boost::asio::io_context io;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  start_stderr_reader(io, fds[0], "web", 4242);
  const std::string long_line(max_stderr_line + 10, 'x');
  const std::string input = "first\r\nsecond\n\n" + long_line + "\nno newline";
  // The pipe holds 64 KiB: the whole input fits before the reader runs.
  ASSERT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  ::close(fds[1]);
  io.run();  // returns once the reader saw EOF
  std::vector<std::string> messages;
  for (const auto& s : sink_->seen) {
    messages.push_back(s.message);
    EXPECT_EQ(s.pool, "web");
    EXPECT_EQ(s.pid, 4242);
    EXPECT_EQ(s.level, spdlog::level::warn);
  }
  const std::vector<std::string> want = {
      "first", "second", "", std::string(max_stderr_line, 'x'), std::string(10, 'x'), "no newline"};
  EXPECT_EQ(messages, want);
  EXPECT_EQ(current_log_context, nullptr);  // restored after each line
}

TEST_F(StderrReaderTest, WhatIsWrittenIsLoggedEvenWhenTheLoopEndsFirst) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const std::string input = "last words\nhalf";
  {
    boost::asio::io_context io;
    start_stderr_reader(io, fds[0], "web", 7);
    ASSERT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    // The gateway exits: the loop never runs again, the writer is still open.
  }
  ::close(fds[1]);
  ASSERT_EQ(sink_->seen.size(), 2u);
  EXPECT_EQ(sink_->seen[0].message, "last words");
  EXPECT_EQ(sink_->seen[1].message, "half");
  EXPECT_EQ(sink_->seen[1].pid, 7);
}

}  // namespace
}  // namespace pagi::workers
