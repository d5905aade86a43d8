// The thread views' text (threads debug=1/2, threadleak, threadcreate debug=1): exact records
// for threads in every state, a structural parse of the whole dump, and go tool pprof's legacy
// parser on the count forms.
#include <doctest/doctest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "src/profile/thread_text.hpp"
#include "tests/profile/pprof_raw.hpp"
#include "tests/profile/synthetic_threads.hpp"

using namespace lw;
using namespace lw::profile;
using lw::test::parse_raw;
using lw::test::pprof;

namespace {

std::string threads(const snapshot::Snapshot& s, int debug,
                    ThreadSelection which = ThreadSelection::kAll, bool internal = false) {
  std::ostringstream os;
  write_thread_text(os, s, debug, which, internal);
  return os.str();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::string text_path(const std::string& name, const std::string& data) {
  std::string path = test::temp_dir() + "/" + name;
  test::write_file(path, data);
  return path;
}

// A thread record as a reader splits it: the header, frames (function, file:line), the
// placeholder when there is no stack, the creator, and the trailing '#' lines.
struct ParsedThread {
  long long tid = 0;
  std::string name;
  std::string words;  // inside the header's brackets
  std::vector<std::string> functions;
  std::vector<std::string> files;
  std::string unavailable;
  std::string created_by;
  std::string created_at;
  std::vector<std::string> comments;
};

// parse_dump() reads a debug=2 dump and fails the test on any line out of place.
std::vector<ParsedThread> parse_dump(const std::string& text) {
  static const std::regex kHeader(R"re(^thread (\d+) "((?:[^"\\]|\\.)*)" \[(.+)\]:$)re");
  static const std::regex kFunc(R"(^(.+)\(\.\.\.\)$)");
  static const std::regex kFile(R"(^\t(\?\?|[^\t]+):(\d+)$)");
  static const std::regex kUnavailable(R"(^\t\((stack unavailable.*)\)$)");
  static const std::regex kCreated(R"(^created by (.+)$)");
  std::vector<ParsedThread> out;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  bool expect_file = false, expect_created_file = false, blank_seen = true;
  while (std::getline(in, line)) {
    if (line.empty()) {
      REQUIRE_FALSE(expect_file);
      blank_seen = true;
      continue;
    }
    if (std::regex_match(line, m, kHeader)) {
      REQUIRE_MESSAGE(blank_seen, "records are separated by a blank line: " << line);
      ParsedThread t;
      t.tid = std::stoll(m[1]);
      t.name = m[2];
      t.words = m[3];
      out.push_back(t);
      blank_seen = false;
      continue;
    }
    REQUIRE_MESSAGE(!out.empty(), "text before the first record: " << line);
    ParsedThread& t = out.back();
    if (expect_file || expect_created_file) {
      REQUIRE_MESSAGE(std::regex_match(line, m, kFile), "expected \\tfile:line, got: " << line);
      (expect_file ? t.files.emplace_back() : t.created_at) =
          std::string(m[1]) + ":" + std::string(m[2]);
      expect_file = expect_created_file = false;
    } else if (line[0] == '#') {
      t.comments.push_back(line);
    } else if (std::regex_match(line, m, kCreated)) {
      REQUIRE(t.created_by.empty());
      t.created_by = m[1];
      expect_created_file = true;
    } else if (std::regex_match(line, m, kUnavailable)) {
      REQUIRE(t.functions.empty());
      t.unavailable = m[1];
    } else {
      REQUIRE_MESSAGE(std::regex_match(line, m, kFunc), "expected a frame, got: " << line);
      REQUIRE_MESSAGE(t.created_by.empty(), "a frame after 'created by': " << line);
      t.functions.push_back(m[1]);
      expect_file = true;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("threads debug=2: one record per user thread, by tid, in the goroutine dump's shape") {
  auto s = test::synthetic_thread_snapshot();
  std::string text = threads(s, 2);
  auto ts = parse_dump(text);
  REQUIRE(ts.size() == 8);  // lw-http (internal) and lw-worker-0 (runtime worker) left out
  std::vector<long long> tids;
  for (const auto& t : ts) tids.push_back(t.tid);
  CHECK(tids == std::vector<long long>{100, 101, 102, 103, 104, 105, 106, 107});

  // The main thread: running, no creator (it existed before the tracker).
  CHECK(ts[0].words == "running");
  CHECK(ts[0].functions == std::vector<std::string>{"spin_forever()", "main"});
  CHECK(ts[0].files == std::vector<std::string>{"/src/spin.cpp:3", "/src/main.cpp:10"});
  CHECK(ts[0].created_by.empty());

  // An exact wait of 3 min 20 s, in the goroutine dump's words; created from the pool's start,
  // past the pthread_create interposer and std::thread's frames.
  CHECK(contains(text,
                 "thread 101 \"pool-0\" [condition wait, 3 minutes]:\n"
                 "__futex_abstimed_wait_common(...)\n\t??:0\n"
                 "pthread_cond_wait(...)\n\t??:0\n"
                 "WorkQueue::pop()(...)\n\t/src/queue.cpp:55\n"
                 "worker_loop(int)(...)\n\t/src/worker_pool.cpp:20\n"
                 "execute_native_thread_routine(...)\n\t??:0\n"
                 "start_thread(...)\n\t??:0\n"
                 "created by WorkerPool::start(int) in thread 100\n"
                 "\t/src/worker_pool.cpp:9\n"
                 "# labels: {\"pool\":\"io\"}\n\n"));

  // A system call of unknown start: its name and what the descriptor is, no time.
  CHECK(ts[3].name == "pipe reader");
  CHECK(contains(text, "thread 103 \"pipe reader\" [syscall read, pipe:[99]]:\nread(...)\n"));
  CHECK(ts[3].created_by == "WorkerPool::start(int) in thread 100");

  // Proven leaked: marked in the header, the proof after the record; an exact 45 s wait.
  CHECK(ts[4].words == "mutex lock (leaked), 45 seconds, held by thread 105");
  CHECK(ts[4].functions.at(1) == "lw::threads::contended_lock(pthread_mutex_t*)");
  CHECK(ts[4].comments ==
        std::vector<std::string>{
            "# leaked: deadlock: thread 104 waits for thread 105, which waits for thread 104"});

  // No stack: the reason in its place; created from a task.
  CHECK(contains(
      text,
      "thread 105 \"helper\" [mutex lock (leaked), 45 seconds, held by thread 104]:\n"
      "\t(stack unavailable: thread blocks signal 61)\n"
      "created by spawn_helper() in goroutine 5\n"
      "\t/src/helper.cpp:7\n"
      "# labels: {\"stage\":\"produce\"}\n"
      "# leaked: deadlock: thread 105 waits for thread 104, which waits for thread 105\n"));

  // Exited and never joined; stopped.
  CHECK(ts[6].words == "exited, unjoined");
  CHECK(ts[6].unavailable == "stack unavailable: thread has exited");
  CHECK(ts[6].created_at == "/src/worker_pool.cpp:9");
  CHECK(ts[7].words == "stopped");
  CHECK(ts[7].created_by.empty());
}

TEST_CASE("threads debug=2: internal threads on request, odd text kept on one line") {
  auto s = test::synthetic_thread_snapshot();
  auto all = parse_dump(threads(s, 2, ThreadSelection::kAll, /*internal=*/true));
  REQUIRE(all.size() == 10);
  CHECK(all[8].tid == 108);
  CHECK(all[8].words == "syscall accept");
  CHECK(all[9].name == "lw-worker-0");

  s.threads[1].wait_reason = "odd]reason\nhere";
  s.threads[1].wait_since_unix_ns = s.time_unix_ns - 500'000'000;  // under a second: no time
  s.threads[1].name = "a \"quoted\"\nname";
  s.threads[3].wait_detail = "socket:[1234] 127.0.0.1:40000->127.0.0.1:80";
  s.threads[3].wait_since_unix_ns = s.time_unix_ns - 7'000'000'000;
  s.threads[3].stack_error = "ignored: it has a stack";
  s.threads[6].join = snapshot::JoinState::kJoined;
  s.threads[5].stack_error.clear();
  std::string text = threads(s, 2);
  auto ts = parse_dump(text);
  REQUIRE(ts.size() == 8);
  CHECK(ts[1].words == "odd)reason here");
  CHECK(contains(text, "thread 101 \"a \\\"quoted\\\"\\nname\" [odd)reason here]:\n"));
  CHECK(ts[3].words == "syscall read, 7 seconds, socket:[1234] 127.0.0.1:40000->127.0.0.1:80");
  CHECK(ts[3].unavailable.empty());
  CHECK(ts[5].unavailable == "stack unavailable");
  CHECK(ts[6].words == "exited");
}

TEST_CASE("threads debug=1: Go's count records, read by go tool pprof") {
  auto s = test::synthetic_thread_snapshot();
  std::string text = threads(s, 1);
  CHECK(text.rfind("threads profile: total 8\n"
                   "2 @ 0x7f0000002010 0x7f0000002020 0x403020 0x403030 0x7f0000002030 "
                   "0x7f0000002040\n"
                   "# labels: {\"pool\":\"io\"}\n"
                   "#\t0x7f000000200f\t__futex_abstimed_wait_common\t??:0\n"
                   "#\t0x7f000000201f\tpthread_cond_wait\t??:0\n"
                   "#\t0x40301f\tWorkQueue::pop()\t/src/queue.cpp:55\n",
                   0) == 0);
  // Threads without a stack are counted under none, with their state and why.
  CHECK(contains(text, "\n1 @ 0x0\n# exited, unjoined, stack unavailable: thread has exited\n\n"));
  CHECK(contains(text,
                 "\n1 @ 0x0\n# labels: {\"stage\":\"produce\"}\n"
                 "# mutex lock, stack unavailable: thread blocks signal 61\n\n"));
  CHECK(contains(text, "\n1 @ 0x403070 0x401510\n#\t0x40306f\tspin_forever()\t/src/spin.cpp:3\n"));
  CHECK_FALSE(contains(text, "lw-http"));

  auto r = pprof("-raw " + text_path("threads.txt", text));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.sample_types == "threads/count");
  // pprof's parser skips '#' lines, so the two records without a stack merge into one sample.
  REQUIRE(p.samples.size() == 6);
  long long total = 0;
  for (const auto& x : p.samples) total += x.values.at(0);
  CHECK(total == 8);
  CHECK(p.samples[0].values == std::vector<long long>{2});

  std::string with_internal = threads(s, 1, ThreadSelection::kAll, /*internal=*/true);
  CHECK(with_internal.rfind("threads profile: total 10\n", 0) == 0);
  CHECK(contains(with_internal, "\n3 @ 0x403070 0x7f0000002030 0x7f0000002040\n"));
}

TEST_CASE("threadleak: only the proven threads, in both forms") {
  auto s = test::synthetic_thread_snapshot();
  std::string agg = threads(s, 1, ThreadSelection::kLeaked);
  CHECK(agg.rfind("threadleak profile: total 2\n", 0) == 0);
  auto r = pprof("-raw " + text_path("threadleak.txt", agg));
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.sample_types == "threadleak/count");
  CHECK(p.samples.size() == 2);

  auto ts = parse_dump(threads(s, 2, ThreadSelection::kLeaked));
  REQUIRE(ts.size() == 2);
  CHECK(ts[0].tid == 104);
  CHECK(ts[1].tid == 105);
  CHECK(threads(s, 2, ThreadSelection::kLeaked).find("pool-0") == std::string::npos);

  snapshot::Snapshot none = test::synthetic_thread_snapshot();
  for (auto& t : none.threads) t.leaked = false;
  CHECK(threads(none, 1, ThreadSelection::kLeaked) == "threadleak profile: total 0\n");
  CHECK(threads(none, 2, ThreadSelection::kLeaked).empty());
}

TEST_CASE("threadcreate debug=1: one record per creation stack, or per thread without them") {
  auto s = test::synthetic_thread_snapshot();
  std::ostringstream os;
  write_threadcreate_text(os, s);
  std::string text = os.str();
  CHECK(text.rfind("threadcreate profile: total 10\n"
                   "7 @ 0x403080 0x7f0000003010 0x403090 0x401510\n"
                   "#\t0x40307f\tpthread_create\t/src/threads/interpose.cpp:40\n",
                   0) == 0);
  CHECK(contains(text, "#\t0x40308f\tWorkerPool::start(int)\t/src/worker_pool.cpp:9\n"));
  CHECK(contains(text, "\n2 @ 0x0\n# no creation stack\n\n"));
  auto r = pprof("-raw " + text_path("threadcreate.txt", text));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto p = parse_raw(r.output);
  CHECK(p.sample_types == "threadcreate/count");
  REQUIRE(p.samples.size() == 3);
  CHECK(p.samples[0].values == std::vector<long long>{7});

  // A snapshot without the thread registry: no creation stacks, one record per thread.
  auto untracked = test::synthetic_snapshot();
  std::ostringstream legacy;
  write_threadcreate_text(legacy, untracked);
  CHECK(legacy.str() ==
        "threadcreate profile: total 3\n"
        "1 @ 0x0\n# thread 4242 svc\n\n"
        "1 @ 0x0\n# thread 4243 lw-worker-0\n\n"
        "1 @ 0x0\n# thread 4244 lw-worker-1\n\n");
}
