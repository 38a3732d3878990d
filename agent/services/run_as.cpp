#include "agent/services/run_as.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <stdexcept>

extern char** environ;

namespace octolaunch::services {

namespace {

struct UserEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

std::optional<UserEntry> lookUp(const std::string& user) {
  std::vector<char> buf(16384);
  passwd entry{};
  passwd* found = nullptr;
  uid_t uid = 0;
  const auto [end, ec] = std::from_chars(user.data(), user.data() + user.size(), uid);
  const bool numeric = ec == std::errc() && end == user.data() + user.size();
  const int rc = numeric ? ::getpwuid_r(uid, &entry, buf.data(), buf.size(), &found)
                         : ::getpwnam_r(user.c_str(), &entry, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr) return std::nullopt;
  return UserEntry{entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir ? entry.pw_dir : "/"};
}

std::vector<gid_t> groupsOf(const UserEntry& user) {
  int count = 32;
  std::vector<gid_t> groups(count);
  while (::getgrouplist(user.name.c_str(), user.gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count) + 1);
    count = static_cast<int>(groups.size());
  }
  groups.resize(static_cast<std::size_t>(count));
  return groups;
}

void buildEnvironment(RunAsPlan& plan, const UserEntry& user) {
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("HOME=") || entry.starts_with("USER=") || entry.starts_with("LOGNAME="))
      continue;
    plan.envStore.emplace_back(entry);
  }
  plan.envStore.push_back("HOME=" + user.home);
  plan.envStore.push_back("USER=" + user.name);
  plan.envStore.push_back("LOGNAME=" + user.name);
  for (std::string& entry : plan.envStore) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
}

}  // namespace

std::string missingRunAsCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return "CAP_SETUID CAP_SETGID CAP_KILL";
  auto has = [&](int cap) { return (data[cap / 32].effective & (1u << (cap % 32))) != 0; };
  std::string missing;
  for (const auto& [cap, name] :
       {std::pair{CAP_SETUID, "CAP_SETUID"}, std::pair{CAP_SETGID, "CAP_SETGID"},
        std::pair{CAP_KILL, "CAP_KILL"}}) {
    if (!has(cap)) missing += (missing.empty() ? "" : " ") + std::string(name);
  }
  return missing;
}

RunAsPlan planRunAs(const std::string& user) {
  RunAsPlan plan;
  if (user.empty()) return plan;
  plan.user = user;
  const std::optional<UserEntry> entry = lookUp(user);
  if (!entry) {
    throw std::runtime_error("run_as \"" + user +
                             "\": no such user on this host; the command was not run");
  }
  if (entry->uid == ::geteuid() && entry->gid == ::getegid()) return plan;  // already that user
  const std::string missing = missingRunAsCapabilities();
  if (!missing.empty()) {
    throw std::runtime_error(
        "run_as \"" + user + "\": the agent lacks " + missing +
        ", which running a command as another user needs; the command was not run (grant "
        "CAP_SETUID CAP_SETGID CAP_KILL to the agent with a drop-in: docs/architecture.md, "
        "\"Commands the agent runs\")");
  }
  plan.switchUser = true;
  plan.uid = entry->uid;
  plan.gid = entry->gid;
  plan.groups = groupsOf(*entry);
  buildEnvironment(plan, *entry);
  return plan;
}

const char* applyRunAs(const RunAsPlan& plan) {
  if (plan.switchUser) {
    if (::setgroups(plan.groups.size(), plan.groups.data()) != 0) return "setgroups";
    if (::setgid(plan.gid) != 0) return "setgid";
    if (::setuid(plan.uid) != 0) return "setuid";
    if (::getuid() != plan.uid || ::geteuid() != plan.uid || ::getegid() != plan.gid) {
      errno = EPERM;
      return "setuid";
    }
  }
  // Ambient capabilities survive exec: without this a command would run with the agent's.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return "capabilities";
  return nullptr;
}

}  // namespace octolaunch::services
