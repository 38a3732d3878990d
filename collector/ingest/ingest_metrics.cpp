#include "collector/ingest/ingest_metrics.h"

namespace octolaunch::ingest {

namespace {
void metric(std::string& out, const char* name, const char* type, const char* help,
            std::uint64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}
}  // namespace

std::string IngestMetrics::prometheus() const {
  std::string out;
  metric(out, "octolaunch_ingest_connections_accepted_total", "counter",
         "RPC connections accepted.", connectionsAccepted.load());
  metric(out, "octolaunch_ingest_connections_open", "gauge", "RPC connections open now.",
         connectionsOpen.load());
  metric(out, "octolaunch_ingest_connections_closed_total", "counter",
         "RPC connections ended: closed by the agent or dropped for bad or truncated messages.",
         connectionsClosed.load());
  metric(out, "octolaunch_ingest_hellos_rejected_total", "counter",
         "hello() calls refused (credentials or identifiers).", hellosRejected.load());
  metric(out, "octolaunch_ingest_batches_rejected_total", "counter",
         "push() batches refused as malformed.", batchesRejected.load());
  metric(out, "octolaunch_ingest_batches_committed_total", "counter",
         "push() batches committed and acknowledged.", batchesCommitted.load());
  metric(out, "octolaunch_ingest_events_stored_total", "counter", "Events newly stored.",
         eventsStored.load());
  metric(out, "octolaunch_ingest_events_duplicate_total", "counter",
         "Redelivered events skipped (at or below the high-water mark).", eventsDuplicate.load());
  metric(out, "octolaunch_ingest_commit_transactions_total", "counter",
         "LMDB write transactions committed for events (each may group several batches).",
         commitTransactions.load());
  metric(out, "octolaunch_ingest_commit_errors_total", "counter",
         "Commits that failed (nothing acknowledged).", commitErrors.load());
  metric(out, "octolaunch_ingest_commit_errors_full_total", "counter",
         "Commits refused because the store map or the disk is full.", commitErrorsFull.load());
  out += "# HELP octolaunch_ingest_commit_seconds_total Time spent in event commits.\n"
         "# TYPE octolaunch_ingest_commit_seconds_total counter\n"
         "octolaunch_ingest_commit_seconds_total " +
         std::to_string(static_cast<double>(commitNanosTotal.load()) / 1e9) + "\n";
  return out;
}

}  // namespace octolaunch::ingest
