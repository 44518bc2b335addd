#include "agent/template_assignment.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "agent/exec_listener.h"
#include "agent/machine_identity.h"
#include "agent/system_setup.h"
#include "base/fd_io.h"
#include "proto/str_format.h"
#include "proto/vsock_stream.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

// The longest "ERR ..." line: the host shows it to a person, one line.
constexpr size_t kMaxErrorLine = 512;

// A restore resets the connection the template waited on, so EOF and
// ECONNRESET while reading the assignment are expected, not faults.
Result<void> ReadFully(int fd, std::span<uint8_t> buffer) {
  return ReadExactly(fd, buffer).Context("read the assignment");
}

Result<void> Send(int fd, std::string_view text) { return WriteAll(fd, text); }

TemplateConnectionResult Dropped(const Error& error) {
  return {TemplateOutcome::kDropped, {}, error.message()};
}

TemplateConnectionResult Refuse(int fd, const Error& error) {
  std::string line = error.message().substr(0, kMaxErrorLine);
  for (char& c : line) c = (c == '\n' || c == '\r') ? ' ' : c;
  (void)Send(fd, std::string(proto::kTemplateErrPrefix) + line + "\n");
  return {TemplateOutcome::kRefused, {}, error.message()};
}

// The assignment's parameters: what a per-VM command line would carry.
Result<InitParams> AssignedParams(const proto::Assignment& assignment,
                                  const InitParams& template_params) {
  InitParams params = VK_TRY_CTX(ParseInitParams(assignment.params), "assignment params");
  if (params.template_port) return Error("assignment params: vk.template is not per-VM");
  // PVM is a property of the host, which the template and its clones share.
  params.pvm = params.pvm || template_params.pvm;
  return params;
}

}  // namespace

TemplateConnectionResult ServeTemplateConnection(int fd, const InitParams& template_params,
                                                 const ApplyAssignmentFn& apply) {
  if (auto sent = Send(fd, proto::kTemplateReady); !sent.ok()) return Dropped(sent.error());
  uint8_t header[proto::kAssignmentHeaderSize];
  if (auto read = ReadFully(fd, header); !read.ok()) return Dropped(read.error());
  auto length = proto::DecodeAssignmentLength(header);
  if (!length.ok()) return Refuse(fd, length.error());
  std::vector<uint8_t> record(*length);
  if (auto read = ReadFully(fd, record); !read.ok()) return Dropped(read.error());
  auto assignment = proto::DecodeAssignment(record);
  if (!assignment.ok()) return Refuse(fd, assignment.error());
  auto params = AssignedParams(*assignment, template_params);
  if (!params.ok()) return Refuse(fd, params.error());
  if (auto applied = apply(*assignment, *params); !applied.ok()) {
    return Refuse(fd, applied.error());
  }
  // Every step of applying may be repeated, so a host that never saw the OK
  // can assign again on a new connection.
  if (auto sent = Send(fd, proto::kTemplateOk); !sent.ok()) return Dropped(sent.error());
  return {TemplateOutcome::kAssigned, std::move(*params), {}};
}

InitParams AwaitAssignment(int listener, const InitParams& template_params,
                           const ApplyAssignmentFn& apply) {
  while (true) {
    UniqueFd connection = AcceptFromHost(listener);
    if (!connection) continue;
    auto served = ServeTemplateConnection(connection.get(), template_params, apply);
    if (served.outcome == TemplateOutcome::kAssigned) return std::move(served.params);
    // A drop is how every restore begins (the snapshot's connection is
    // reset): not worth a console line. A refusal is the host's mistake.
    if (served.outcome == TemplateOutcome::kRefused) {
      ConsoleLine("template assignment refused: " + served.message);
    }
  }
}

Result<InitParams> ReceiveTemplateAssignment(const InitParams& template_params) {
  const uint32_t port = *template_params.template_port;
  UniqueFd listener = VK_TRY_CTX(ListenVsock(port), StrFormat("template port {}", port));
  return AwaitAssignment(listener.get(), template_params, ApplyAssignmentToMachine);
}

}  // namespace vk::agent
