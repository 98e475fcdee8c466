// A worker's stderr, captured: the launcher gives the worker a pipe as fd 2
// and this reads the other end on the io_context, line by line, and logs
// each line at warn level tagged with the pool and the worker's pid (a
// LogContext, so the JSON error log has them as fields).
//
// Lines longer than max_stderr_line bytes are logged in pieces of that
// size. A line cut by the worker's exit (no final newline) is logged at
// EOF. The reader lives until every writer closed the pipe (the worker and
// any child that inherited its stderr) or the io_context is destroyed; then
// what is already in the pipe is read and logged without waiting.
#pragma once

#include <cstddef>
#include <string>

namespace boost::asio {
class io_context;
}

namespace pagi::workers {

inline constexpr std::size_t max_stderr_line = 16 * 1024;

// Takes ownership of `fd` (the read end, close-on-exec).
void start_stderr_reader(boost::asio::io_context& io, int fd, std::string pool, int pid);

}  // namespace pagi::workers
