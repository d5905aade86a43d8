#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "src/profile/gzip.hpp"

using namespace lw::profile;

TEST_CASE("gzip output is read back by gunzip and by the gzip tool") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "goroutine " + std::to_string(i) + " [chan receive]:\n";
  std::string z = gzip(text);
  CHECK(z.size() < text.size() / 4);
  auto back = gunzip(z);
  REQUIRE(back.ok());
  CHECK(*back == text);

  char path[] = "/tmp/lw_gzip_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::FILE* f = fdopen(fd, "wb");
  std::fwrite(z.data(), 1, z.size(), f);
  std::fclose(f);
  std::string cmd = std::string("gzip -dc < ") + path;
  std::FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  CHECK(pclose(p) == 0);
  CHECK(out == text);
  std::remove(path);
}

TEST_CASE("gunzip rejects plain, truncated and oversized input") {
  CHECK_FALSE(gunzip("plain text, not gzip at all").ok());
  std::string z = gzip(std::string(100000, 'x'));
  auto cut = gunzip(std::string_view(z).substr(0, z.size() - 10));
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().message.find("truncated") != std::string::npos);
  auto big = gunzip(z, 1000);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message.find("beyond") != std::string::npos);
}
