@0xe3f5a8b1c2d47f60;
# Agent -> collector RPC. An agent proves itself in hello() and only then holds an Ingest capability.
#
# Delivery contract: the collector commits each pushed batch in an LMDB write transaction and only
# then answers push() with committedThroughSeq, the collector's high-water mark of (agentId, epoch).
# The agent deletes spooled events only through that seq. Events at or below the mark are
# redeliveries and are skipped, so a retried batch is a no-op.
#
# The mark is safe to delete through because it never passes a batch that was not stored
# (contiguity): a push is stored only when it continues from the mark (previousSeq <= mark), so a
# push that failed (a full disk) is never passed by a later push of the same agent and epoch — the
# later one is refused too, and the agent resends both after a new hello(). Every event at or below
# the mark was stored, or quarantined (stored as received, apart from the queryable events, because
# its content broke the collector's rules: counted and kept, never dropped), or was never in the
# agent's spool to begin with (see previousSeq).

$import "/capnp/c++.capnp".namespace("octolaunch::schema");
using Event = import "event.capnp".Event;

struct AgentInfo {
  agentId @0 :Text;
  host    @1 :Text;
  version @2 :Text;
}

# Clocks, measured as NTP does: the agent stamps agentSendNs on a call, the collector answers with
# when it received the call and when it answered; the agent, on receiving the answer at t3,
# computes offset = ((collectorReceiveNs - agentSendNs) + (collectorSendNs - t3)) / 2 (the
# collector's clock minus its own) and roundTrip = (t3 - agentSendNs) - (collectorSendNs -
# collectorReceiveNs), and reports its best sample (least round trip) in its next push.
struct ClockOffset {
  offsetNs    @0 :Int64;   # collector clock minus agent clock
  roundTripNs @1 :Int64;   # the sample's round trip: the offset is good to +- half of it
  measured    @2 :Bool;    # false until the agent has a sample
}
# What an agent presents in hello(). An enrolled agent presents its per-agent key with the
# generation pair below; an agent of an open collector presents nothing.
#
# Generations tell two installations of one identity apart (a cloned VM image copies the key): the
# collector keeps one generation per enrolled agent. Before each hello the agent picks a random
# nextGeneration and saves it with its current generation; hello is accepted when the collector's
# generation equals either (the second: the answer to the previous hello was lost), and the
# collector then keeps nextGeneration. A copy of the key file runs one hello behind the original
# and presents a pair the collector no longer holds: the collector reports a clone and refuses
# with "identity cloned", and the copy enrolls as a new agent with a new spool epoch.
struct Credentials {
  token          @0 :Text;    # an older agent's shared token (accepted only where configured)
  agentKey       @1 :Text;    # the per-agent key from enroll()
  generation     @2 :UInt64;
  nextGeneration @3 :UInt64;
}

interface Collector {
  hello @0 (agent :AgentInfo, epoch :UInt64, credentials :Credentials, agentSendNs :Int64)
        -> (ingest :Ingest, resumeAfterSeq :UInt64, collectorReceiveNs :Int64,
            collectorSendNs :Int64, accepts :List(Text));
  # Fails with an exception when the credentials are not accepted; its description starts with
  # "not enrolled:", "revoked:", "identity cloned:" or "credentials not accepted". For an enrolled
  # agent the host is the one recorded at enrollment: agent.host is not believed. resumeAfterSeq is
  # the collector's high-water mark for (agent.agentId, epoch): the agent may drop events up to it.
  # accepts: what the collector takes beyond what the first version of this protocol had; today
  # "hookBlock" (Event.payload.hookBlock) and "sessionEnvelope" (pushed events may leave agentId
  # and host empty and epoch 0: the collector stores the session's). An agent sends nothing the
  # list does not name: to an older collector (an empty list) it sends each hook.block as one
  # hook.output event whose line holds the block's lines joined by "\n", and every event with
  # its agentId, host and epoch (docs/ingest-blocks.md).

  enroll @1 (secret :Text, agent :AgentInfo) -> (agentKey :Text, generation :UInt64);
  # Once per installation: the enrollment secret (one of the collector's [rpc] tokens) for a key
  # bound to agent.agentId and agent.host. Fails with "credentials not accepted" for a wrong
  # secret and "already enrolled:" for an agent id that holds an unrevoked key (revoke it first:
  # `octolaunch agents revoke ID`). The collector keeps only the key's SHA-256.
}

interface Ingest {
  push @0 (events :List(Event), previousSeq :UInt64 = 0xffffffffffffffff, agentSendNs :Int64,
           clock :ClockOffset)
       -> (committedThroughSeq :UInt64, collectorReceiveNs :Int64, collectorSendNs :Int64);
  # Events must belong to the hello()'s agent and epoch and be in increasing seq order (else the
  # whole push fails, nothing stored). Within such a batch each event is judged on its own: one
  # whose content the collector refuses (an over-long release id, an unknown payload kind) is
  # quarantined and counts as stored; its neighbours are stored normally.
  #
  # previousSeq: the seq this push continues from — the last seq of the previous push of this
  # session, or for a session's first push the seq it resumed after (at most resumeAfterSeq). The
  # agent promises it holds no event between previousSeq and events[0].seq that it has not already
  # pushed. The collector stores the push only when previousSeq <= its mark; otherwise an earlier
  # push is missing and this one fails with "gap" (nothing stored): the agent starts a new session
  # and resends from resumeAfterSeq. Left unset (an older agent), it is taken as events[0].seq - 1.
  #
  # Fails (and the agent keeps its spool) when the store cannot commit: "store is full" when the
  # collector's disk or map is full (the agent retries with backoff; nothing is skipped), another
  # store error otherwise.

  report @1 (health :AgentHealth) -> ();
  # The agent's own health, after hello() and then periodically (every 30 s): the collector keeps
  # the latest per agent (in memory) and shows it in /metrics and GET /api/v1/agents. Nothing is
  # stored. Fails with "report refused:" for a report over the limits (more than 64 sources, a
  # source name over 64 bytes or not [a-z0-9_.-]). An older agent never calls it; an older
  # collector answers UNIMPLEMENTED, and the agent stops reporting for that session.
}

# What an agent reports about itself (Ingest.report). Counters count since the agent process
# started unless said otherwise.
struct AgentHealth {
  spoolEvents       @0 :UInt64;  # events in the spool not yet acknowledged
  spoolBytes        @1 :UInt64;  # bytes of those events (what the spool's max_bytes bounds)
  eventsShed        @2 :UInt64;  # low-value events shed because the spool was full, since the
                                 # spool was created
  shipLatencyNs     @3 :Int64 = -1;  # round trip of the last acknowledged push; -1: none yet
  recordingFailures @4 :UInt64;  # batches handed over by local users (hook, deploy) that the
                                 # agent refused or could not store
  sourceErrors      @5 :List(SourceErrors);  # problems each host source logged

  struct SourceErrors {
    source @0 :Text;    # "kmsg", "journal", "psi", "containers", "health", ...
    count  @1 :UInt64;
  }
}
