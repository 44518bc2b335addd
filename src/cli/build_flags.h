// The build options `vk build` and `vk run -f` share: --target,
// --build-arg K[=V] (a bare K takes the host's value, as docker does),
// --no-cache, --progress, --secret id=ID,src=PATH|env=VAR, --jobs N.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "build/builder.h"

namespace vk::cli {

struct BuildFlags {
  std::string dockerfile;
  std::string target;
  std::vector<std::string> build_args;
  std::vector<std::string> secrets;
  bool no_cache = false;
  std::string progress = "auto";
  // Independent stages at once: BuildKit builds them all in parallel; each
  // RUN is a VM with its own vCPU, so the host's CPUs bound what helps.
  size_t jobs = std::max(1u, std::thread::hardware_concurrency());

  void Add(CLI::App& app, const char* file_help) {
    app.add_option("-f,--file", dockerfile, file_help);
    app.add_option("--target", target, "Build this stage (default: the last)");
    app.add_option("--build-arg", build_args,
                   "K=V for an ARG (repeatable; K alone: from the "
                   "environment)");
    app.add_flag("--no-cache", no_cache, "Run every step instead of reusing cached results");
    app.add_option("--progress", progress, "auto|tty|plain|quiet (default auto)");
    app.add_option("--secret", secrets,
                   "id=ID,src=FILE or id=ID,env=VARIABLE: a secret RUN --mount=type=secret "
                   "reads (repeatable; never stored in the image)")
        ->allow_extra_args(false);
    app.add_option("--jobs", jobs, "Build up to N independent stages at once (default: host CPUs)")
        ->check(CLI::PositiveNumber);
  }

  // The request's options these flags give (not the context or tags).
  Result<void> Fill(build::BuildRequest& request) const {
    request.target = target;
    request.build_args = VK_TRY(BuildArgs());
    request.secrets = VK_TRY(Secrets());
    request.no_cache = no_cache;
    request.jobs = jobs;
    return Ok();
  }

  Result<build::SecretMap> Secrets() const {
    build::SecretMap map;
    for (const std::string& text : secrets) {
      auto [id, source] = VK_TRY(build::ParseSecretFlag(text));
      map[id] = source;
    }
    return map;
  }

  Result<build::VariableMap> BuildArgs() const {
    build::VariableMap args;
    for (const std::string& arg : build_args) {
      size_t eq = arg.find('=');
      if (eq == 0) return Error(ErrorKind::kUsage, "--build-arg " + arg + ": give K=V");
      if (eq != std::string::npos) {
        args[arg.substr(0, eq)] = arg.substr(eq + 1);
      } else if (const char* value = std::getenv(arg.c_str())) {
        args[arg] = value;
      }
    }
    return args;
  }
};

}  // namespace vk::cli
