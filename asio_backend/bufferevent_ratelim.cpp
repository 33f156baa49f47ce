// Rate limits of bufferevents: the token bucket arithmetic, groups and the
// ratelim part of event2/bufferevent.h, with libevent 2.1.12's rules (see
// detail/ratelim.hpp).
#include "detail/ratelim.hpp"

#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/timeval.hpp"

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <boost/intrusive_ptr.hpp>

#include <algorithm>
#include <climits>

namespace asio = boost::asio;
using namespace evasio::detail;
using steady = std::chrono::steady_clock;

namespace evasio::detail {

tick_t current_tick(const ev_token_bucket_cfg& cfg) noexcept {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      steady::now().time_since_epoch());
  return static_cast<tick_t>(static_cast<std::uint64_t>(ms.count()) / cfg.msec_per_tick);
}

void token_bucket::start(const ev_token_bucket_cfg& cfg, tick_t now) noexcept {
  read_limit = static_cast<ev_ssize_t>(cfg.read_rate);
  write_limit = static_cast<ev_ssize_t>(cfg.write_rate);
  last_updated = now;
}

void token_bucket::clip(const ev_token_bucket_cfg& cfg) noexcept {
  read_limit = std::min(read_limit, static_cast<ev_ssize_t>(cfg.read_maximum));
  write_limit = std::min(write_limit, static_cast<ev_ssize_t>(cfg.write_maximum));
}

namespace {
// limit + ticks * rate, capped at the burst. A bucket above its burst (a
// negative decrement put it there) is not brought down: it grows on, as
// libevent's, saturating instead of overflowing.
ev_ssize_t refilled(ev_ssize_t limit, size_t rate, size_t burst, unsigned ticks) noexcept {
  const __int128 room = static_cast<__int128>(burst) - limit;
  const __int128 add = static_cast<__int128>(rate) * ticks;
  if (room >= 0 && add > room)
    return static_cast<ev_ssize_t>(burst);
  return static_cast<ev_ssize_t>(std::min<__int128>(limit + add, EV_SSIZE_MAX));
}
} // namespace

bool token_bucket::refill(const ev_token_bucket_cfg& cfg, tick_t now) noexcept {
  const tick_t ticks = now - last_updated;  // modulo 2^32: a wrap is fine
  if (ticks == 0 || ticks > static_cast<tick_t>(INT_MAX))
    return false;  // same tick, or the clock went back
  read_limit = refilled(read_limit, cfg.read_rate, cfg.read_maximum, ticks);
  write_limit = refilled(write_limit, cfg.write_rate, cfg.write_maximum, ticks);
  last_updated = now;
  return true;
}

// ---- a bufferevent's limits ---------------------------------------------------

bev_rate_limit::~bev_rate_limit() {
  leave_group(false);
  disarm_refill();
}

void bev_rate_limit::refresh() {
  const tick_t now = current_tick(*cfg_);
  if (now != bucket_.last_updated)
    bucket_.refill(*cfg_, now);
}

ev_ssize_t bev_rate_limit::max_to(bool write, ev_ssize_t single) {
  ev_ssize_t most = single;
  if (cfg_) {
    refresh();
    most = write ? bucket_.write_limit : bucket_.read_limit;  // replaces `single`
  }
  if (group_) {
    recursive_scoped_lock g(group_->lock);
    ev_ssize_t share = 0;
    if (write ? group_->write_suspended : group_->read_suspended)
      owner_.bw_suspend(write ? EV_WRITE : EV_READ, suspend_bw_group);  // missed by the group
    else
      share = group_->share_of(write);
    most = std::min(most, share);
  }
  return std::max<ev_ssize_t>(most, 0);
}

// The own bucket changed: shut at zero or below (until a
// refill), open again above.
void bev_rate_limit::check_own(bool write) {
  const short side = write ? EV_WRITE : EV_READ;
  const ev_ssize_t now = write ? bucket_.write_limit : bucket_.read_limit;
  if (now <= 0) {
    own_suspended_ |= side;
    owner_.bw_suspend(side, suspend_bw);
    arm_refill();
  } else if (own_suspended_ & side) {
    own_suspended_ &= static_cast<short>(~side);
    if (!own_suspended_)
      disarm_refill();
    owner_.bw_unsuspend(side, suspend_bw);
  }
}

void bev_rate_limit::spent(bool write, ev_ssize_t n) {
  if (cfg_) {
    (write ? bucket_.write_limit : bucket_.read_limit) -= n;
    check_own(write);
  }
  if (group_) {
    recursive_scoped_lock g(group_->lock);
    group_->spend(write, n, true);
  }
}

// The program's decrement: only crossing zero changes anything (a bucket
// already shut stays so, its refill timer as it was).
int bev_rate_limit::decrement(bool write, ev_ssize_t n) {
  if (!cfg_)
    return fail(-1, EINVAL);  // libevent asserts
  ev_ssize_t& lim = write ? bucket_.write_limit : bucket_.read_limit;
  const ev_ssize_t before = lim;
  lim -= n;
  if ((before > 0) != (lim > 0))
    check_own(write);
  return 0;
}

int bev_rate_limit::set_cfg(ev_token_bucket_cfg* cfg) {
  if (!cfg) {
    cfg_ = nullptr;
    own_suspended_ = 0;
    disarm_refill();
    owner_.bw_unsuspend(EV_READ, suspend_bw);
    owner_.bw_unsuspend(EV_WRITE, suspend_bw);
    return 0;
  }
  if (cfg == cfg_)
    return 0;
  if (cfg_)
    bucket_.clip(*cfg);  // the tick's bandwidth may be spent: only downwards
  else
    bucket_.start(*cfg, current_tick(*cfg));
  cfg_ = cfg;
  disarm_refill();  // a new tick length: the timer starts again
  own_suspended_ = 0;
  for (const bool write : {false, true}) {
    const short side = write ? EV_WRITE : EV_READ;
    if ((write ? bucket_.write_limit : bucket_.read_limit) > 0) {
      owner_.bw_unsuspend(side, suspend_bw);
    } else {
      own_suspended_ |= side;
      owner_.bw_suspend(side, suspend_bw);
    }
  }
  if (own_suspended_)
    arm_refill();
  return 0;
}

ev_ssize_t bev_rate_limit::limit(bool write) {
  if (!cfg_)
    return EV_SSIZE_MAX;
  refresh();
  return write ? bucket_.write_limit : bucket_.read_limit;
}

int bev_rate_limit::join(bufferevent_rate_limit_group* g) {
  if (g == group_)
    return 0;
  leave_group(true);
  bool rd, wr;
  {
    recursive_scoped_lock lk(g->lock);
    g->join(this);
    group_ = g;
    rd = g->read_suspended;
    wr = g->write_suspended;
  }
  if (rd)
    owner_.bw_suspend(EV_READ, suspend_bw_group);
  if (wr)
    owner_.bw_suspend(EV_WRITE, suspend_bw_group);
  return 0;
}

void bev_rate_limit::leave_group(bool unsuspend) noexcept {
  if (group_) {
    recursive_scoped_lock lk(group_->lock);
    group_->leave(this);
    group_ = nullptr;
  }
  if (unsuspend) {
    owner_.bw_unsuspend(EV_READ, suspend_bw_group);
    owner_.bw_unsuspend(EV_WRITE, suspend_bw_group);
  }
}

// One refill timer per limited bufferevent, armed only while a bucket is
// shut: a pending event of its base, as libevent's refill event.
void bev_rate_limit::arm_refill() {
  event_base* base = owner_.bw_base();
  if (!base)
    return;
  if (!refill_)
    refill_ = std::make_unique<asio::steady_timer>(base->context());
  if (!armed_on_) {
    armed_on_ = base;
    base->add_pending(1);
  }
  const unsigned seq = ++seq_;
  refill_->expires_after(to_timeout(cfg_->tick_timeout));
  refill_->async_wait([this, seq, hold = owner_hold(owner_)](boost::system::error_code ec) {
    if (ec != asio::error::operation_aborted) {
      (*hold).bw_lock();
      on_refill(seq);
      (*hold).bw_unlock();
    }
  });
}

void bev_rate_limit::disarm_refill() noexcept {
  ++seq_;
  if (refill_)
    refill_->cancel();
  if (armed_on_) {
    armed_on_->add_pending(-1);
    armed_on_ = nullptr;
  }
}

void bev_rate_limit::on_refill(unsigned seq) {
  if (seq != seq_ || !cfg_ || !armed_on_)
    return;  // disarmed, or armed again since
  armed_on_->add_pending(-1);
  armed_on_ = nullptr;
  bucket_.refill(*cfg_, current_tick(*cfg_));
  bool again = false;
  for (const bool write : {false, true}) {
    const short side = write ? EV_WRITE : EV_READ;
    if (!(own_suspended_ & side))
      continue;
    if ((write ? bucket_.write_limit : bucket_.read_limit) > 0) {
      own_suspended_ &= static_cast<short>(~side);
      owner_.bw_unsuspend(side, suspend_bw);
    } else {
      again = true;  // it went far below zero: more ticks to wait
    }
  }
  if (again)
    arm_refill();
}

void bev_rate_limit::leave_base() noexcept {
  rearm_ = armed_on_ != nullptr;
  disarm_refill();
  refill_.reset();
}

void bev_rate_limit::enter_base() {
  if (std::exchange(rearm_, false) && cfg_)
    arm_refill();
}

} // namespace evasio::detail

// ---- groups ---------------------------------------------------------------

namespace {
constexpr size_t default_min_share = 64;  // libevent's
bool group_locks(event_base* base) noexcept {
  return threads_enabled.load(std::memory_order_relaxed) || base->multi_threaded();
}
} // namespace

bufferevent_rate_limit_group::bufferevent_rate_limit_group(event_base* base,
                                                           const ev_token_bucket_cfg& c)
    : lock(group_locks(base)), cfg(c), base_(base),
      timer_(std::make_unique<asio::steady_timer>(base->context())) {
  bucket.start(cfg, current_tick(cfg));
  set_min_share(default_min_share);
  // A seed that differs between groups and runs; fairness needs no more.
  rng_ = static_cast<std::uint32_t>(steady::now().time_since_epoch().count()) ^
         static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(this));
  if (rng_ == 0)
    rng_ = 1;
  base->attach(this);
  base->add_pending(1);  // its refill event is added for good
  arm(steady::now() + to_timeout(cfg.tick_timeout));
}

bufferevent_rate_limit_group::~bufferevent_rate_limit_group() = default;

void bufferevent_rate_limit_group::arm(steady::time_point at) {
  timer_->expires_at(at);
  // The handler holds the group, run or destroyed unrun.
  timer_->async_wait([self = boost::intrusive_ptr<bufferevent_rate_limit_group>(this)](
                         boost::system::error_code ec) {
    if (ec != asio::error::operation_aborted)
      self->on_tick();
  });
}

// Every tick: refill, resume the members if there is enough for a share
// (or some could not be resumed last time), and wait for the next tick.
void bufferevent_rate_limit_group::on_tick() {
  evasio::detail::recursive_scoped_lock g(lock);
  if (freed_ || !base_)
    return;
  base_->note_callback();
  bucket.refill(cfg, evasio::detail::current_tick(cfg));
  if (pending_unsuspend_read_ || (read_suspended && bucket.read_limit >= min_share_))
    unsuspend(false);
  if (pending_unsuspend_write_ || (write_suspended && bucket.write_limit >= min_share_))
    unsuspend(true);
  // On the tick's cadence; after a stall, a whole tick from now.
  const auto tick = to_timeout(cfg.tick_timeout);
  arm(std::max(timer_->expiry() + tick, steady::now()));
}

void bufferevent_rate_limit_group::set_cfg(const ev_token_bucket_cfg& c) {
  const bool same_tick = c.tick_timeout.tv_sec == cfg.tick_timeout.tv_sec &&
                         c.tick_timeout.tv_usec == cfg.tick_timeout.tv_usec;
  cfg = c;
  bucket.clip(cfg);
  if (!same_tick && base_ && timer_) {
    timer_->cancel();  // the handler under way drops its reference
    arm(steady::now() + to_timeout(cfg.tick_timeout));
  }
  set_min_share(configured_min_share_);  // capped by the new rates
}

// At most one tick's rate, so that at least one member moves every tick.
int bufferevent_rate_limit_group::set_min_share(size_t share) noexcept {
  if (share > static_cast<size_t>(EV_SSIZE_MAX))
    return -1;
  configured_min_share_ = share;
  share = std::min({share, cfg.read_rate, cfg.write_rate});
  min_share_ = static_cast<ev_ssize_t>(share);
  return 0;
}

// An equal part of what is left, for all members (active or not, as
// libevent), but no less than the min share.
ev_ssize_t bufferevent_rate_limit_group::share_of(bool write) const noexcept {
  const ev_ssize_t left = write ? bucket.write_limit : bucket.read_limit;
  const ev_ssize_t n = static_cast<ev_ssize_t>(std::max<size_t>(members_.size(), 1));
  return std::max(left / n, min_share_);
}

void bufferevent_rate_limit_group::spend(bool write, ev_ssize_t n, bool count_total) {
  ev_ssize_t& lim = write ? bucket.write_limit : bucket.read_limit;
  const ev_ssize_t before = lim;
  lim -= n;
  if (count_total)
    (write ? total_written : total_read) += static_cast<std::uint64_t>(n);
  const bool suspended = write ? write_suspended : read_suspended;
  // A member's transfer shuts or resumes on every change; the program's
  // decrement only when it crosses zero.
  if (lim <= 0 && (count_total || before > 0))
    suspend(write);
  else if (lim > 0 && (count_total ? suspended : before <= 0))
    unsuspend(write);
}

// Members found locked (by their own thread) notice when they next ask
// max_to(); the lock order is bufferevent, then group.
void bufferevent_rate_limit_group::suspend(bool write) {
  (write ? write_suspended : read_suspended) = true;
  (write ? pending_unsuspend_write_ : pending_unsuspend_read_) = false;
  for (evasio::detail::bev_rate_limit* m : members_) {
    if (m->owner_.bw_try_lock()) {
      m->owner_.bw_suspend(write ? EV_WRITE : EV_READ, evasio::detail::suspend_bw_group);
      m->owner_.bw_unlock();
    }
  }
}

// From a random member on, round the list: no member is always first to
// take its share of the new tick.
void bufferevent_rate_limit_group::unsuspend(bool write) {
  (write ? write_suspended : read_suspended) = false;
  bool again = false;
  const size_t n = members_.size();
  const size_t first = n ? random_index() : 0;
  for (size_t i = 0; i < n; ++i) {
    evasio::detail::bev_rate_limit* m = members_[(first + i) % n];
    if (m->owner_.bw_try_lock()) {
      m->owner_.bw_unsuspend(write ? EV_WRITE : EV_READ, evasio::detail::suspend_bw_group);
      m->owner_.bw_unlock();
    } else {
      again = true;
    }
  }
  (write ? pending_unsuspend_write_ : pending_unsuspend_read_) = again;
}

size_t bufferevent_rate_limit_group::random_index() noexcept {
  // xorshift32: a cheap, unbiased-enough start for round robin.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return rng_ % members_.size();
}

void bufferevent_rate_limit_group::join(evasio::detail::bev_rate_limit* m) {
  members_.push_back(m);
}

void bufferevent_rate_limit_group::leave(evasio::detail::bev_rate_limit* m) noexcept {
  members_.erase(std::remove(members_.begin(), members_.end(), m), members_.end());
}

// Its refill event goes with it. Members left behind (libevent asserts
// there are none) are let go: they no longer count against it.
void bufferevent_rate_limit_group::free() noexcept {
  {
    evasio::detail::recursive_scoped_lock g(lock);
    freed_ = true;
    for (evasio::detail::bev_rate_limit* m : members_)
      m->group_ = nullptr;
    members_.clear();
    if (base_)
      base_->detach(this);
    drop_base();
  }
  intrusive_ptr_release(this);
}

// event_base_free: the base unlinks it; the timer goes with the io_context.
void bufferevent_rate_limit_group::detach_from_base() noexcept {
  evasio::detail::recursive_scoped_lock g(lock);
  drop_base();
}

void bufferevent_rate_limit_group::drop_base() noexcept {
  if (!base_)
    return;
  base_->add_pending(-1);
  timer_.reset();  // cancels: the handler drops its reference
  base_ = nullptr;
}

// ---- C boundary -------------------------------------------------------------

namespace {

// libevent's limits: rates of at least 1, no more than the bursts, nothing
// above EV_RATE_LIMIT_MAX. evasio also refuses a tick under a millisecond
// or negative (libevent divides by its zero milliseconds on first use).
bool valid_cfg(size_t rr, size_t rb, size_t wr, size_t wb, const timeval& tick) noexcept {
  const size_t most = static_cast<size_t>(EV_RATE_LIMIT_MAX);
  if (rr < 1 || wr < 1 || rr > rb || wr > wb || rb > most || wb > most)
    return false;
  return tick.tv_sec >= 0 && tick.tv_usec >= 0;
}

// The tick in milliseconds, as libevent counts it: sub-millisecond parts
// dropped, tv_usec taken modulo 2^20 (libevent's common-timeout mask).
unsigned msec_of(const timeval& tick) noexcept {
  const auto sec = static_cast<unsigned long long>(tick.tv_sec);  // no signed overflow
  return static_cast<unsigned>(sec * 1000 + static_cast<unsigned long long>(tick.tv_usec & 0xfffff) / 1000);
}

} // namespace

// ---- a bufferevent's limits: under its lock --------------------------------

namespace {

// Runs f(limits) under bev's lock; `none` when bev has no limits (or they
// could not be made: errno tells).
template <class R, class F>
R with_limits(const struct bufferevent* cbev, bool make, R none, F&& f) noexcept {
  auto* bev = const_cast<struct bufferevent*>(cbev);
  return guarded<R>(none, [&]() -> R {
    bufferevent_lock(bev);
    struct unlocker {
      struct bufferevent* b;
      ~unlocker() { bufferevent_unlock(b); }
    } u{bev};
    bev_rate_limit* rl = rate_limit_of(bev, make);
    return rl ? f(*rl) : none;
  });
}

} // namespace

extern "C" {

struct ev_token_bucket_cfg* ev_token_bucket_cfg_new(size_t read_rate, size_t read_burst,
                                                    size_t write_rate, size_t write_burst,
                                                    const struct timeval* tick_len) {
  const timeval one_second = {1, 0};
  const timeval& tick = tick_len ? *tick_len : one_second;
  if (!valid_cfg(read_rate, read_burst, write_rate, write_burst, tick) || msec_of(tick) == 0)
    return fail<ev_token_bucket_cfg*>(nullptr, EINVAL);
  return guarded<ev_token_bucket_cfg*>(nullptr, [&] {
    return new ev_token_bucket_cfg{read_rate, read_burst, write_rate, write_burst, tick,
                                   msec_of(tick)};
  });
}

void ev_token_bucket_cfg_free(struct ev_token_bucket_cfg* cfg) { delete cfg; }

struct bufferevent_rate_limit_group* bufferevent_rate_limit_group_new(
    struct event_base* base, const struct ev_token_bucket_cfg* cfg) {
  if (!base || !cfg)
    return fail<bufferevent_rate_limit_group*>(nullptr, EINVAL);
  return guarded<bufferevent_rate_limit_group*>(
      nullptr, [&] { return new bufferevent_rate_limit_group(base, *cfg); });
}

int bufferevent_rate_limit_group_set_cfg(struct bufferevent_rate_limit_group* g,
                                         const struct ev_token_bucket_cfg* cfg) {
  if (!g || !cfg)
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    recursive_scoped_lock lk(g->lock);
    g->set_cfg(*cfg);
    return 0;
  });
}

int bufferevent_rate_limit_group_set_min_share(struct bufferevent_rate_limit_group* g,
                                               size_t share) {
  if (!g)
    return fail(-1, EINVAL);
  recursive_scoped_lock lk(g->lock);
  return g->set_min_share(share) == 0 ? 0 : fail(-1, EINVAL);
}

void bufferevent_rate_limit_group_free(struct bufferevent_rate_limit_group* g) {
  if (g)
    g->free();
}

ev_ssize_t bufferevent_rate_limit_group_get_read_limit(struct bufferevent_rate_limit_group* g) {
  if (!g)
    return fail<ev_ssize_t>(-1, EINVAL);
  recursive_scoped_lock lk(g->lock);
  return g->bucket.read_limit;
}

ev_ssize_t bufferevent_rate_limit_group_get_write_limit(struct bufferevent_rate_limit_group* g) {
  if (!g)
    return fail<ev_ssize_t>(-1, EINVAL);
  recursive_scoped_lock lk(g->lock);
  return g->bucket.write_limit;
}

int bufferevent_rate_limit_group_decrement_read(struct bufferevent_rate_limit_group* g,
                                                ev_ssize_t decr) {
  if (!g)
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    recursive_scoped_lock lk(g->lock);
    g->spend(false, decr, false);
    return 0;
  });
}

int bufferevent_rate_limit_group_decrement_write(struct bufferevent_rate_limit_group* g,
                                                 ev_ssize_t decr) {
  if (!g)
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    recursive_scoped_lock lk(g->lock);
    g->spend(true, decr, false);
    return 0;
  });
}

void bufferevent_rate_limit_group_get_totals(struct bufferevent_rate_limit_group* g,
                                             ev_uint64_t* total_read_out,
                                             ev_uint64_t* total_written_out) {
  if (!g)
    return;
  recursive_scoped_lock lk(g->lock);
  if (total_read_out)
    *total_read_out = g->total_read;
  if (total_written_out)
    *total_written_out = g->total_written;
}

void bufferevent_rate_limit_group_reset_totals(struct bufferevent_rate_limit_group* g) {
  if (!g)
    return;
  recursive_scoped_lock lk(g->lock);
  g->total_read = g->total_written = 0;
}


int bufferevent_set_rate_limit(struct bufferevent* bev, struct ev_token_bucket_cfg* cfg) {
  if (!bev)
    return fail(-1, EINVAL);
  if (!cfg)  // nothing to remove without limits
    return with_limits(bev, false, 0, [](bev_rate_limit& rl) { return rl.set_cfg(nullptr); });
  return with_limits(bev, true, -1, [&](bev_rate_limit& rl) { return rl.set_cfg(cfg); });
}

int bufferevent_add_to_rate_limit_group(struct bufferevent* bev,
                                        struct bufferevent_rate_limit_group* g) {
  if (!bev)
    return fail(-1, EINVAL);
  if (!g)
    return bufferevent_remove_from_rate_limit_group(bev);
  return with_limits(bev, true, -1, [&](bev_rate_limit& rl) { return rl.join(g); });
}

int bufferevent_remove_from_rate_limit_group(struct bufferevent* bev) {
  if (!bev)
    return fail(-1, EINVAL);
  return with_limits(bev, false, 0, [](bev_rate_limit& rl) {
    rl.leave_group(true);
    return 0;
  });
}

ev_ssize_t bufferevent_get_read_limit(struct bufferevent* bev) {
  if (!bev)
    return fail<ev_ssize_t>(-1, EINVAL);
  return with_limits<ev_ssize_t>(bev, false, EV_SSIZE_MAX,
                                 [](bev_rate_limit& rl) { return rl.limit(false); });
}

ev_ssize_t bufferevent_get_write_limit(struct bufferevent* bev) {
  if (!bev)
    return fail<ev_ssize_t>(-1, EINVAL);
  return with_limits<ev_ssize_t>(bev, false, EV_SSIZE_MAX,
                                 [](bev_rate_limit& rl) { return rl.limit(true); });
}

const struct ev_token_bucket_cfg* bufferevent_get_token_bucket_cfg(const struct bufferevent* bev) {
  if (!bev)
    return fail<const ev_token_bucket_cfg*>(nullptr, EINVAL);
  return with_limits<const ev_token_bucket_cfg*>(bev, false, nullptr,
                                                 [](bev_rate_limit& rl) { return rl.cfg(); });
}

ev_ssize_t bufferevent_get_max_to_read(struct bufferevent* bev) {
  if (!bev)
    return fail<ev_ssize_t>(-1, EINVAL);
  const ev_ssize_t single = single_max_of(bev, false);
  return with_limits<ev_ssize_t>(bev, false, single,
                                 [&](bev_rate_limit& rl) { return rl.max_to(false, single); });
}

ev_ssize_t bufferevent_get_max_to_write(struct bufferevent* bev) {
  if (!bev)
    return fail<ev_ssize_t>(-1, EINVAL);
  const ev_ssize_t single = single_max_of(bev, true);
  return with_limits<ev_ssize_t>(bev, false, single,
                                 [&](bev_rate_limit& rl) { return rl.max_to(true, single); });
}

// Without a cfg libevent asserts: -1, EINVAL here.
int bufferevent_decrement_read_limit(struct bufferevent* bev, ev_ssize_t decr) {
  if (!bev)
    return fail(-1, EINVAL);
  const int r = with_limits(bev, false, -2,
                            [&](bev_rate_limit& rl) { return rl.decrement(false, decr); });
  return r == -2 ? fail(-1, EINVAL) : r;
}

int bufferevent_decrement_write_limit(struct bufferevent* bev, ev_ssize_t decr) {
  if (!bev)
    return fail(-1, EINVAL);
  const int r = with_limits(bev, false, -2,
                            [&](bev_rate_limit& rl) { return rl.decrement(true, decr); });
  return r == -2 ? fail(-1, EINVAL) : r;
}

} // extern "C"
