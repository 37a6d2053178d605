#pragma once
// Runs template deployments in the background, one thread each: every resource of the plan
// (emulator/arm_template.h) is written through the request pipeline as the deploying
// principal, exactly as if it had sent the PUT itself (routing, api-version, RBAC, the
// resource's own rules), and waited for when its write is long-running (an image version
// replicating). The deployment record follows:
//
//   start_deployment()                 run(): plan built       every resource Succeeded,
//   ─────────────────► Accepted ─────────────────────► Running ─────────────────────────► Succeeded
//                                                        │  a write refused or its operation Failed
//                                                        ├───────────────────────────────────────► Failed
//                                                        │  POST .../cancel
//                                                        └───────────────────────────────────────► Canceled
//
// A restart resumes deployments left Accepted or Running from their first resource: the
// writes are PUTs, so repeating the ones already made changes nothing.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <functional>
#include <list>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "api/http_message.h"
#include "api/internal_requests.h"
#include "emulator/identity.h"

namespace acg {
class Emulator;
}

namespace acg::api {

class DeploymentRunner {
 public:
  using Dispatch = InternalDispatch;  // how a resource write reaches the pipeline as a principal

  DeploymentRunner(Emulator& emulator, Dispatch dispatch);
  ~DeploymentRunner();
  DeploymentRunner(const DeploymentRunner&) = delete;
  DeploymentRunner& operator=(const DeploymentRunner&) = delete;

  // Starts running the stored deployment with this id (it is Accepted).
  void submit(const std::string& deployment_id);
  // Starts every deployment a previous run left Accepted or Running.
  void resume();
  // Asks a running deployment to stop before its next resource; false when none runs.
  bool cancel(const std::string& deployment_id);
  // Waits up to timeout_ms for the deployment to stop running (status polls answer sooner).
  void wait_until_idle(const std::string& deployment_id, int timeout_ms);
  // Stops every run (they stay Running in the store and resume on the next start).
  void stop();

 private:
  void run(const std::string& deployment_id);
  bool stopping() const;
  bool canceled(const std::string& deployment_id);
  void finished(const std::string& deployment_id);

  Emulator& emulator_;
  Dispatch dispatch_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> running_;    // GUARDED_BY(mutex_)
  std::set<std::string> canceling_;  // GUARDED_BY(mutex_)
  // Submitted again while their previous run was still ending (a re-PUT of the same name):
  // run once more when that run finishes, or the new record would stay Accepted.
  std::set<std::string> resubmitted_;  // GUARDED_BY(mutex_)
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  void start_locked(const std::string& deployment_id);  // a worker thread for one run
  void reap_finished_locked();
  std::list<Worker> threads_;        // GUARDED_BY(mutex_)
  bool stopping_ = false;            // GUARDED_BY(mutex_)

  friend class DeploymentRun;
};

}  // namespace acg::api
