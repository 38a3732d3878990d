@0xdc12d77852c6ca45;
# What `hook` and `deploy` hand to the agent daemon over its local socket, and what a deploy keeps
# in the fallback queue when the daemon is not running: a stream of LocalBatch messages (Cap'n
# Proto's standard stream framing). On the socket the daemon answers each batch with a LocalReply
# before the next is sent.
#
# The sender is never trusted for who it is: the daemon credits each batch to the uid the kernel
# reports (SO_PEERCRED on the socket, the file's owner in the queue).
# Ordinals are never reused.

$import "/capnp/c++.capnp".namespace("octolaunch::schema");
using Event = import "event.capnp".Event;

struct LocalBatch {
  session @0 :Data;        # 16 random bytes, one per `hook` or `deploy` run
  batch   @1 :UInt64;      # 1, 2, 3... within the session; a batch stored once is never stored again
  kind    @2 :Kind;
  events  @3 :List(Event); # hook.output, hook.exit, deploy.start, deploy.finish only

  enum Kind {
    hook @0;     # a hook's output and exit: its connection stays open while the hook records
    deploy @1;   # a deploy marker: stored after the same user's open hooks are done (bounded wait)
  }
}

struct LocalReply {
  batch @0 :UInt64;  # the batch now stored (or already stored before)
  error @1 :Text;    # set when the batch was refused: the sender should not send it again
  maxBatchWords @2 :UInt32;
  # The largest batch (in words, framing included) this daemon reads on its socket; a sender aims
  # just below it. 0 (a daemon older than this field): it reads batches of up to 1 MiB but walks
  # each up to four times within that, so a sender aims at a quarter of it. Batches written to
  # the queue always aim at that quarter: whichever daemon imports them reads them.
}
