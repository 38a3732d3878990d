// Counters of the ingest path, and what it learnt of each agent (agents: last seen, lag, the
// health it reported). Written on the ingest thread, read by /metrics on HTTP threads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "collector/ingest/connection_guard.h"
#include "collector/store/agent_status.h"
#include "octolaunch/schema/event.capnp.h"
#include "shared/event/event_kinds.h"

namespace octolaunch::ingest {

struct IngestMetrics {
  std::atomic<std::uint64_t> connectionsAccepted{0};
  std::atomic<std::uint64_t> connectionsOpen{0};
  std::atomic<std::uint64_t> connectionsClosed{0};    // closed by the peer, dropped or cut
  std::atomic<std::uint64_t> connectionsRejected{0};  // dropped by us before the peer closed:
                                                      // bad bytes or a message over the limits
  std::atomic<std::uint64_t> connectionsRefused{0};   // closed at accept: max_connections open
  // Cut by the collector's limits (connection_guard.h), by reason.
  std::atomic<std::uint64_t> cutHelloTimeout{0};
  std::atomic<std::uint64_t> cutIdleTimeout{0};
  std::atomic<std::uint64_t> cutUnsentBacklog{0};
  std::atomic<std::uint64_t> hellosRejected{0};   // bad credentials or identifiers
  std::atomic<std::uint64_t> enrollments{0};      // agents enrolled (a key issued)
  std::atomic<std::uint64_t> clonesReported{0};   // hellos refused as a second installation
  std::atomic<std::uint64_t> batchesRejected{0};  // failed validation
  std::atomic<std::uint64_t> batchesCommitted{0};
  std::atomic<std::uint64_t> eventsStored{0};  // the sum of eventsStoredByKind
  // Events newly stored (not quarantined) by kind, in kEventKinds order; the last: kinds this
  // build does not know.
  std::array<std::atomic<std::uint64_t>, kEventKinds.size() + 1> eventsStoredByKind{};
  std::atomic<std::uint64_t> eventsDuplicate{0};    // redeliveries skipped
  std::atomic<std::uint64_t> eventsQuarantined{0};  // kept as received, out of the indexes
  std::atomic<std::uint64_t> batchesGap{0};  // refused: an earlier batch of the agent is missing
  std::atomic<std::uint64_t> commitTransactions{0};
  std::atomic<std::uint64_t> batchesEncoding{0};  // gauge: checked, on an encoder thread
  std::atomic<std::uint64_t> batchesWaiting{0};   // gauge: encoded, waiting for a transaction
  std::atomic<std::uint64_t> commitErrors{0};
  std::atomic<std::uint64_t> commitErrorsFull{0};  // map or disk full
  std::atomic<std::uint64_t> storeFull{0};         // gauge: 1 while the last commit failed full
  std::atomic<std::uint64_t> commitNanosTotal{0};
  // gauge: the wall time (Unix ns) the last event transaction was answered; 0 before the first.
  std::atomic<std::int64_t> lastCommitUnixNs{0};
  std::atomic<std::uint64_t> reportsRejected{0};  // report() calls over the limits

  AgentStatusTable agents;

  void countCut(CutReason reason);
  void countStored(schema::Event::Reader event);

  // Prometheus text exposition of every counter (octolaunch_ingest_* names, and
  // octolaunch_events_stored_total by kind). The per-agent families are written by the HTTP
  // layer from `agents`.
  std::string prometheus() const;
};

}  // namespace octolaunch::ingest
