// evbuffer callbacks: libevent's list of them (evbuffer_add_cb, the 1.x
// evbuffer_setcb), told what changed after each change, or later from a
// base's loop (evbuffer_defer_callbacks).
#include "detail/base.hpp"
#include "detail/c_boundary.hpp"
#include "detail/evbuffer.hpp"

#include <event2/buffer.h>
#include <event2/buffer_compat.h>

#include <boost/asio/post.hpp>

#include <memory>
#include <utility>

using namespace evasio::detail;

// The posted run. Destroyed unrun (its base went with its io_context), it
// still lets the buffer go; it does nothing for a buffer already destroyed.
struct deferred_run {
  std::shared_ptr<evbuffer::deferred> st;
  event_base* base;
  std::weak_ptr<event_base*> token;
  deferred_run(std::shared_ptr<evbuffer::deferred> s, event_base* eb)
      : st(std::move(s)), base(eb), token(st->token) {}
  deferred_run(deferred_run&&) noexcept = default;
  deferred_run(const deferred_run&) = delete;
  deferred_run& operator=(const deferred_run&) = delete;
  ~deferred_run() {
    if (st && st->owner)
      st->owner->deferred_dropped();
  }
  void operator()() {
    const std::shared_ptr<evbuffer::deferred> s = std::move(st);
    if (token.expired()) {
      if (s->owner)
        s->owner->deferred_dropped();  // a borrowed io_context outlived the base
      return;
    }
    base->add_active(-1);
    base->note_callback();
    if (s->owner)
      s->owner->run_deferred();
  }
};

void evbuffer::invoke_callbacks() noexcept {
  if (!deferred_) {
    run_callbacks();
    return;
  }
  // Deferred: the changes add up until the posted run (one at a time).
  if (deferred_->posted)
    return;
  event_base* base = deferred_->base;
  if (deferred_->token.expired()) {
    run_callbacks();  // the base is gone: nothing would ever run them
    return;
  }
  deferred_->posted = true;
  base->add_active(1);
  try {
    boost::asio::post(base->context(), deferred_run(deferred_, base));
  } catch (...) {
    // deferred_run's destructor already cleared `posted`.
    base->add_active(-1);
    run_callbacks();
  }
}

void evbuffer::run_callbacks() noexcept {
  if (n_add_ == 0 && n_del_ == 0)
    return;
  evbuffer_cb_info info;
  info.orig_size = total_ + n_del_ - n_add_;
  info.n_added = n_add_;
  info.n_deleted = n_del_;
  const size_t now = total_;
  n_add_ = n_del_ = 0;
  // Newest first. A callback may remove entries: they are only marked while
  // callbacks run, so `next` stays valid; ones it adds go in front, unrun.
  ++running_;
  for (evbuffer_cb_entry *e = cbs_, *next; e; e = next) {
    next = e->next;
    if (e->dead || !(e->flags & EVBUFFER_CB_ENABLED))
      continue;
    if (e->obsolete)
      e->obsolete(this, info.orig_size, now, e->arg);
    else
      e->fn(this, &info, e->arg);
  }
  if (--running_ == 0 && dead_cbs_)
    sweep_dead_cbs();
}

void evbuffer::sweep_dead_cbs() noexcept {
  dead_cbs_ = false;
  for (evbuffer_cb_entry** p = &cbs_; *p;) {
    evbuffer_cb_entry* e = *p;
    if (e->dead) {
      *p = e->next;
      delete e;
    } else {
      p = &e->next;
    }
  }
  if (!cbs_)
    n_add_ = n_del_ = 0;
}

void evbuffer::free_cbs() noexcept {
  while (cbs_) {
    evbuffer_cb_entry* e = cbs_;
    cbs_ = e->next;
    delete e;
  }
}

evbuffer_cb_entry* evbuffer::add_cb(evbuffer_cb_func fn, void* arg) {
  if (!cbs_)
    n_add_ = n_del_ = 0;  // nothing was counted for no one
  cbs_ = new evbuffer_cb_entry{cbs_, fn, nullptr, arg, EVBUFFER_CB_ENABLED, false};
  return cbs_;
}

bool evbuffer::remove_cb(evbuffer_cb_entry* ent) noexcept {
  if (!owns_cb(ent))
    return false;
  ent->dead = true;
  dead_cbs_ = true;
  if (running_ == 0)
    sweep_dead_cbs();
  return true;
}

void evbuffer::setcb(obsolete_cb cb, void* arg) {
  // Allocated first: on failure the old callbacks stay.
  auto* fresh = cb ? new evbuffer_cb_entry{nullptr, nullptr, cb, arg, EVBUFFER_CB_ENABLED, false} : nullptr;
  for (evbuffer_cb_entry* e = cbs_; e; e = e->next)
    e->dead = true;
  dead_cbs_ = cbs_ != nullptr;
  if (running_ == 0 && dead_cbs_)
    sweep_dead_cbs();
  if (fresh) {
    if (!cbs_)
      n_add_ = n_del_ = 0;
    fresh->next = cbs_;
    cbs_ = fresh;
  }
}

evbuffer_cb_entry* evbuffer::find_cb(evbuffer_cb_func fn, void* arg) const noexcept {
  for (evbuffer_cb_entry* e = cbs_; e; e = e->next)
    if (!e->dead && !e->obsolete && e->fn == fn && e->arg == arg)
      return e;
  return nullptr;
}

bool evbuffer::owns_cb(const evbuffer_cb_entry* ent) const noexcept {
  for (evbuffer_cb_entry* e = cbs_; e; e = e->next)
    if (e == ent)
      return !e->dead;
  return false;
}

void evbuffer::defer_callbacks(struct event_base* base) {
  if (!deferred_)
    deferred_ = std::make_shared<deferred>();
  deferred_->owner = this;
  deferred_->base = base;
  deferred_->token = base->token();
}

bool evbuffer::release_by_program() noexcept {
  if (deferred_ && deferred_->posted) {
    deferred_->orphaned = true;
    return false;
  }
  return true;
}

void evbuffer::run_deferred() noexcept {
  bool gone;
  {
    buffer_guard g(this);
    deferred_->posted = false;
    run_callbacks();
    gone = deferred_->orphaned && !deferred_->posted;
  }
  if (gone)
    delete this;
}

void evbuffer::deferred_dropped() noexcept {
  bool gone;
  {
    buffer_guard g(this);
    deferred_->posted = false;
    gone = deferred_->orphaned;
  }
  if (gone)
    delete this;
}

// ---- C boundary -----------------------------------------------------------

extern "C" {

struct evbuffer_cb_entry* evbuffer_add_cb(struct evbuffer* buffer, evbuffer_cb_func cb, void* cbarg) {
  buffer_guard g(buffer);
  if (!buffer || !cb)
    return fail<evbuffer_cb_entry*>(nullptr, EINVAL);
  return guarded<evbuffer_cb_entry*>(nullptr, [&] { return buffer->add_cb(cb, cbarg); });
}

int evbuffer_remove_cb_entry(struct evbuffer* buffer, struct evbuffer_cb_entry* ent) {
  buffer_guard g(buffer);
  if (!buffer || !ent)
    return fail(-1, EINVAL);
  return buffer->remove_cb(ent) ? 0 : -1;
}

int evbuffer_remove_cb(struct evbuffer* buffer, evbuffer_cb_func cb, void* cbarg) {
  buffer_guard g(buffer);
  if (!buffer)
    return fail(-1, EINVAL);
  evbuffer_cb_entry* e = buffer->find_cb(cb, cbarg);
  return e && buffer->remove_cb(e) ? 0 : -1;
}

int evbuffer_cb_set_flags(struct evbuffer* buffer, struct evbuffer_cb_entry* cb, ev_uint32_t flags) {
  buffer_guard g(buffer);
  if (!buffer || !buffer->owns_cb(cb))
    return fail(-1, EINVAL);
  cb->flags |= flags & EVBUFFER_CB_ENABLED;
  return 0;
}

int evbuffer_cb_clear_flags(struct evbuffer* buffer, struct evbuffer_cb_entry* cb, ev_uint32_t flags) {
  buffer_guard g(buffer);
  if (!buffer || !buffer->owns_cb(cb))
    return fail(-1, EINVAL);
  cb->flags &= ~(flags & EVBUFFER_CB_ENABLED);
  return 0;
}

int evbuffer_defer_callbacks(struct evbuffer* buffer, struct event_base* base) {
  buffer_guard g(buffer);
  if (!buffer || !base)
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    buffer->defer_callbacks(base);
    return 0;
  });
}

// libevent 2 keeps a list of callbacks; the 1.x call replaces them all by
// one, which is told the old and new length.
int evbuffer_setcb(struct evbuffer* buffer, evbuffer_cb cb, void* cbarg) {
  buffer_guard g(buffer);
  if (!buffer)
    return fail(-1, EINVAL);
  return guarded(-1, [&] {
    buffer->setcb(cb, cbarg);
    return 0;
  });
}

} // extern "C"
