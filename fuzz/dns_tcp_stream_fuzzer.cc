// Fuzzes the DNS-over-TCP decoder: the first input byte picks how the rest
// is cut into writes (as a guest's segments arrive), and the decoder must
// stay within its bound and give back exactly the framed messages it read:
// re-framing them reproduces the bytes consumed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "net/dns_tcp_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vk::net;
  if (size == 0) return 0;
  size_t chunk = data[0] == 0 ? 1 : data[0];
  std::span<const uint8_t> input(data + 1, size - 1);
  DnsTcpStream stream;
  std::vector<uint8_t> reframed;
  size_t consumed = 0;
  while (consumed < input.size() && !stream.failed()) {
    size_t took = stream.Append(input.subspan(consumed, std::min(chunk, input.size() - consumed)));
    if (stream.buffered() > DnsTcpStream::kCapacity) std::abort();
    consumed += took;
    bool progressed = took > 0;
    while (stream.HasMessage()) {
      auto next = stream.Next();
      if (!next.ok()) break;                 // zero length: the stream is done
      if (!next->has_value()) std::abort();  // HasMessage promised one
      const std::vector<uint8_t>& message = **next;
      if (message.empty() || message.size() > 65535) std::abort();
      auto framed = FrameDnsTcpMessage(message);
      reframed.insert(reframed.end(), framed->begin(), framed->end());
      progressed = true;
    }
    if (!progressed && !stream.failed()) std::abort();  // a full buffer always holds a message
  }
  // Everything read is either a returned message or still buffered.
  size_t pending = stream.failed() ? 0 : stream.buffered();
  if (!stream.failed()) {
    if (reframed.size() + pending != consumed) std::abort();
    if (!std::equal(reframed.begin(), reframed.end(), input.begin())) std::abort();
  }
  return 0;
}
