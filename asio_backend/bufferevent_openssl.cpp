// bufferevent_openssl: TLS bufferevents (libevent's bufferevent_openssl.c)
// on OpenSSL, as a kind over another bufferevent: the program's own (a
// filter) or a socket bufferevent made for it (on a socket). Built into
// libevasio_openssl, so that only programs using TLS link OpenSSL.
//
// OpenSSL is driven directly, through a BIO whose reads take ciphertext
// from the underlying bufferevent's input and whose writes add to its
// output, rather than through Asio's ssl::stream: the program hands us its
// own SSL (its context, certificates and callbacks stay in force), the
// underlying bufferevent already batches the socket I/O (one recvmsg of up
// to 64 KiB feeds many records, where libevent's socket BIO makes two
// reads per record), and plaintext goes straight between OpenSSL and this
// bufferevent's evbuffers (SSL_read into reserved space, SSL_write from
// the output's chunks), with no copy of our own. Measured (bench/tls.c and
// bench/tls_echo_asio.cpp, the same client against each server): the same
// server CPU per MiB as an echo on Asio's ssl::stream, 0.88x libevent's
// (bench/RESULTS.md); the BIO keeps what the stream would not: the
// program's SSL as given, and TLS over any bufferevent (filters, pairs).
#include "detail/bufferevent_core.hpp"
#include "detail/c_boundary.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstring>
#include <memory>

using namespace evasio::detail;

namespace {

const bufferevent_ops openssl_ops = {"ssl"};

// ---- the BIO over a bufferevent's buffers ---------------------------------------

// What the BIO works on: the underlying bufferevent, and whether its
// stream ended (the BIO then reads an end of file, not a retry, so that
// OpenSSL tells a close without close_notify, as with a socket BIO).
struct bio_state {
  ::bufferevent* under = nullptr;
  bool eof = false;
};

bio_state* bio_st(BIO* b) noexcept { return static_cast<bio_state*>(BIO_get_data(b)); }

int bio_read(BIO* b, char* out, int len) {
  BIO_clear_retry_flags(b);
  bio_state* st = bio_st(b);
  if (!out || !st)
    return st ? 0 : -1;
  evbuffer* in = bufferevent_get_input(st->under);
  if (evbuffer_get_length(in) == 0) {
    if (st->eof)
      return 0;
    BIO_set_retry_read(b);
    return -1;
  }
  return evbuffer_remove(in, out, static_cast<size_t>(len));
}

// As libevent's: no further than the underlying output's high watermark.
int bio_write(BIO* b, const char* in, int len) {
  BIO_clear_retry_flags(b);
  bio_state* st = bio_st(b);
  if (!st)
    return -1;
  ::bufferevent* bev = st->under;
  evbuffer* out = bufferevent_get_output(bev);
  const size_t have = evbuffer_get_length(out);
  size_t n = static_cast<size_t>(len);
  if (bev->wm_write.high && bev->wm_write.high <= have + n) {
    if (bev->wm_write.high <= have) {
      BIO_set_retry_write(b);
      return -1;
    }
    n = bev->wm_write.high - have;
  }
  return evbuffer_add(out, in, n) == 0 ? static_cast<int>(n) : -1;
}

int bio_puts(BIO* b, const char* s) { return bio_write(b, s, static_cast<int>(std::strlen(s))); }

long bio_ctrl(BIO* b, int cmd, long num, void*) {
  bio_state* st = bio_st(b);
  ::bufferevent* bev = st ? st->under : nullptr;
  switch (cmd) {
  case BIO_CTRL_GET_CLOSE:
    return BIO_get_shutdown(b);
  case BIO_CTRL_SET_CLOSE:
    BIO_set_shutdown(b, static_cast<int>(num));
    return 1;
  case BIO_CTRL_PENDING:
    return bev && evbuffer_get_length(bufferevent_get_input(bev)) != 0;
  case BIO_CTRL_EOF:  // so that OpenSSL 3 names an unexpected EOF, as with a socket BIO
    return st && st->eof && evbuffer_get_length(bufferevent_get_input(bev)) == 0;
  case BIO_CTRL_WPENDING:
    return bev && evbuffer_get_length(bufferevent_get_output(bev)) != 0;
  case BIO_CTRL_DUP:
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_C_GET_FD:  // no fd of its own: a new TLS bufferevent on this SSL takes the one it is given
    return -1;
  default:
    return 0;
  }
}

int bio_create(BIO* b) {
  BIO_set_init(b, 0);
  BIO_set_data(b, nullptr);
  return 1;
}

int bio_destroy(BIO* b) { return b ? 1 : 0; }

BIO_METHOD* bio_method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "evasio bufferevent");
    if (bm) {
      BIO_meth_set_write(bm, bio_write);
      BIO_meth_set_read(bm, bio_read);
      BIO_meth_set_puts(bm, bio_puts);
      BIO_meth_set_ctrl(bm, bio_ctrl);
      BIO_meth_set_create(bm, bio_create);
      BIO_meth_set_destroy(bm, bio_destroy);
    }
    return bm;
  }();
  return m;
}

BIO* bio_new(bio_state* st) {
  BIO_METHOD* m = bio_method();
  BIO* b = m ? BIO_new(m) : nullptr;
  if (b) {
    BIO_set_data(b, st);
    BIO_set_init(b, 1);
    BIO_set_shutdown(b, 0);
  }
  return b;
}

// ---- the TLS kind ---------------------------------------------------------------

enum op_result : int { op_progress = 1, op_blocked = 2, op_error = 4 };
constexpr int read_chunk = 16384;   // one full record per SSL_read
constexpr int write_frame = 15000;  // libevent's WRITE_FRAME

class ssl_bufferevent final : public bufferevent_core {
public:
  ssl_bufferevent(event_base* base, bufferevent_core& under, bool on_socket, SSL* ssl,
                  bufferevent_ssl_state state, int options)
      : bufferevent_core(base, options, openssl_ops), under_(&under), on_socket_(on_socket),
        ssl_(ssl), state_(state), start_state_(state) {
    output_.on_add = &ssl_bufferevent::output_grew;
    output_.on_add_arg = this;
    SSL_set_mode(ssl_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  ~ssl_bufferevent() override {
    if (owns_ssl_) {
      SSL_free(ssl_);
    } else if (BIO* b = SSL_get_rbio(ssl_); b && BIO_get_data(b) == &bio_) {
      BIO_set_data(b, nullptr);  // the program's SSL outlives us: its BIO fails from now on
    }
  }
  // A bufferevent that failed to start leaves the SSL to its caller.
  void disown_ssl() noexcept { owns_ssl_ = false; }

  static ssl_bufferevent* of(::bufferevent* bev) noexcept {
    return bev && bev->be_ops == &openssl_ops ? static_cast<ssl_bufferevent*>(bev) : nullptr;
  }

  int start();
  SSL* ssl() const noexcept { return ssl_; }
  int renegotiate();
  int get_allow_dirty() {
    recursive_scoped_lock g(mutex_);
    return allow_dirty_ ? 1 : 0;
  }
  void set_allow_dirty(bool on) {
    recursive_scoped_lock g(mutex_);
    allow_dirty_ = on;
  }
  unsigned long pop_error() {
    recursive_scoped_lock g(mutex_);
    return n_errors_ ? errors_[--n_errors_] : 0;
  }

private:
  int kind_enable(short what) override;
  int kind_disable(short what) override;
  void kind_unlink() noexcept override;
  evutil_socket_t kind_getfd() override { return under_->getfd(); }
  int kind_setfd(evutil_socket_t fd) override;
  ::bufferevent* kind_underlying() override { return on_socket_ ? nullptr : under_.get(); }
  // bufferevent_socket_connect reaches the socket bufferevent underneath,
  // made for it or given (as libevent's does a filter's through its fd).
  ::bufferevent* kind_socket() override { return under_.get(); }
  // Rate limits count plaintext: a spent bucket stops decrypting (and so,
  // the underlying bufferevent reading) or encrypting until a refill.
  void bw_suspend(short what, bw_reason why) override;
  void bw_unsuspend(short what, bw_reason why) override;
  void kind_read_suspension(bool suspended) override;

  bool open() const noexcept { return state_ == BUFFEREVENT_SSL_OPEN; }
  void put_error(unsigned long e) noexcept {
    if (n_errors_ < 3)
      errors_[n_errors_++] = static_cast<ev_uint32_t>(e);
  }
  // The underlying bufferevent reads while this one does, during a
  // handshake, or while a write waits for the peer (libevent's wbor).
  void start_reading() {
    if (!(bw_read_ && open()))
      under_->suspend_read(suspend_filt_read, false);
  }
  void stop_reading() {
    if (!write_blocked_on_read_)
      under_->suspend_read(suspend_filt_read, true);
  }
  int bytes_to_read() const noexcept;
  int do_read(int n);
  int do_write(int atmost);
  void consider_reading();
  // The underlying stream ended: one more read, whatever the marks say,
  // so that OpenSSL reports how it ended.
  void consider_reading_at_eof() {
    consider_reading();
    if (!dead_)
      do_read(read_chunk);
  }
  void consider_writing();
  int do_handshake();
  void kick_handshake();
  void conn_closed(short when, int err, int ret);

  static ssl_bufferevent* self_of(void* me) noexcept {
    return static_cast<ssl_bufferevent*>(static_cast<::bufferevent*>(me));
  }
  static void under_read(::bufferevent*, void* me);
  static void under_write(::bufferevent*, void* me);
  static void under_event(::bufferevent*, short what, void* me);
  static void output_grew(void* me);

  const ref under_;
  const bool on_socket_;  // under_ is ours, made on the socket
  SSL* const ssl_;
  bufferevent_ssl_state state_;
  const bufferevent_ssl_state start_state_;  // for a new fd
  bool owns_ssl_ = (options_ & BEV_OPT_CLOSE_ON_FREE) != 0;
  bool allow_dirty_ = false;
  bool write_blocked_on_read_ = false;
  bool dead_ = false;  // the session ended (conn_closed): no more OpenSSL calls
  unsigned char bw_read_ = 0, bw_write_ = 0;  // bw_reason bits
  bio_state bio_;
  int last_write_ = -1;  // OpenSSL wants a retried write repeated as it was
  ev_uint32_t errors_[3] = {0, 0, 0};
  int n_errors_ = 0;
};

// libevent's order: the underlying one's callbacks taken, its read
// watermark cleared, reading and writing on; reading held while open until
// this one reads. A handshake starts as the underlying one reports in
// (writable, readable, connected), from the loop.
int ssl_bufferevent::start() {
  if (mutex_.enabled()) {
    if (under_->mutex_.enabled())
      mutex_.share(under_->mutex_);
    else
      under_->mutex_.share(mutex_);
  }
  bio_.under = under_.get();
  BIO* bio = bio_new(&bio_);
  if (!bio)
    return -1;
  SSL_set_bio(ssl_, bio, bio);
  if (state_ == BUFFEREVENT_SSL_ACCEPTING)
    SSL_set_accept_state(ssl_);
  else if (state_ == BUFFEREVENT_SSL_CONNECTING)
    SSL_set_connect_state(ssl_);
  under_->setcb(&ssl_bufferevent::under_read, &ssl_bufferevent::under_write,
                &ssl_bufferevent::under_event, static_cast<::bufferevent*>(this));
  under_->setwatermark(EV_READ, 0, 0);
  under_->enable(EV_READ | EV_WRITE);
  // As libevent's: nothing is read until this bufferevent reads, or its
  // handshake asks for the peer's next message.
  under_->suspend_read(suspend_filt_read, true);
  if (!open())
    kick_handshake();
  return 0;
}

// The first handshake step runs from the loop, whatever the underlying
// bufferevent reports (a pair reports nothing until data moves), so that
// its outcome reaches callbacks set after this bufferevent was made.
void ssl_bufferevent::kick_handshake() {
  if (!ev_base)
    return;
  boost::asio::post(ev_base->context(), [self = ref(this), gen = base_gen()] {
    auto* me = static_cast<ssl_bufferevent*>(self.get());
    recursive_scoped_lock g(me->mutex_);
    // Not while disabled both ways (as libevent's handshake events).
    if (!me->stale(gen) && !me->freed_ && !me->dead_ && !me->open() &&
        (me->enabled & (EV_READ | EV_WRITE)))
      me->do_handshake();
  });
}

int ssl_bufferevent::bytes_to_read() const noexcept {
  if (write_blocked_on_read_ || !(enabled & EV_READ) || read_suspended() || bw_read_)
    return 0;
  if (wm_read.high) {
    const size_t have = input_.length();
    return have >= wm_read.high ? 0 : static_cast<int>(std::min<size_t>(wm_read.high - have, read_chunk));
  }
  return read_chunk;
}

// Plaintext straight into the input's reserved space.
int ssl_bufferevent::do_read(int n) {
  if (read_suspended())
    return 0;
  n = static_cast<int>(std::min<size_t>(static_cast<size_t>(n), max_single_read_));
  if (limits_ && (n = static_cast<int>(std::min<ev_ssize_t>(n, limits_->max_to(false, n)))) <= 0)
    return op_blocked;  // out of tokens: suspended
  evbuffer_iovec space[2];
  const int k = evbuffer_reserve_space(&input_, n, space, 2);
  if (k < 0)
    return op_error;
  int result = 0, used = 0;
  for (int i = 0; i < k; ++i) {
    ERR_clear_error();
    const int r = SSL_read(ssl_, space[i].iov_base, static_cast<int>(space[i].iov_len));
    if (r > 0) {
      result |= op_progress;
      if (limits_)
        limits_->spent(false, r);
      const bool short_read = static_cast<size_t>(r) < space[i].iov_len;
      space[i].iov_len = static_cast<size_t>(r);
      ++used;
      if (short_read)
        break;  // the record is drained; the loop asks again
      continue;
    }
    const int err = SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
      conn_closed(BEV_EVENT_READING, err, r);
    result |= op_blocked;
    break;
  }
  if (used) {
    evbuffer_commit_space(&input_, space, used);
    restart_timer(true);
    update_read_suspension();
  }
  return result;
}

// From the output's chunks; a write OpenSSL asked to retry is retried with
// the same length (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets the bytes move).
int ssl_bufferevent::do_write(int atmost) {
  if (last_write_ > 0)
    atmost = last_write_;
  else if (limits_ && (atmost = static_cast<int>(std::min<ev_ssize_t>(atmost, limits_->max_to(true, atmost)))) <= 0)
    return op_blocked;  // out of tokens: suspended
  evbuffer_iovec space[8];
  int n = evbuffer_peek(&output_, atmost, nullptr, space, 8);
  n = std::min(n, 8);
  int result = 0;
  size_t written = 0;
  for (int i = 0; i < n; ++i) {
    if (space[i].iov_len == 0)
      continue;
    ERR_clear_error();
    const int r = SSL_write(ssl_, space[i].iov_base, static_cast<int>(space[i].iov_len));
    if (r > 0) {
      result |= op_progress;
      if (write_blocked_on_read_) {
        write_blocked_on_read_ = false;
        if (!(enabled & EV_READ))
          stop_reading();
      }
      written += static_cast<size_t>(r);
      last_write_ = -1;
      if (limits_)
        limits_->spent(true, r);
      continue;
    }
    const int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_WANT_WRITE) {
      last_write_ = static_cast<int>(space[i].iov_len);
    } else if (err == SSL_ERROR_WANT_READ) {
      // Renegotiation: the peer must speak before we may write.
      write_blocked_on_read_ = true;
      start_reading();
      last_write_ = static_cast<int>(space[i].iov_len);
    } else {
      conn_closed(BEV_EVENT_WRITING, err, r);
      last_write_ = -1;
    }
    result |= op_blocked;
    break;
  }
  if (written) {
    evbuffer_drain(&output_, written);
    restart_timer(false);
    trigger_nolock(EV_WRITE, BEV_OPT_DEFER_CALLBACKS);  // as libevent: always deferred
  }
  return result;
}

// Everything the underlying input holds, as far as the watermarks allow.
void ssl_bufferevent::consider_reading() {
  while (write_blocked_on_read_) {
    if (do_write(write_frame) & (op_blocked | op_error))
      break;
  }
  if (write_blocked_on_read_)
    return;
  int all = 0;
  int n = bytes_to_read();
  while (n) {
    const int r = do_read(n);
    all |= r;
    if ((r & (op_blocked | op_error)) || read_suspended())
      break;
    n = SSL_pending(ssl_);
    if (!n)
      n = bytes_to_read();
  }
  if (all & op_progress)
    trigger_nolock(EV_READ, 0);
}

void ssl_bufferevent::consider_writing() {
  const ::bufferevent& u = *under_;
  while ((enabled & EV_WRITE) && !bw_write_ && output_.length() &&
         (!u.wm_write.high || evbuffer_get_length(u.output) < u.wm_write.high)) {
    const int n = u.wm_write.high
                      ? static_cast<int>(u.wm_write.high - evbuffer_get_length(u.output))
                      : write_frame;
    if (do_write(n) & (op_blocked | op_error))
      break;
  }
}

// 1 when the handshake is done, 0 while it waits for the peer, -1 when it
// failed (as libevent's do_handshake).
int ssl_bufferevent::do_handshake() {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    state_ = BUFFEREVENT_SSL_OPEN;
    if (!(enabled & EV_READ))
      stop_reading();
    kind_enable(enabled);  // what waited for the handshake goes now
    run_eventcb(BEV_EVENT_CONNECTED, 0);
    return 1;
  }
  const int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    start_reading();
    return 0;
  }
  conn_closed(BEV_EVENT_READING, err, r);
  return -1;
}

// libevent's rules: a close_notify is an EOF; a close without one (or an
// I/O error with nothing in OpenSSL's queue) is a dirty shutdown, an EOF
// only when allowed; anything else an error, its codes kept for
// bufferevent_get_openssl_error.
void ssl_bufferevent::conn_closed(short when, int err, int ret) {
  const int saved_errno = errno;
  short what = BEV_EVENT_ERROR;
  bool dirty = false;
  switch (err) {
  case SSL_ERROR_ZERO_RETURN:
    if (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN)
      what = BEV_EVENT_EOF;
    else
      dirty = true;
    break;
  case SSL_ERROR_SYSCALL:
    if ((ret == 0 || ret == -1) && ERR_peek_error() == 0)
      dirty = true;
    put_error(static_cast<unsigned long>(err));
    break;
  case SSL_ERROR_SSL:
    // OpenSSL 3 reports a close without close_notify as this error; it is
    // the dirty shutdown libevent's rule means (libevent 2.1.12, written
    // for older OpenSSL, reports it as an error even when allowed).
    if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
      dirty = true;
    put_error(static_cast<unsigned long>(err));
    break;
  default:
    put_error(static_cast<unsigned long>(err));
    break;
  }
  while (const unsigned long e = ERR_get_error())
    put_error(e);
  if (dirty && allow_dirty_)
    what = BEV_EVENT_EOF;
  dead_ = true;
  write_blocked_on_read_ = false;
  under_->suspend_read(suspend_filt_read, true);
  run_eventcb(when | what, saved_errno);
}

// The underlying bufferevent's callbacks (a reference held: ours may free us).
void ssl_bufferevent::under_read(::bufferevent*, void* me) {
  ref keep(self_of(me));
  recursive_scoped_lock g(keep->mutex_);
  ssl_bufferevent* self = self_of(me);
  if (self->freed_ || self->dead_)
    return;
  if (self->open())
    self->consider_reading();
  else if (self->enabled & (EV_READ | EV_WRITE))  // disabled both ways: the handshake waits
    self->do_handshake();
}

void ssl_bufferevent::under_write(::bufferevent*, void* me) {
  ref keep(self_of(me));
  recursive_scoped_lock g(keep->mutex_);
  ssl_bufferevent* self = self_of(me);
  if (self->freed_ || self->dead_)
    return;
  if (self->open())
    self->consider_writing();
  else if (self->enabled & (EV_READ | EV_WRITE))
    self->do_handshake();
}

// The end of the underlying stream without a TLS close: EOF only when a
// dirty shutdown is allowed. A connect finished: the handshake starts.
void ssl_bufferevent::under_event(::bufferevent*, short what, void* me) {
  const int err = errno;
  ref keep(self_of(me));
  recursive_scoped_lock g(keep->mutex_);
  ssl_bufferevent* self = self_of(me);
  if (self->freed_ || self->dead_)
    return;  // the session ended: told once (libevent stops both events then)
  short event = 0;
  if (what & BEV_EVENT_EOF) {
    // OpenSSL reads the end: a close_notify before it was an EOF already;
    // without one, conn_closed tells a dirty shutdown, as libevent's
    // socket BIO does.
    self->bio_.eof = true;
    if (self->open())
      self->consider_reading_at_eof();
    else
      self->do_handshake();
    if (!self->dead_)
      event = self->allow_dirty_ ? BEV_EVENT_EOF : BEV_EVENT_ERROR;
  } else if (what & (BEV_EVENT_TIMEOUT | BEV_EVENT_ERROR))
    event = what;
  else if ((what & BEV_EVENT_CONNECTED) && !self->open())
    self->do_handshake();
  if (event)
    self->run_eventcb(event, err);
}

void ssl_bufferevent::output_grew(void* me) {
  auto* self = static_cast<ssl_bufferevent*>(me);  // on_add_arg: this
  try {
    ref keep(self);
    recursive_scoped_lock g(self->mutex_);
    if (self->open() && !self->freed_ && !self->dead_)
      self->consider_writing();
  } catch (...) {
    // No memory: the next write or writable callback goes on.
  }
}

void ssl_bufferevent::bw_suspend(short what, bw_reason why) {
  if (what & EV_READ) {
    bw_read_ |= why;
    stop_reading();
  }
  if (what & EV_WRITE)
    bw_write_ |= why;
}

void ssl_bufferevent::bw_unsuspend(short what, bw_reason why) {
  if ((what & EV_READ) && (bw_read_ & why)) {
    bw_read_ &= static_cast<unsigned char>(~why);
    if (!bw_read_ && (enabled & EV_READ)) {
      start_reading();
      if (open() && !dead_)
        consider_reading();
    }
  }
  if ((what & EV_WRITE) && (bw_write_ & why)) {
    bw_write_ &= static_cast<unsigned char>(~why);
    if (!bw_write_ && open() && !dead_)
      consider_writing();
  }
}

// Drained below the high watermark: decrypt what waits.
void ssl_bufferevent::kind_read_suspension(bool suspended) {
  if (!suspended && open() && !dead_ && (enabled & EV_READ))
    consider_reading();
}

int ssl_bufferevent::kind_enable(short what) {
  if (what & EV_READ) {
    start_reading();
    restart_timer(true);
  }
  if (what & EV_WRITE)
    restart_timer(false);
  if (dead_)
    return 0;
  if (!open()) {
    kick_handshake();  // a handshake held while disabled goes on
    return 0;
  }
  if (what & EV_READ)
    consider_reading();
  if (what & EV_WRITE)
    consider_writing();
  return 0;
}

int ssl_bufferevent::kind_disable(short what) {
  if (what & EV_READ) {
    stop_reading();
    disarm_timer(true);
  }
  if (what & EV_WRITE)
    disarm_timer(false);
  return 0;
}

// BEV_OPT_CLOSE_ON_FREE: the underlying bufferevent goes too (made on a
// socket, it was ours anyway, and closes the socket only with this option);
// the SSL goes with the last reference.
void ssl_bufferevent::kind_unlink() noexcept {
  try {
    if (on_socket_ || (options_ & BEV_OPT_CLOSE_ON_FREE)) {
      under_->free();
      return;
    }
    if (under_->errorcb == &ssl_bufferevent::under_event)
      under_->setcb(nullptr, nullptr, nullptr, nullptr);
    under_->suspend_read(suspend_filt_read, false);
  } catch (...) {
  }
}

// A new socket starts the session over from the first state.
int ssl_bufferevent::kind_setfd(evutil_socket_t fd) {
  if (!SSL_clear(ssl_))
    return -1;
  state_ = start_state_;
  write_blocked_on_read_ = false;
  dead_ = false;
  bio_.eof = false;
  last_write_ = -1;
  if (state_ == BUFFEREVENT_SSL_ACCEPTING)
    SSL_set_accept_state(ssl_);
  else if (state_ == BUFFEREVENT_SSL_CONNECTING)
    SSL_set_connect_state(ssl_);
  // As libevent's: no fd (-1) leaves a filter's underlying bufferevent as
  // it is; a socket one gives its socket up.
  if ((on_socket_ || fd >= 0) && under_->setfd(fd) < 0)
    return -1;
  if (fd >= 0 && !open()) {
    start_reading();
    kick_handshake();
  }
  return 0;
}

// As libevent's: -1 only when OpenSSL fails outright (SSL_renegotiate < 0);
// then the handshake step's own result on a socket (1 done, 0 under way:
// TLS 1.3, which has no renegotiation, "completes" at once and reports
// BEV_EVENT_CONNECTED again), 0 over another bufferevent.
int ssl_bufferevent::renegotiate() {
  recursive_scoped_lock g(mutex_);
  if (SSL_renegotiate(ssl_) < 0)
    return -1;
  state_ = BUFFEREVENT_SSL_CONNECTING;
  const int r = do_handshake();
  return on_socket_ ? r : 0;
}

// The SSL's own socket, if it has one: libevent takes it (fd -1) or
// insists it is the one given.
bool socket_of_ssl(SSL* ssl, evutil_socket_t& fd) {
  BIO* bio = SSL_get_wbio(ssl);
  const long have = bio ? BIO_get_fd(bio, nullptr) : -1;
  if (have < 0)
    return true;
  if (fd < 0)
    fd = static_cast<evutil_socket_t>(have);
  else if (have != static_cast<long>(fd))
    return false;
  BIO_set_close(bio, BIO_NOCLOSE);  // SSL_set_bio below frees it, not the socket
  return true;
}

bufferevent* make(event_base* base, bufferevent_core& under, bool on_socket, SSL* ssl,
                  bufferevent_ssl_state state, int options) {
  auto b = std::make_unique<ssl_bufferevent>(base, under, on_socket, ssl, state, options);
  b->attach_to_base();
  if (b->start() < 0) {
    b->disown_ssl();
    return nullptr;
  }
  return b.release();
}

bool valid_state(int s) noexcept {
  return s == BUFFEREVENT_SSL_OPEN || s == BUFFEREVENT_SSL_CONNECTING ||
         s == BUFFEREVENT_SSL_ACCEPTING;
}

} // namespace

extern "C" {

struct bufferevent* bufferevent_openssl_filter_new(struct event_base* base,
                                                   struct bufferevent* underlying, SSL* ssl,
                                                   enum bufferevent_ssl_state state,
                                                   int options) {
  if (!base || !underlying || !ssl || !valid_state(state)) {
    if (ssl && (options & BEV_OPT_CLOSE_ON_FREE))
      SSL_free(ssl);
    return fail<bufferevent*>(nullptr, EINVAL);
  }
  bufferevent* r = guarded<bufferevent*>(nullptr, [&] {
    return make(base, *bufferevent_core::of(underlying), false, ssl, state, options);
  });
  if (!r && (options & BEV_OPT_CLOSE_ON_FREE))
    SSL_free(ssl);
  return r;
}

struct bufferevent* bufferevent_openssl_socket_new(struct event_base* base, evutil_socket_t fd,
                                                   SSL* ssl, enum bufferevent_ssl_state state,
                                                   int options) {
  const int close = options & BEV_OPT_CLOSE_ON_FREE;
  if (!base || !ssl || !valid_state(state) || !socket_of_ssl(ssl, fd)) {
    if (ssl && close)
      SSL_free(ssl);
    return fail<bufferevent*>(nullptr, EINVAL);
  }
  // Its socket bufferevent: the TLS one's lock and deferral are its own.
  const int sock_options = options & (BEV_OPT_CLOSE_ON_FREE | BEV_OPT_THREADSAFE);
  bufferevent* sock = bufferevent_socket_new(base, fd, sock_options);
  if (!sock) {
    if (close)
      SSL_free(ssl);
    return nullptr;
  }
  bufferevent* r = guarded<bufferevent*>(nullptr, [&] {
    return make(base, *bufferevent_core::of(sock), true, ssl, state, options);
  });
  if (!r) {
    const int err = errno;
    bufferevent_setfd(sock, -1);  // the caller keeps the socket on failure
    bufferevent_free(sock);
    if (close)
      SSL_free(ssl);
    errno = err;
  }
  return r;
}

int bufferevent_openssl_get_allow_dirty_shutdown(struct bufferevent* bev) {
  ssl_bufferevent* b = ssl_bufferevent::of(bev);
  return b ? b->get_allow_dirty() : -1;
}

void bufferevent_openssl_set_allow_dirty_shutdown(struct bufferevent* bev, int allow) {
  if (ssl_bufferevent* b = ssl_bufferevent::of(bev))
    b->set_allow_dirty(allow != 0);
}

SSL* bufferevent_openssl_get_ssl(struct bufferevent* bev) {
  ssl_bufferevent* b = ssl_bufferevent::of(bev);
  return b ? b->ssl() : nullptr;
}

int bufferevent_ssl_renegotiate(struct bufferevent* bev) {
  ssl_bufferevent* b = ssl_bufferevent::of(bev);
  return b ? guarded(-1, [&] { return b->renegotiate(); }) : -1;
}

unsigned long bufferevent_get_openssl_error(struct bufferevent* bev) {
  ssl_bufferevent* b = ssl_bufferevent::of(bev);
  return b ? b->pop_error() : 0;
}

} // extern "C"
