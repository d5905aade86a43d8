// The Grafana dashboard (docs/grafana/leakwatch.json) against a real Prometheus: Debian's
// prometheus scrapes a fixture's /metrics every second, and every panel's PromQL, with Grafana's
// variables filled in as Grafana would, is run through Prometheus's HTTP API and must return data.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/fixture_process.hpp"
#include "tests/integration/run_command.hpp"

namespace {

using lw::test::run_command;

// free_port() is a loopback port nobody listens on right now.
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

// grafana_expr() fills in the variables the dashboard uses, as Grafana does for "All".
std::string grafana_expr(std::string e) {
  for (auto [var, value] : {std::pair<std::string, std::string>{"$__rate_interval", "10s"}, {"$job", ".+"},
                            {"$instance", ".+"}}) {
    for (auto at = e.find(var); at != std::string::npos; at = e.find(var, at + value.size())) e.replace(at, var.size(), value);
  }
  return e;
}

// query() runs `expr` and returns "<status> <number of series>".
std::string query(int port, const std::string& expr) {
  std::ofstream("/tmp/lw_promql.txt") << expr;
  auto r = run_command("curl -s 'http://127.0.0.1:" + std::to_string(port) +
                       "/api/v1/query' --data-urlencode query@/tmp/lw_promql.txt | jq -r '.status + \" \" + "
                       "((.data.result // []) | length | tostring)'");
  auto out = r.output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("every panel of the Grafana dashboard returns data from a real Prometheus scraping a target") {
  lw::test::FixtureProcess app(LW_CONTENTION, {}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "contention: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string target = app.url().substr(std::string("http://").size());
  const std::string dir = "/tmp/lw_prometheus_" + std::to_string(getpid());
  run_command("rm -rf " + dir + " && mkdir -p " + dir + "/data");
  std::ofstream(dir + "/prometheus.yml") << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                         << "scrape_configs:\n  - job_name: fixture\n    static_configs:\n"
                                         << "      - targets: ['" << target << "']\n";
  const int port = free_port();
  lw::test::FixtureProcess prometheus(
      "/usr/bin/prometheus",
      {"--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(port)},
      {}, "Server is ready to receive web requests.");
  // Ready once it has scraped the target a few times.
  std::string up;
  for (int i = 0; i < 60; ++i) {
    up = query(port, "count_over_time(up{job=\"fixture\"}[1m]) >= 5");
    if (up == "success 1") break;
    usleep(500'000);
  }
  REQUIRE_MESSAGE(up == "success 1", "Prometheus never scraped the target 5 times: " << up);
  CHECK(query(port, "up{job=\"fixture\"} == 1") == "success 1");

  auto exprs = run_command("jq -r '.panels[].targets[].expr' '" LW_DASHBOARD "'");
  REQUIRE(exprs.exit_code == 0);
  const std::vector<std::string> all = lines(exprs.output);
  CHECK(all.size() >= 20);
  for (const std::string& e : all) {
    const std::string answer = query(port, grafana_expr(e));
    INFO(e);
    CHECK(answer.rfind("success ", 0) == 0);
    CHECK(answer != "success 0");
  }
  // The variables' own query: leakwatch_info carries job and instance.
  CHECK(query(port, "leakwatch_info{job=\"fixture\"}") == "success 1");
  run_command("rm -rf " + dir + " /tmp/lw_promql.txt");
}
