// target.hpp: a watched process, as the CLI names it (http://127.0.0.1:6060 or 127.0.0.1:6060),
// and reading its snapshot over HTTP (GET <target>/debug/leakwatch/snapshot) within a deadline
// and a size cap. Thread-safe (no shared state); allocates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "leakwatch/result.hpp"
#include "src/snapshot/model.hpp"
#include "tools/leakwatch/body_buffer.hpp"

namespace lw::cli {

inline constexpr const char* kSnapshotPath = "/debug/leakwatch/snapshot";
inline constexpr std::int64_t kDefaultHttpTimeoutNs = 10'000'000'000;
// The default --max-snapshot-bytes: a snapshot of 100k tasks and 10k heap sites is ~11 MB, so
// this leaves room for services twenty times that size and still bounds a hostile one.
inline constexpr std::int64_t kDefaultMaxSnapshotBytes = std::int64_t{256} << 20;

// normalize_target() turns what the user typed into "scheme://host:port[/prefix]": a missing
// scheme means http; a trailing "/" or "/debug/leakwatch/snapshot" is dropped. Errors name the
// part that is wrong.
Result<std::string> normalize_target(std::string_view text);

struct Fetched {
  BodyBuffer bytes;             // the body as received, inflated if it came gzipped (the encoded snapshot)
  snapshot::Snapshot snapshot;  // decoded
};

// fetch_snapshot() GETs the snapshot of `target` (normalized) within `timeout_ns` for the whole
// request (connect, send, head and body), refusing a body of more than `max_bytes` received or
// inflated. LEAKWATCH_TOKEN, when set, is sent as a bearer token.
Result<Fetched> fetch_snapshot(const std::string& target, std::int64_t timeout_ns,
                               std::int64_t max_bytes = kDefaultMaxSnapshotBytes);

// read_snapshot_source() reads a snapshot from `source`: a file holding an encoded snapshot (the
// body of /debug/leakwatch/snapshot saved with curl -o) when such a file exists, else a target URL.
// A file is read whole, under the same cap.
Result<snapshot::Snapshot> read_snapshot_source(const std::string& source, std::int64_t timeout_ns,
                                                std::int64_t max_bytes = kDefaultMaxSnapshotBytes);

}  // namespace lw::cli
