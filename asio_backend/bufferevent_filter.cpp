// bufferevent_filter: a bufferevent over another, as libevent's
// bufferevent_filter.c. The filter takes the underlying bufferevent's
// callbacks: what it reads goes through the input filter into this one's
// input; what is written here goes through the output filter into the
// underlying one's output. The underlying one reads only while this one
// does (a read suspension of its own, libevent's BEV_SUSPEND_FILT_READ).
#include "detail/bufferevent_core.hpp"
#include "detail/c_boundary.hpp"

#include <event2/buffer.h>

#include <boost/asio/post.hpp>

using namespace evasio::detail;

const bufferevent_ops evasio::detail::filter_ops = {"filter"};

namespace {

// No filter: the bytes pass unchanged, up to the limit.
bufferevent_filter_result pass_through(struct evbuffer* src, struct evbuffer* dst,
                                       ev_ssize_t limit, bufferevent_flush_mode, void*) {
  const size_t n = limit < 0 ? evbuffer_get_length(src) : static_cast<size_t>(limit);
  return evbuffer_remove_buffer(src, dst, n) >= 0 ? BEV_OK : BEV_ERROR;
}

class filter_bufferevent final : public bufferevent_core {
public:
  filter_bufferevent(bufferevent_core& under, bufferevent_filter_cb in, bufferevent_filter_cb out,
                     int options, void (*free_context)(void*), void* ctx)
      : bufferevent_core(under.ev_base, options, filter_ops), under_(&under),
        in_(in ? in : pass_through), out_(out ? out : pass_through),
        free_context_(free_context), ctx_(ctx) {
    output_.on_add = &filter_bufferevent::output_grew;
    output_.on_add_arg = this;
  }
  ~filter_bufferevent() override {
    if (free_context_)
      free_context_(ctx_);  // not handed to a loop (no base): now
  }

  // libevent's order: take the underlying one's callbacks, let it read and
  // write, and hold its reading until this one reads. A locking filter
  // shares one lock with the underlying one (what libevent's locking code
  // means to do; its filter_new sets up the lock before the underlying
  // bufferevent is known, so the two locks it ends up with can deadlock
  // a writer thread against the loop's thread).
  void attach_underlying() {
    if (mutex_.enabled()) {
      if (under_->mutex_.enabled())
        mutex_.share(under_->mutex_);
      else
        under_->mutex_.share(mutex_);
    }
    under_->setcb(&filter_bufferevent::under_read, &filter_bufferevent::under_write,
                  &filter_bufferevent::under_event, static_cast<::bufferevent*>(this));
    under_->enable(EV_READ | EV_WRITE);
    under_->suspend_read(suspend_filt_read, true);
  }

private:
  int kind_enable(short what) override;
  int kind_disable(short what) override;
  void kind_unlink() noexcept override;
  int kind_flush(short iotype, bufferevent_flush_mode mode) override;
  evutil_socket_t kind_getfd() override { return under_->getfd(); }
  int kind_setfd(evutil_socket_t fd) override { return under_->setfd(fd); }
  ::bufferevent* kind_underlying() override { return under_.get(); }
  void kind_read_suspension(bool suspended) override;

  bool readbuf_full(bufferevent_flush_mode m) const noexcept {
    return m == BEV_NORMAL && wm_read.high && input_.length() >= wm_read.high;
  }
  bool under_writebuf_full(bufferevent_flush_mode m) const noexcept {
    return m == BEV_NORMAL && under_->wm_write.high &&
           under_->output_.length() >= under_->wm_write.high;
  }
  bufferevent_filter_result process_input(bufferevent_flush_mode m, bool& processed);
  bufferevent_filter_result process_output(bufferevent_flush_mode m, bool& processed);
  void read_from_underlying();

  // The callbacks' argument is the public struct, as libevent's.
  static filter_bufferevent* self_of(void* me) noexcept {
    return static_cast<filter_bufferevent*>(static_cast<::bufferevent*>(me));
  }
  static void under_read(::bufferevent*, void* me);
  static void under_write(::bufferevent*, void* me);
  static void under_event(::bufferevent*, short what, void* me);
  static void output_grew(void* me);

  const ref under_;  // held until this one is gone, as libevent's incref
  const bufferevent_filter_cb in_;
  const bufferevent_filter_cb out_;
  void finalize_later() noexcept;

  void (*free_context_)(void*);  // null once handed to the loop
  void* const ctx_;
  bool in_output_ = false;  // process_output is running: additions wait for it
};

// In BEV_NORMAL only while reading and under the high watermark, at most up
// to it; a flush urges the filter whatever the marks say. As libevent, the
// result is not reported: an erring filter just produces nothing.
bufferevent_filter_result filter_bufferevent::process_input(bufferevent_flush_mode m,
                                                            bool& processed) {
  if (m == BEV_NORMAL && (!(enabled & EV_READ) || readbuf_full(m)))
    return BEV_OK;
  bufferevent_filter_result r;
  do {
    ev_ssize_t limit = -1;
    if (m == BEV_NORMAL && wm_read.high)
      limit = static_cast<ev_ssize_t>(wm_read.high - input_.length());
    r = in_(&under_->input_, &input_, limit, m, ctx_);
    if (r == BEV_OK)
      processed = true;
  } while (r == BEV_OK && (enabled & EV_READ) && under_->input_.length() && !readbuf_full(m));
  if (processed)
    restart_timer(true);
  return r;
}

// In BEV_NORMAL only while writing, with output, and the underlying output
// under its high watermark. The write callback runs after each round.
bufferevent_filter_result filter_bufferevent::process_output(bufferevent_flush_mode m,
                                                             bool& processed) {
  if (m == BEV_NORMAL &&
      (!(enabled & EV_WRITE) || under_writebuf_full(m) || !output_.length()))
    return BEV_OK;
  bufferevent_filter_result r = BEV_OK;
  in_output_ = true;
  bool again;
  do {
    bool round = false;
    again = false;
    do {
      ev_ssize_t limit = -1;
      if (m == BEV_NORMAL && under_->wm_write.high)
        limit = static_cast<ev_ssize_t>(under_->wm_write.high - under_->output_.length());
      r = out_(&output_, &under_->output_, limit, m, ctx_);
      if (r == BEV_OK)
        round = processed = true;
    } while (r == BEV_OK && (enabled & EV_WRITE) && output_.length() && !under_writebuf_full(m));
    if (round) {
      trigger_nolock(EV_WRITE, 0);
      again = r == BEV_OK && (enabled & EV_WRITE) && output_.length() && !under_writebuf_full(m);
    }
  } while (again);
  in_output_ = false;
  if (processed)
    restart_timer(false);
  return r;
}

void filter_bufferevent::read_from_underlying() {
  bool processed = false;
  process_input(BEV_NORMAL, processed);
  if (processed) {
    update_read_suspension();
    trigger_nolock(EV_READ, 0);
  }
}

// The underlying one read: filter it in (a reference held: our read
// callback may free us).
void filter_bufferevent::under_read(::bufferevent*, void* me) {
  ref keep(self_of(me));
  recursive_scoped_lock g(keep->mutex_);
  if (!self_of(me)->freed_)
    self_of(me)->read_from_underlying();
}

void filter_bufferevent::under_write(::bufferevent*, void* me) {
  ref keep(self_of(me));
  recursive_scoped_lock g(keep->mutex_);
  bool processed = false;
  if (!self_of(me)->freed_)
    self_of(me)->process_output(BEV_NORMAL, processed);
}

// All a filter can do with the underlying one's events: pass them on.
void filter_bufferevent::under_event(::bufferevent*, short what, void* me) {
  const int err = errno;
  ref keep(self_of(me));
  recursive_scoped_lock g(keep->mutex_);
  if (!self_of(me)->freed_)
    self_of(me)->run_eventcb(what, err);
}

void filter_bufferevent::output_grew(void* me) {
  auto* self = static_cast<filter_bufferevent*>(me);  // on_add_arg: this
  if (self->in_output_)
    return;  // the round under way takes it
  try {
    ref keep(self);
    recursive_scoped_lock g(self->mutex_);
    bool processed = false;
    self->process_output(BEV_NORMAL, processed);
  } catch (...) {
    self->in_output_ = false;  // no memory: the next write or flush goes on
  }
}

// Drained below the high watermark: what waits in the underlying input
// comes in now (libevent's input callback on the filter's input).
void filter_bufferevent::kind_read_suspension(bool suspended) {
  if (!suspended && under_->input_.length())
    read_from_underlying();
}

int filter_bufferevent::kind_enable(short what) {
  if (what & EV_WRITE)
    restart_timer(false);
  if (what & EV_READ) {
    restart_timer(true);
    under_->suspend_read(suspend_filt_read, false);
  }
  return 0;
}

int filter_bufferevent::kind_disable(short what) {
  if (what & EV_WRITE)
    disarm_timer(false);
  if (what & EV_READ) {
    disarm_timer(true);
    under_->suspend_read(suspend_filt_read, true);
  }
  return 0;
}

// free_context runs once, as libevent's finalizer: on the loop's next pass,
// or when the base goes first (the handler destroyed unrun calls it too).
void filter_bufferevent::finalize_later() noexcept {
  class finalizer {
  public:
    finalizer(void (*fn)(void*), void* ctx) noexcept : fn_(fn), ctx_(ctx) {}
    finalizer(finalizer&& o) noexcept : fn_(o.fn_), ctx_(o.ctx_) { o.fn_ = nullptr; }
    finalizer(const finalizer&) = delete;
    finalizer& operator=(const finalizer&) = delete;
    finalizer& operator=(finalizer&&) = delete;
    ~finalizer() {
      if (fn_)
        fn_(ctx_);
    }

  private:
    void (*fn_)(void*);
    void* ctx_;
  };
  if (!free_context_ || !ev_base)
    return;
  try {
    boost::asio::post(ev_base->context(), [f = finalizer(free_context_, ctx_)] {});
    free_context_ = nullptr;
  } catch (...) {
    // No memory to post it: the destructor calls it.
  }
}

// BEV_OPT_CLOSE_ON_FREE frees the underlying one; otherwise it gets its
// callbacks cleared (if still ours) and reads again.
void filter_bufferevent::kind_unlink() noexcept {
  finalize_later();
  try {
    if (options_ & BEV_OPT_CLOSE_ON_FREE) {
      under_->free();  // its memory stays until under_ lets go
      return;
    }
    if (under_->errorcb == &filter_bufferevent::under_event)
      under_->setcb(nullptr, nullptr, nullptr, nullptr);
    under_->suspend_read(suspend_filt_read, false);
  } catch (...) {
  }
}

// 1 when the filters produced anything; the underlying one is flushed too.
int filter_bufferevent::kind_flush(short iotype, bufferevent_flush_mode mode) {
  bool processed = false;
  if (iotype & EV_READ) {
    process_input(mode, processed);
    if (processed)
      update_read_suspension();
  }
  if (iotype & EV_WRITE)
    process_output(mode, processed);
  under_->flush(iotype, mode);
  return processed ? 1 : 0;
}

} // namespace

extern "C" {

struct bufferevent* bufferevent_filter_new(struct bufferevent* underlying,
                                           bufferevent_filter_cb input_filter,
                                           bufferevent_filter_cb output_filter, int options,
                                           void (*free_context)(void*), void* ctx) {
  if (!underlying || !underlying->ev_base)
    return fail<bufferevent*>(nullptr, EINVAL);
  if ((options & BEV_OPT_UNLOCK_CALLBACKS) && !(options & BEV_OPT_DEFER_CALLBACKS))
    return fail<bufferevent*>(nullptr, EINVAL);  // as libevent: it needs deferral
  return guarded<bufferevent*>(nullptr, [&]() -> bufferevent* {
    bufferevent_core& under = *bufferevent_core::of(underlying);
    auto f = std::make_unique<filter_bufferevent>(under, input_filter, output_filter, options,
                                                  free_context, ctx);
    under.ev_base->attach(f.get());
    f->attach_underlying();
    return f.release();
  });
}

} // extern "C"
