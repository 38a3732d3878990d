// What the daemon does with a batch a local user handed over (on its socket or through the
// fallback queue): checks it, credits it to the user the kernel named, stores it in the spool once.
//
// Contract
//  * Only the deploy kinds are taken: a hook batch holds hook.output and hook.exit events, a deploy
//    batch deploy.start and deploy.finish; anything else (an oom.kill, a health event, a forged
//    spool.shed) refuses the whole batch. Service, release and phase longer than
//    kMaxIdentifierBytes refuse it too.
//  * Every hook.exit and deploy marker stored carries the uid given here and its passwd name
//    (HookExit.uid/user, DeployMarker.uid/user), whatever the sender put there; agentId, host,
//    epoch, seq and receivedNs are cleared (the spool and the shipper set them).
//  * What is not prevented: a user may name any service and release, and choose its events' times
//    and output lines; the credit (uid) tells who did.
//  * A batch is stored at most once per (uid, session, batch) (Spool::appendBatch). Batch 0 with no
//    events is a hook's hello: nothing is stored.
//  * For each deploy.finish stored, onDeployFinish runs (on the caller's thread; it must not
//    block: the daemon hands the observation to a worker).
//
// Threads: accept() from one thread at a time (the daemon's KJ thread).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "agent/spool/spool.h"
#include "octolaunch/schema/local.capnp.h"

namespace octolaunch::agent {

struct DeployFinished {
  std::string service;
  std::string release;
  std::string outcome;  // "ok", "failed" or "unknown"
  std::int64_t timeNs = 0;
  uid_t uid = 0;
};

class LocalRecords final {
 public:
  using OnDeployFinish = std::function<void(const DeployFinished&)>;
  // spool: not owned, must outlive this object.
  LocalRecords(Spool& spool, OnDeployFinish onDeployFinish);

  enum class Status {
    stored,     // now in the spool (or a hello)
    duplicate,  // stored before: nothing done
    refused,    // not a batch a local user may hand over: `error` says why; never stored
    failed,     // the spool failed: `error` says why; the sender may try again later
  };
  struct Result {
    Status status = Status::stored;
    std::string error;
  };
  Result accept(uid_t uid, schema::LocalBatch::Reader batch);
  // accept() calls that ended refused or failed, since construction (the agent's health report).
  std::uint64_t failures() const { return failures_; }
  // Forgets the sessions whose last batch was stored before timeNs (Spool::forgetSessionsBefore).
  void forgetSessionsBefore(std::int64_t timeNs) { spool_.forgetSessionsBefore(timeNs); }

 private:
  Spool& spool_;
  OnDeployFinish onDeployFinish_;
  std::uint64_t failures_ = 0;
};

}  // namespace octolaunch::agent
