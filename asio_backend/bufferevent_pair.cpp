// bufferevent_pair: two bufferevents in one process, each one's output the
// other's input, as libevent's bufferevent_pair.c. Bytes move by splicing
// evbuffer chunks the moment the writer writes (or the reader starts or
// resumes reading); every callback is deferred to the loop, so a write
// never calls back into the writer's own code.
#include "detail/bufferevent_core.hpp"
#include "detail/c_boundary.hpp"
#include "detail/current_base.hpp"

using namespace evasio::detail;

const bufferevent_ops evasio::detail::pair_ops = {"pair_elt"};

namespace {

class pair_bufferevent final : public bufferevent_core {
public:
  pair_bufferevent(event_base* base, int options)
      : bufferevent_core(base, options | BEV_OPT_DEFER_CALLBACKS, pair_ops) {
    output_.on_add = &pair_bufferevent::output_grew;
    output_.on_add_arg = this;
    // As libevent: the user may not add to the input nor take from the output.
    input_.frozen_back = true;
    output_.frozen_front = true;
  }

  ~pair_bufferevent() override;

  static pair_bufferevent* of(::bufferevent* bev) noexcept {
    return bev && bev->be_ops == &pair_ops ? static_cast<pair_bufferevent*>(bev) : nullptr;
  }

  // The second side takes the first's lock.
  void share_lock_of(pair_bufferevent& first) {
    mutex_.share(first.mutex_);
  }
  static void link(pair_bufferevent& a, pair_bufferevent& b) noexcept {
    a.partner_ = &b;
    b.partner_ = &a;
  }
  ::bufferevent* partner() {
    recursive_scoped_lock g(mutex_);
    return partner_;
  }

private:
  int kind_enable(short what) override;
  int kind_disable(short what) override;
  void kind_unlink() noexcept override {}
  int kind_flush(short iotype, bufferevent_flush_mode mode) override;

  static bool wants_to_talk(const pair_bufferevent& src, const pair_bufferevent& dst) noexcept;
  static void transfer(pair_bufferevent& src, pair_bufferevent& dst, bool ignore_wm);
  static void output_grew(void* self);

  pair_bufferevent* partner_ = nullptr;  // cleared when either side is freed
};

// The partner's lock too, when it has its own (a shared one is recursive).
class both_locked {
public:
  explicit both_locked(pair_bufferevent& b, pair_bufferevent* partner)
      : mine_(b.mutex_), theirs_(partner ? &partner->mutex_ : nullptr) {
    if (theirs_)
      theirs_->lock();
  }
  ~both_locked() {
    if (theirs_)
      theirs_->unlock();
  }
  both_locked(const both_locked&) = delete;
  both_locked& operator=(const both_locked&) = delete;

private:
  recursive_scoped_lock mine_;
  optional_recursive_mutex* theirs_;
};

bool pair_bufferevent::wants_to_talk(const pair_bufferevent& src,
                                     const pair_bufferevent& dst) noexcept {
  return (src.enabled & EV_WRITE) && (dst.enabled & EV_READ) && !dst.read_suspended() &&
         src.output_.length();
}

// Up to the reader's high watermark (all of it when told to ignore it);
// then, as libevent, the reader's timeouts restart and both sides' data
// callbacks are due (deferred), as the watermarks allow.
void pair_bufferevent::transfer(pair_bufferevent& src, pair_bufferevent& dst, bool ignore_wm) {
  size_t n = src.output_.length();
  if (dst.wm_read.high) {
    const size_t have = dst.input_.length();
    if (have < dst.wm_read.high)
      n = src.output_.move_to(dst.input_, dst.wm_read.high - have);
    else if (!ignore_wm)
      return;
    else
      dst.input_.append(src.output_);
  } else {
    dst.input_.append(src.output_);
  }
  if (n) {
    dst.restart_timer(true);
    if (dst.output_.length())
      dst.restart_timer(false);
    else
      dst.disarm_timer(false);
  }
  dst.update_read_suspension();
  dst.trigger_nolock(EV_READ, 0);
  src.trigger_nolock(EV_WRITE, 0);
}

void pair_bufferevent::output_grew(void* p) {
  auto* self = static_cast<pair_bufferevent*>(p);
  try {
    ref keep(self);
    both_locked g(*self, self->partner_);
    if (self->partner_ && wants_to_talk(*self, *self->partner_))
      transfer(*self, *self->partner_, false);
  } catch (...) {
    // No memory to move the chunks: they move with the next write or enable.
  }
}

int pair_bufferevent::kind_enable(short what) {
  both_locked g(*this, partner_);
  if (what & EV_READ)
    restart_timer(true);
  if ((what & EV_WRITE) && output_.length())
    restart_timer(false);
  // Starting to read: has the other side something to write? Starting to
  // write: does the other side read?
  if ((what & EV_READ) && partner_ && wants_to_talk(*partner_, *this))
    transfer(*partner_, *this, false);
  if ((what & EV_WRITE) && partner_ && wants_to_talk(*this, *partner_))
    transfer(*this, *partner_, false);
  return 0;
}

int pair_bufferevent::kind_disable(short what) {
  if (what & EV_READ)
    disarm_timer(true);
  if (what & EV_WRITE)
    disarm_timer(false);
  return 0;
}

// As libevent, a freed side stays linked while references to it remain
// (a deferred callback's, the program's incref): the last one unlinks it.
// The partner is not told; it just has no partner any more.
pair_bufferevent::~pair_bufferevent() {
  if (!partner_)
    return;
  both_locked g(*this, partner_);
  partner_->partner_ = nullptr;
  partner_ = nullptr;
}

int pair_bufferevent::kind_flush(short iotype, bufferevent_flush_mode mode) {
  if (!partner_)
    return -1;
  if (mode == BEV_NORMAL)
    return 0;
  pair_bufferevent& other = *partner_;
  ref keep_other(&other);
  both_locked g(*this, &other);
  if (iotype & EV_READ)
    transfer(other, *this, true);
  if (iotype & EV_WRITE)
    transfer(*this, other, true);
  if (mode == BEV_FINISHED) {
    short what = BEV_EVENT_EOF;
    if (iotype & EV_READ)
      what |= BEV_EVENT_WRITING;
    if (iotype & EV_WRITE)
      what |= BEV_EVENT_READING;
    other.run_eventcb(what, 0);
  }
  return 0;
}

} // namespace

extern "C" {

// As libevent, a NULL base is the current one (event_init's).
int bufferevent_pair_new(struct event_base* base, int options, struct bufferevent* pair[2]) {
  if (!base)
    base = current_base();
  if (!base || !pair)
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    auto a = std::make_unique<pair_bufferevent>(base, options);
    auto b = std::make_unique<pair_bufferevent>(base, options & ~BEV_OPT_THREADSAFE);
    // One lock for both sides whenever they lock (BEV_OPT_THREADSAFE, or a
    // base that locks everything): two would be taken in either order.
    if (a->mutex_.enabled())
      b->share_lock_of(*a);
    pair_bufferevent::link(*a, *b);
    base->attach(a.get());
    base->attach(b.get());
    pair[0] = a.release();
    pair[1] = b.release();
    return 0;
  });
}

struct bufferevent* bufferevent_pair_get_partner(struct bufferevent* bev) {
  pair_bufferevent* p = pair_bufferevent::of(bev);
  return p ? p->partner() : nullptr;
}

} // extern "C"
