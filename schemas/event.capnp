@0xb7c1e0f2a4d39e51;
# The OctoLaunch event model: the one source of truth for what an event is.
# An event is created by an agent source (or the hook wrapper), gets its seq when it enters the
# agent's spool, and is stored by the collector unchanged except for receivedNs.
# Payload field names map to snake_case in JSON (see shared/event/event_json.h).
#
# Ordinals are never reused. New payload kinds take the next free ordinal in the union.

$import "/capnp/c++.capnp".namespace("octolaunch::schema");

struct Event {
  agentId    @0 :Text;     # stable per host: a keyed hash of /etc/machine-id, or from config
  epoch      @1 :UInt64;   # random, created with the agent's spool
  seq        @2 :UInt64;   # per (agentId, epoch), strictly increasing, assigned in the spool
  timeNs     @3 :Int64;    # the agent's clock, UTC nanoseconds since the Unix epoch
  receivedNs @4 :Int64;    # set by the collector when the push arrives to be stored; 0 on the agent
  host       @5 :Text;
  service    @6 :Text;     # optional: empty when unknown
  release    @7 :Text;     # optional: empty when unknown

  payload :union {
    deployStart           @8  :DeployMarker;   # deploy.start
    deployFinish          @9  :DeployMarker;   # deploy.finish
    hookOutput            @10 :HookOutput;     # hook.output
    hookExit              @11 :HookExit;       # hook.exit
    spoolShed             @12 :SpoolShed;      # spool.shed
    oomKill               @13 :OomKill;        # oom.kill
    pressure              @14 :Pressure;       # pressure.memory | pressure.cpu | pressure.io
    diskFull              @15 :Exhaustion;     # disk.full
    inodeExhausted        @16 :Exhaustion;     # inode.exhausted
    fdExhausted           @17 :Exhaustion;     # fd.exhausted
    unitFailed            @18 :UnitFailed;     # unit.failed
    containerFailed       @19 :ContainerFailure;  # container.failed
    containerOom          @20 :ContainerFailure;  # container.oom
    healthFailed          @21 :Health;         # health.failed
    healthRecovered       @22 :Health;         # health.recovered
    artifactObserved      @23 :ArtifactObserved;  # artifact.observed
    configFingerprint     @24 :Fingerprint;    # config.fingerprint
    dependencyFingerprint @25 :Fingerprint;    # dependency.fingerprint
    oomInvocation         @26 :OomKill;        # oom.invocation: the OOM killer ran, no victim named
    hookBlock             @27 :HookBlock;      # hook.output: many lines of one hook in one record
  }
}

struct DeployMarker {
  outcome @0 :Outcome;   # deploy.finish only; deploy.start leaves it unknown
  phase   @1 :Text;
  enum Outcome { unknown @0; ok @1; failed @2; }
  user    @2 :Text;          # the local user who recorded the marker, stamped by the daemon
  uid     @3 :Int64 = -1;    # that user's uid as the kernel reported it; -1: not verified
}

struct HookOutput {
  stream @0 :Stream;
  lineNo @1 :UInt32;     # 1-based, per stream
  line   @2 :Text;       # redacted; invalid UTF-8 bytes escaped as \xNN; long lines split
  phase  @3 :Text;
  enum Stream { stdout @0; stderr @1; }
  part   @4 :UInt32;     # the line's index in the hookBlock it was recorded in; 0 otherwise
}

# Consecutive hook output lines of one hook as one record (docs/ingest-blocks.md): one seq, one
# spool record, one stored value. The collector hands each line out as a hook.output event with
# the block's envelope (seq included), its own time and its index as HookOutput.part.
struct HookBlock {
  phase @0 :Text;
  lines @1 :List(Line);
  struct Line {
    stream  @0 :HookOutput.Stream;
    lineNo  @1 :UInt32;   # as HookOutput.lineNo
    text    @2 :Text;     # as HookOutput.line
    afterNs @3 :UInt32;   # when the line was read, in ns after the event's timeNs
  }
}

struct HookExit {
  phase      @0 :Text;
  command    @1 :Text;   # argv joined with spaces, redacted
  union {
    exitCode @2 :Int32;
    signal   @3 :Int32;  # the terminating signal number
  }
  durationMs @4 :UInt64;
  tail       @5 :List(Text);  # last lines of output (both streams, in arrival order), redacted
  stdoutLines @6 :UInt32;
  stderrLines @7 :UInt32;
  childPid   @8 :Int32;   # the hook's child process (0 when it never started)
  cgroup     @9 :Text;    # the child's memory cgroup at start (v1 memory controller, else v2)
  user       @10 :Text;   # the local user who ran the hook (name, else "uid N")
  uid        @11 :Int64 = -1;  # that user's uid as the kernel reported it to the daemon
                               # (socket peer or queue file owner); -1: not verified
}

struct SpoolShed {
  count    @0 :UInt64;   # events shed since the last spool.shed (a hook.block counts its lines)
  firstNs  @1 :Int64;
  lastNs   @2 :Int64;
}

struct OomKill {
  pid        @0  :Int32;
  process    @1  :Text;
  uid        @2  :Int32 = -1;
  trigger    @3  :Text;   # the process that invoked the oom-killer
  triggerPid @4  :Int32;
  constraint @5  :Text;   # the kernel's word, e.g. CONSTRAINT_MEMCG, CONSTRAINT_NONE
  memcg      @6  :Text;   # the cgroup whose limit was hit
  taskMemcg  @7  :Text;   # the victim's cgroup
  unit       @8  :Text;   # systemd unit mapped from the cgroup, if any
  containerId @9 :Text;   # container id mapped from the cgroup, if any
  anonRssKb  @10 :UInt64;
  totalVmKb  @11 :UInt64;
  fileRssKb  @12 :UInt64;
  shmemRssKb @13 :UInt64;
  oomScoreAdj @14 :Int32;
  killer     @15 :Text;   # "kernel", "systemd-oomd", "earlyoom", "memory.events"
  source     @16 :Text;   # "kmsg", "journal", "memory.events", "memory.oom_control"
}

struct Pressure {
  resource  @0 :Resource;
  state     @1 :State;
  someAvg10 @2 :Float64;
  fullAvg10 @3 :Float64;
  threshold @4 :Float64;   # avg10 percent that raises the state
  stallUs   @5 :UInt64;    # kernel trigger: stall threshold in microseconds (0 when polled)
  windowUs  @6 :UInt64;
  # On cleared: the episode it ends — when it was raised and the highest avg10 seen in it.
  raisedNs      @7 :Int64;
  peakSomeAvg10 @8 :Float64;
  peakFullAvg10 @9 :Float64;
  atStart   @10 :Bool;     # raised when the agent started: the condition was already present
  enum Resource { memory @0; cpu @1; io @2; }
  enum State { raised @0; cleared @1; }
}

struct Exhaustion {
  state      @0 :Pressure.State;
  mount      @1 :Text;   # empty for fd.exhausted
  usedPercent @2 :Float64;
  free       @3 :UInt64;  # free bytes, inodes or file handles
  total      @4 :UInt64;
  threshold  @5 :Float64;
  fsType     @6 :Text;
  atStart    @7 :Bool;    # raised when the agent started: the condition was already present
}

struct UnitFailed {
  unit         @0 :Text;
  result       @1 :Text;   # systemd's word: exit-code, signal, core-dump, timeout, watchdog, start-limit-hit, oom-kill, resources
  exitStatus   @2 :Int32 = -1;
  signal       @3 :Text;   # e.g. KILL, SEGV
  restarts     @4 :UInt32;
  invocationId @5 :Text;
  oomKilled    @6 :Bool;
  lastLines    @7 :List(Text);
  pid          @8 :Int32;
  message      @9 :Text;
  atStart      @10 :Bool;  # found failed when the agent started
}

struct ContainerFailure {
  containerId  @0 :Text;
  name         @1 :Text;
  image        @2 :Text;
  imageDigests @3 :List(Text);
  exitCode     @4 :Int32 = -1;
  error        @5 :Text;
  oomKilled    @6 :Bool;
  action       @7 :Text;   # the runtime's event name: die, died, oom, start-failed
  atStart      @8 :Bool;   # found dead when the agent started
}

struct Health {
  probe     @0 :Text;
  target    @1 :Text;
  status    @2 :Text;
  error     @3 :Text;
  latencyMs @4 :UInt64;
}

struct ArtifactObserved {
  path    @0 :Text;
  digest  @1 :Text;        # "sha256:<hex>"
  imageDigests @2 :List(Text);
  container @3 :Text;
}

struct Fingerprint {
  entries @0 :List(Entry);
  struct Entry {
    name @0 :Text;          # file path or environment variable name
    kind @1 :Text;          # "file", "env", "command"
    hmac @2 :Text;          # keyed hash of the value; the value never leaves the host
  }
  keyId @1 :Text;           # names the key that made the hashes (a hash of the key, not the key):
                            # only fingerprints with the same keyId can be compared
}
