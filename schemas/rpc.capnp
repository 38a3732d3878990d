@0xe3f5a8b1c2d47f60;
# Agent -> collector RPC. An agent proves itself in hello() and only then holds an Ingest capability.
#
# Delivery contract: the collector commits each pushed batch in an LMDB write transaction and only
# then answers push() with committedThroughSeq, the highest seq of (agentId, epoch) it has stored.
# The agent deletes spooled events only through that seq. Events at or below the collector's
# high-water mark are redeliveries and are skipped, so a retried batch is a no-op.

$import "/capnp/c++.capnp".namespace("octolaunch::schema");
using Event = import "event.capnp".Event;

struct AgentInfo {
  agentId @0 :Text;
  host    @1 :Text;
  version @2 :Text;
}

struct Credentials {
  token @0 :Text;
}

interface Collector {
  hello @0 (agent :AgentInfo, epoch :UInt64, credentials :Credentials)
        -> (ingest :Ingest, resumeAfterSeq :UInt64);
  # Fails with an exception when the credentials are not accepted. resumeAfterSeq is the
  # collector's high-water mark for (agent.agentId, epoch): the agent may drop events up to it.
}

interface Ingest {
  push @0 (events :List(Event)) -> (committedThroughSeq :UInt64);
  # Events must belong to the hello()'s agent and epoch and be in increasing seq order.
  # Fails (and the agent keeps its spool) when the store cannot commit (e.g. disk full).
}
