// An AsyncIoStream that forwards everything to the socket (or its TLS layer) and remembers whether
// the peer ended its side (a read returned end-of-stream). When the RPC system drops a connection
// whose peer never closed, the collector dropped it: bad bytes or an oversized message (counted as
// rejected). Event-loop thread only, like the stream it wraps.
#pragma once

#include <kj/async-io.h>

#include <cstring>

namespace octolaunch::ingest {

class EofWatchingStream final : public kj::AsyncIoStream {
 public:
  explicit EofWatchingStream(kj::Own<kj::AsyncIoStream> inner) : inner_(kj::mv(inner)) {}

  bool peerClosed() const { return peerClosed_; }

  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override {
    return inner_->tryRead(buffer, minBytes, maxBytes)
        .then(
            [this, minBytes](size_t n) {
              if (n < minBytes) peerClosed_ = true;
              return n;
            },
            [this](kj::Exception&& e) -> size_t {
              // A TLS peer that closed its socket without a close_notify alert ended its side
              // too (OpenSSL 3 reports "unexpected eof while reading").
              if (std::strstr(e.getDescription().cStr(), "unexpected eof") == nullptr) {
                kj::throwFatalException(kj::mv(e));
              }
              peerClosed_ = true;
              return 0;
            });
  }
  kj::Promise<void> write(const void* buffer, size_t size) override {
    return inner_->write(buffer, size);
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    return inner_->write(pieces);
  }
  kj::Promise<void> whenWriteDisconnected() override { return inner_->whenWriteDisconnected(); }
  void shutdownWrite() override { inner_->shutdownWrite(); }
  void abortRead() override { inner_->abortRead(); }
  void getsockopt(int level, int option, void* value, kj::uint* length) override {
    inner_->getsockopt(level, option, value, length);
  }
  void setsockopt(int level, int option, const void* value, kj::uint length) override {
    inner_->setsockopt(level, option, value, length);
  }
  void getsockname(struct sockaddr* addr, kj::uint* length) override {
    inner_->getsockname(addr, length);
  }
  void getpeername(struct sockaddr* addr, kj::uint* length) override {
    inner_->getpeername(addr, length);
  }

 private:
  kj::Own<kj::AsyncIoStream> inner_;
  bool peerClosed_ = false;
};

}  // namespace octolaunch::ingest
