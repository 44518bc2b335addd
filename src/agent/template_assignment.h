// Warm templates, the agent side (docs/protocol.md, "Template assignment"):
// a guest booted with vk.template=PORT waits on guest vsock PORT, having
// touched nothing VM-specific, until the host assigns it the parameters that
// make it one particular VM. The VMM snapshots it while it waits; every
// restored clone receives its own assignment on a fresh connection (the
// restore resets the connection the template was waiting on).
#pragma once

#include <functional>
#include <string>

#include "agent/init_params.h"
#include "base/result.h"
#include "proto/assignment.h"

namespace vk::agent {

// Makes the machine the assigned VM (entropy, clock, MAC, disks): see
// machine_identity.h. Injected so the protocol is tested without a VM.
// `params` are the assignment's parsed parameters.
using ApplyAssignmentFn =
    std::function<Result<void>(const proto::Assignment& assignment, const InitParams& params)>;

enum class TemplateOutcome {
  kAssigned,  // applied and acknowledged: boot with `params`
  kDropped,   // the connection ended before the assignment completed: accept again
  kRefused,   // the assignment was bad or could not be applied: "ERR ..." sent
};

struct TemplateConnectionResult {
  TemplateOutcome outcome = TemplateOutcome::kDropped;
  InitParams params;    // kAssigned only
  std::string message;  // otherwise: what went wrong
};

// Serves one accepted connection: "VK-TEMPLATE-READY\n", one assignment
// frame, apply, "OK\n" (or "ERR <message>\n"). `template_params` are the
// template's own command-line parameters (vk.pvm carries over).
TemplateConnectionResult ServeTemplateConnection(int fd, const InitParams& template_params,
                                                 const ApplyAssignmentFn& apply);

// Accepts on `listener` (AcceptFromHost: the host only) until a connection
// completes an assignment; returns its parameters.
InitParams AwaitAssignment(int listener, const InitParams& template_params,
                           const ApplyAssignmentFn& apply);

// The template boot: listens on guest vsock port *template_params.template_port
// and applies the assignment to this machine.
Result<InitParams> ReceiveTemplateAssignment(const InitParams& template_params);

}  // namespace vk::agent
