#include "gateway/edge/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

namespace pagi::gateway::edge {
namespace {
namespace fs = std::filesystem;

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pagi-static-XXXXXX";
    base_ = ::mkdtemp(tmpl);
    root_ = base_ + "/root";
    fs::create_directories(root_ + "/css");
    fs::create_directories(root_ + "/dir");
    write(root_ + "/index.html", "<h1>home</h1>");
    write(root_ + "/css/site.css", "body{}");
    write(root_ + "/css/site.css.gz", "GZ");
    write(root_ + "/css/site.css.br", "BR");
    write(root_ + "/.env", "SECRET");
    write(base_ + "/secret.txt", "SECRET");
    write(root_ + "/data.bin", std::string(100, 'x'));
    fs::create_symlink(base_ + "/secret.txt", root_ + "/escape.txt");
    fs::create_symlink(root_ + "/css/site.css", root_ + "/inside.css");
    fs::create_symlink(base_, root_ + "/up");
    mount_.prefix = "/static";
    mount_.root = fs::canonical(root_).string();
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

  FileAnswer get(std::string_view path, std::vector<workers::HeaderView> headers = {},
                 std::string_view method = "GET") {
    headers_ = std::move(headers);
    StaticRequest r{method, path, path, "", headers_};
    return serve_static(mount_, r);
  }

  static std::string header(const FileAnswer& a, std::string_view name) {
    for (const auto& [n, v] : a.headers)
      if (n == name) return v;
    return "<none>";
  }

  std::string base_, root_;
  StaticMount mount_;
  std::vector<workers::HeaderView> headers_;
};

TEST_F(StaticFiles, ServesFileWithTypeLengthAndValidators) {
  const auto a = get("/static/css/site.css");
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(a.file);
  EXPECT_EQ(a.length, 6u);
  EXPECT_EQ(header(a, "content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(header(a, "content-length"), "6");
  EXPECT_NE(header(a, "etag"), "<none>");
  EXPECT_NE(header(a, "last-modified"), "<none>");
  EXPECT_EQ(header(a, "accept-ranges"), "bytes");
}

TEST_F(StaticFiles, TraversalRefused) {
  for (auto bad : {"/static/../secret.txt", "/static/css/../../secret.txt", "/static/./index.html", "/static/.env",
                   "/static/css/..", "/static/a\\..\\secret.txt"}) {
    const auto a = get(bad);
    EXPECT_NE(a.status, 200) << bad;
    EXPECT_FALSE(a.file) << bad;
  }
}

TEST_F(StaticFiles, SymlinkPolicies) {
  mount_.symlinks = SymlinkPolicy::within_root;
  EXPECT_EQ(get("/static/escape.txt").status, 404);
  EXPECT_EQ(get("/static/up/secret.txt").status, 404);
  EXPECT_EQ(get("/static/inside.css").status, 200);
  mount_.symlinks = SymlinkPolicy::deny;
  EXPECT_EQ(get("/static/inside.css").status, 404);
  EXPECT_EQ(get("/static/up/secret.txt").status, 404);
  EXPECT_EQ(get("/static/css/site.css").status, 200);
  mount_.symlinks = SymlinkPolicy::follow;
  EXPECT_EQ(get("/static/escape.txt").status, 200);
}

TEST_F(StaticFiles, DirectoryIndexAndRedirect) {
  EXPECT_EQ(get("/static/").status, 200);
  const auto r = get("/static");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(header(r, "location"), "/static/");
  EXPECT_EQ(get("/static/dir/").status, 404);  // no index there
  EXPECT_EQ(get("/static/nope.txt").status, 404);
}

TEST_F(StaticFiles, MethodsOtherThanGetHead) {
  const auto a = get("/static/css/site.css", {}, "POST");
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(header(a, "allow"), "GET, HEAD");
  EXPECT_EQ(get("/static/css/site.css", {}, "HEAD").status, 200);
}

TEST_F(StaticFiles, ConditionalRequests) {
  const auto first = get("/static/css/site.css");
  const auto etag = header(first, "etag");
  EXPECT_EQ(get("/static/css/site.css", {{"if-none-match", etag}}).status, 304);
  EXPECT_EQ(get("/static/css/site.css", {{"if-none-match", "\"other\", W/" + etag}}).status, 304);
  EXPECT_EQ(get("/static/css/site.css", {{"if-none-match", "\"other\""}}).status, 200);
  const auto lm = header(first, "last-modified");
  EXPECT_EQ(get("/static/css/site.css", {{"if-modified-since", lm}}).status, 304);
  EXPECT_EQ(get("/static/css/site.css", {{"if-modified-since", "Thu, 01 Jan 1970 00:00:00 GMT"}}).status, 200);
  // If-None-Match wins over If-Modified-Since.
  EXPECT_EQ(get("/static/css/site.css", {{"if-none-match", "\"x\""}, {"if-modified-since", lm}}).status, 200);
}

TEST_F(StaticFiles, Ranges) {
  auto a = get("/static/data.bin", {{"range", "bytes=10-19"}});
  EXPECT_EQ(a.status, 206);
  EXPECT_EQ(a.offset, 10u);
  EXPECT_EQ(a.length, 10u);
  EXPECT_EQ(header(a, "content-range"), "bytes 10-19/100");
  a = get("/static/data.bin", {{"range", "bytes=-5"}});
  EXPECT_EQ(a.status, 206);
  EXPECT_EQ(a.offset, 95u);
  a = get("/static/data.bin", {{"range", "bytes=90-"}});
  EXPECT_EQ(a.length, 10u);
  a = get("/static/data.bin", {{"range", "bytes=50-1000"}});
  EXPECT_EQ(header(a, "content-range"), "bytes 50-99/100");
  a = get("/static/data.bin", {{"range", "bytes=100-"}});
  EXPECT_EQ(a.status, 416);
  EXPECT_EQ(header(a, "content-range"), "bytes */100");
  EXPECT_FALSE(a.file);
  EXPECT_EQ(get("/static/data.bin", {{"range", "bytes=1-2,5-6"}}).status, 200);  // multi: whole file
  EXPECT_EQ(get("/static/data.bin", {{"range", "items=1-2"}}).status, 200);
  EXPECT_EQ(get("/static/data.bin", {{"range", "bytes=5-1"}}).status, 200);
  const auto etag = header(get("/static/data.bin"), "etag");
  EXPECT_EQ(get("/static/data.bin", {{"range", "bytes=0-1"}, {"if-range", etag}}).status, 206);
  EXPECT_EQ(get("/static/data.bin", {{"range", "bytes=0-1"}, {"if-range", "\"stale\""}}).status, 200);
}

TEST_F(StaticFiles, PrecompressedSiblings) {
  auto a = get("/static/css/site.css", {{"accept-encoding", "gzip, br"}});
  EXPECT_EQ(header(a, "content-encoding"), "br");
  EXPECT_EQ(a.length, 2u);
  EXPECT_EQ(header(a, "vary"), "accept-encoding");
  EXPECT_EQ(header(a, "content-type"), "text/css; charset=utf-8");
  a = get("/static/css/site.css", {{"accept-encoding", "gzip;q=1, br;q=0"}});
  EXPECT_EQ(header(a, "content-encoding"), "gzip");
  a = get("/static/css/site.css", {{"accept-encoding", "identity"}});
  EXPECT_EQ(header(a, "content-encoding"), "<none>");
  mount_.precompressed = false;
  a = get("/static/css/site.css", {{"accept-encoding", "br"}});
  EXPECT_EQ(header(a, "content-encoding"), "<none>");
}

TEST(MimeType, CommonExtensions) {
  EXPECT_EQ(mime_type("a.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type("x/y.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type("font.woff2"), "font/woff2");
  EXPECT_EQ(mime_type("noext"), "application/octet-stream");
  EXPECT_EQ(mime_type(".bashrc"), "application/octet-stream");
}

TEST(FindMount, LongestPrefixOnSegmentBoundary) {
  std::vector<StaticMount> mounts(2);
  mounts[0].prefix = "/static/img";
  mounts[1].prefix = "/static";
  EXPECT_EQ(find_mount(mounts, "/static/img/a.png"), &mounts[0]);
  EXPECT_EQ(find_mount(mounts, "/static/imgx"), &mounts[1]);
  EXPECT_EQ(find_mount(mounts, "/staticx"), nullptr);
  EXPECT_EQ(find_mount(mounts, "/static"), &mounts[1]);
}

}  // namespace
}  // namespace pagi::gateway::edge
