#include "collector/ingest/ingest_metrics.h"

#include <utility>

#include "shared/event/hook_block.h"
#include "shared/util/prometheus_text.h"

namespace octolaunch::ingest {

void IngestMetrics::countCut(CutReason reason) {
  switch (reason) {
    case CutReason::none:
      return;
    case CutReason::helloTimeout:
      cutHelloTimeout++;
      return;
    case CutReason::idleTimeout:
      cutIdleTimeout++;
      return;
    case CutReason::unsentBacklog:
      cutUnsentBacklog++;
      return;
  }
}

void IngestMetrics::countStored(schema::Event::Reader event) {
  const EventKind* kind = findKind(storedKindName(event));
  if (kind == nullptr) kind = findKind(event);
  const std::size_t index =
      kind == nullptr ? kEventKinds.size() : static_cast<std::size_t>(kind - kEventKinds.data());
  eventsStoredByKind[index].fetch_add(recordCount(event), std::memory_order_relaxed);
}

std::string IngestMetrics::prometheus() const {
  struct Row {
    const char* name;
    const char* type;
    const char* help;
    const std::atomic<std::uint64_t>& value;
  };
  const Row rows[] = {
      {"octolaunch_ingest_connections_accepted_total", "counter", "RPC connections accepted.",
       connectionsAccepted},
      {"octolaunch_ingest_connections_open", "gauge", "RPC connections open now.", connectionsOpen},
      {"octolaunch_ingest_connections_closed_total", "counter",
       "RPC connections ended: closed by the agent or dropped for bad or truncated messages.",
       connectionsClosed},
      {"octolaunch_ingest_connections_rejected_total", "counter",
       "RPC connections dropped for bytes that are not a valid agent message (or over the limits).",
       connectionsRejected},
      {"octolaunch_ingest_connections_refused_total", "counter",
       "RPC connections closed at accept because max_connections were open.", connectionsRefused},
      {"octolaunch_ingest_hellos_rejected_total", "counter",
       "hello() and enroll() calls refused (credentials or identifiers).", hellosRejected},
      {"octolaunch_ingest_enrollments_total", "counter",
       "Agents enrolled (a per-agent key issued).", enrollments},
      {"octolaunch_ingest_clones_reported_total", "counter",
       "hello() calls refused as a second installation of an enrolled agent (a cloned image).",
       clonesReported},
      {"octolaunch_ingest_batches_rejected_total", "counter",
       "push() batches refused as malformed.", batchesRejected},
      {"octolaunch_ingest_batches_committed_total", "counter",
       "push() batches committed and acknowledged.", batchesCommitted},
      {"octolaunch_ingest_events_duplicate_total", "counter",
       "Redelivered events skipped (at or below the high-water mark).", eventsDuplicate},
      {"octolaunch_ingest_events_quarantined_total", "counter",
       "Events kept in quarantine as received (content refused), acknowledged, not indexed.",
       eventsQuarantined},
      {"octolaunch_ingest_batches_gap_total", "counter",
       "push() batches refused because an earlier batch of the agent was not stored.", batchesGap},
      {"octolaunch_ingest_commit_transactions_total", "counter",
       "LMDB write transactions committed for events (each may group several batches).",
       commitTransactions},
      {"octolaunch_ingest_batches_encoding", "gauge",
       "push() batches checked and being encoded (stamped, packed, compressed).", batchesEncoding},
      {"octolaunch_ingest_batches_waiting", "gauge",
       "push() batches encoded and waiting for a transaction (the writer is busy).",
       batchesWaiting},
      {"octolaunch_ingest_commit_errors_total", "counter",
       "Commits that failed (nothing acknowledged).", commitErrors},
      {"octolaunch_ingest_commit_errors_full_total", "counter",
       "Commits refused because the store map or the disk is full.", commitErrorsFull},
      {"octolaunch_ingest_reports_rejected_total", "counter",
       "Agent health reports (report()) refused as over the limits.", reportsRejected},
      {"octolaunch_store_full", "gauge",
       "1 while the store is full (the last commit failed for lack of space), else 0.", storeFull},
  };
  PrometheusText out;
  for (const Row& r : rows) out.single(r.name, r.type, r.help, r.value.load());

  out.family(
      "octolaunch_events_stored_total", "counter",
      "Events newly stored from agents, by kind (\"unknown\": a kind this collector does not "
      "know). Quarantined and duplicate events are not counted.");
  for (std::size_t i = 0; i <= kEventKinds.size(); ++i) {
    const std::string_view kind = i < kEventKinds.size() ? kEventKinds[i].name : "unknown";
    out.sample("octolaunch_events_stored_total", {{"kind", kind}}, eventsStoredByKind[i].load());
  }

  out.family("octolaunch_ingest_connections_cut_total", "counter",
             "RPC connections cut by the collector's limits: no accepted hello in time, idle, "
             "answers left unread.");
  const std::pair<CutReason, const std::atomic<std::uint64_t>*> cuts[] = {
      {CutReason::helloTimeout, &cutHelloTimeout},
      {CutReason::idleTimeout, &cutIdleTimeout},
      {CutReason::unsentBacklog, &cutUnsentBacklog}};
  for (const auto& [reason, value] : cuts) {
    out.sample("octolaunch_ingest_connections_cut_total", {{"reason", cutReasonName(reason)}},
               value->load());
  }
  out.single("octolaunch_ingest_commit_seconds_total", "counter", "Time spent in event commits.",
             static_cast<double>(commitNanosTotal.load()) / 1e9);
  out.single("octolaunch_ingest_last_commit_timestamp_seconds", "gauge",
             "Unix time the last event transaction was committed and answered (0: none yet).",
             static_cast<double>(lastCommitUnixNs.load()) / 1e9);
  return out.take();
}

}  // namespace octolaunch::ingest
