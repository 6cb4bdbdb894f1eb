/* vrrpd_native: thin N-API shim that moves bytes and sets socket options (socket, sendmsg/recvmsg, uv_poll); no protocol logic. */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/filter.h>
#include <sys/timerfd.h>
#include <time.h>
#include <stdint.h>
#include <math.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/un.h>

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

/* An Error shaped like Node's system errors: message "syscall CODE: text", errno (negative), code, syscall. */
static napi_value make_errno_error(napi_env env, const char *syscall, int err) {
  char name[64], text[128], msg[256];
  uv_err_name_r(-err, name, sizeof name);
  const char *s = strerror_r(err, text, sizeof text);
  snprintf(msg, sizeof msg, "%s %s: %s", syscall, name, s);
  napi_value m, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  napi_create_int32(env, -err, &v);
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "code", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  return e;
}

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  napi_throw(env, make_errno_error(env, syscall, err));
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < want) { napi_throw_type_error(env, NULL, "too few arguments"); return 0; }
  return 1;
}

static int get_int(napi_env env, napi_value v, int *out) {
  if (napi_get_value_int32(env, v, out) == napi_ok) return 1;
  napi_throw_type_error(env, NULL, "expected a number");
  return 0;
}

/* A Buffer / Uint8Array; null or undefined gives (NULL, 0) when nullable. */
static int get_bytes(napi_env env, napi_value v, int nullable, void **data, size_t *len) {
  napi_valuetype t;
  bool is_ta = false;
  *data = NULL;
  *len = 0;
  napi_typeof(env, v, &t);
  if (nullable && (t == napi_null || t == napi_undefined)) return 1;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type tt;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, v, &tt, len, data, &ab, &off) == napi_ok && tt == napi_uint8_array) return 1;
  }
  napi_throw_type_error(env, NULL, nullable ? "expected a Buffer or null" : "expected a Buffer");
  return 0;
}

static napi_value js_socket(napi_env env, napi_callback_info info) {
  napi_value argv[3], r;
  int domain, type, protocol;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &domain) || !get_int(env, argv[1], &type) ||
      !get_int(env, argv[2], &protocol)) return NULL;
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return throw_errno(env, "socket", errno);
  CHECK(napi_create_int32(env, fd, &r));
  return r;
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  void *addr;
  size_t len;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) || !get_bytes(env, argv[1], 0, &addr, &len)) return NULL;
  if (bind(fd, (const struct sockaddr *)addr, (socklen_t)len) < 0) return throw_errno(env, "bind", errno);
  return NULL;
}

static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd, level, name, ival;
  void *val = &ival;
  size_t len = sizeof ival;
  napi_valuetype t;
  if (!get_args(env, info, 4, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &level) ||
      !get_int(env, argv[2], &name)) return NULL;
  napi_typeof(env, argv[3], &t);
  if (t == napi_number) {
    if (!get_int(env, argv[3], &ival)) return NULL;
  } else if (!get_bytes(env, argv[3], 0, &val, &len)) {
    return NULL;
  }
  if (setsockopt(fd, level, name, val, (socklen_t)len) < 0) return throw_errno(env, "setsockopt", errno);
  return NULL;
}

static napi_value js_getsockopt_int(napi_env env, napi_callback_info info) {
  napi_value argv[3], r;
  int fd, level, name, val = 0;
  socklen_t len = sizeof val;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &level) ||
      !get_int(env, argv[2], &name)) return NULL;
  if (getsockopt(fd, level, name, &val, &len) < 0) return throw_errno(env, "getsockopt", errno);
  CHECK(napi_create_int32(env, val, &r));
  return r;
}

/* getsockopt(fd, level, name, maxLen) -> Buffer: the option's bytes as the kernel wrote them (e.g. SO_MEMINFO). */
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  napi_value argv[4], r;
  int fd, level, name, max;
  void *out;
  if (!get_args(env, info, 4, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &level) ||
      !get_int(env, argv[2], &name) || !get_int(env, argv[3], &max)) return NULL;
  if (max < 0 || max > 65536) return throw_errno(env, "getsockopt", EINVAL);
  unsigned char *buf = calloc(1, max > 0 ? (size_t)max : 1);
  if (buf == NULL) return throw_errno(env, "getsockopt", ENOMEM);
  socklen_t len = (socklen_t)max;
  if (getsockopt(fd, level, name, buf, &len) < 0) { int err = errno; free(buf); return throw_errno(env, "getsockopt", err); }
  if (napi_create_buffer_copy(env, len, buf, &out, &r) != napi_ok) { free(buf); return NULL; }
  free(buf);
  return r;
}

/* attachFilter(fd, program): SO_ATTACH_FILTER with a classic BPF program (8-byte sock_filter records built in JS). */
static napi_value js_attach_filter(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  void *prog;
  size_t len;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) || !get_bytes(env, argv[1], 0, &prog, &len)) return NULL;
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    return throw_errno(env, "setsockopt", EINVAL);
  }
  struct sock_fprog fprog = { .len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = prog };
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0) return throw_errno(env, "setsockopt", errno);
  return NULL;
}

static napi_value js_sendmsg(napi_env env, napi_callback_info info) {
  napi_value argv[5], r;
  int fd, flags;
  struct iovec iov;
  struct msghdr msg;
  void *addr, *ctl;
  size_t addrlen, ctllen;
  memset(&msg, 0, sizeof msg);
  if (!get_args(env, info, 5, argv) || !get_int(env, argv[0], &fd) ||
      !get_bytes(env, argv[1], 0, &iov.iov_base, &iov.iov_len) || !get_bytes(env, argv[2], 1, &addr, &addrlen) ||
      !get_bytes(env, argv[3], 1, &ctl, &ctllen) || !get_int(env, argv[4], &flags)) return NULL;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_name = addr;
  msg.msg_namelen = (socklen_t)addrlen;
  msg.msg_control = ctllen ? ctl : NULL;
  msg.msg_controllen = ctllen;
  ssize_t n;
  do n = sendmsg(fd, &msg, flags); while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "sendmsg", errno);
  CHECK(napi_create_int64(env, (int64_t)n, &r));
  return r;
}

static napi_value js_recvmsg(napi_env env, napi_callback_info info) {
  napi_value argv[4], r = NULL, v;
  int fd, max_data, max_ctl, flags;
  struct sockaddr_storage addr;
  struct iovec iov;
  struct msghdr msg;
  if (!get_args(env, info, 4, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &max_data) ||
      !get_int(env, argv[2], &max_ctl) || !get_int(env, argv[3], &flags)) return NULL;
  if (max_data < 0 || max_ctl < 0) return throw_errno(env, "recvmsg", EINVAL);
  char *data = malloc((size_t)max_data + 1), *ctl = malloc((size_t)max_ctl + 1);
  if (data == NULL || ctl == NULL) { free(data); free(ctl); return throw_errno(env, "recvmsg", ENOMEM); }
  memset(&msg, 0, sizeof msg);
  memset(&addr, 0, sizeof addr);
  iov.iov_base = data;
  iov.iov_len = (size_t)max_data;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_name = &addr;
  msg.msg_namelen = sizeof addr;
  msg.msg_control = max_ctl ? ctl : NULL;
  msg.msg_controllen = (size_t)max_ctl;
  ssize_t n;
  do n = recvmsg(fd, &msg, flags); while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    free(data);
    free(ctl);
    if (err == EAGAIN || err == EWOULDBLOCK) { napi_get_null(env, &r); return r; }
    return throw_errno(env, "recvmsg", err);
  }
  size_t got = (size_t)n < (size_t)max_data ? (size_t)n : (size_t)max_data;
  size_t namelen = msg.msg_namelen < sizeof addr ? msg.msg_namelen : sizeof addr;
  size_t ctllen = msg.msg_controllen < (size_t)max_ctl ? msg.msg_controllen : (size_t)max_ctl;
  if (napi_create_object(env, &r) != napi_ok ||
      napi_create_buffer_copy(env, got, data, NULL, &v) != napi_ok || napi_set_named_property(env, r, "data", v) != napi_ok ||
      napi_create_buffer_copy(env, namelen, &addr, NULL, &v) != napi_ok || napi_set_named_property(env, r, "addr", v) != napi_ok ||
      napi_create_buffer_copy(env, ctllen, ctl, NULL, &v) != napi_ok || napi_set_named_property(env, r, "control", v) != napi_ok ||
      napi_create_int32(env, msg.msg_flags, &v) != napi_ok || napi_set_named_property(env, r, "flags", v) != napi_ok) r = NULL;
  free(data);
  free(ctl);
  return r;
}

/* An Int32Array (meta of recvmmsg). */
static int get_i32s(napi_env env, napi_value v, int32_t **data, size_t *count) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type tt;
    napi_value ab;
    size_t off;
    void *p;
    if (napi_get_typedarray_info(env, v, &tt, count, &p, &ab, &off) == napi_ok && tt == napi_int32_array) {
      *data = p;
      return 1;
    }
  }
  napi_throw_type_error(env, NULL, "expected an Int32Array");
  return 0;
}

#define RECVMMSG_MAX 64

/*
 * recvmmsg(fd, data, slot, names, nameSlot, control, controlSlot, meta, max, flags): up to max datagrams, message i
 * into bytes [i*slot, i*slot+slot) of data (and of names, control by their slots), with meta[4i..4i+3] = [length,
 * name length, control length, msg_flags]. MSG_DONTWAIT always. Returns how many came; 0 when nothing waits.
 */
static napi_value js_recvmmsg(napi_env env, napi_callback_info info) {
  napi_value argv[10], r;
  int fd, slot, name_slot, ctl_slot, max, flags;
  void *data, *names, *ctl;
  size_t data_len, names_len, ctl_len, meta_count;
  int32_t *meta;
  if (!get_args(env, info, 10, argv) || !get_int(env, argv[0], &fd) || !get_bytes(env, argv[1], 0, &data, &data_len) ||
      !get_int(env, argv[2], &slot) || !get_bytes(env, argv[3], 0, &names, &names_len) || !get_int(env, argv[4], &name_slot) ||
      !get_bytes(env, argv[5], 0, &ctl, &ctl_len) || !get_int(env, argv[6], &ctl_slot) || !get_i32s(env, argv[7], &meta, &meta_count) ||
      !get_int(env, argv[8], &max) || !get_int(env, argv[9], &flags)) return NULL;
  if (max < 1 || max > RECVMMSG_MAX || slot < 1 || name_slot < 0 || ctl_slot < 0 ||
      data_len < (size_t)max * (size_t)slot || names_len < (size_t)max * (size_t)name_slot ||
      ctl_len < (size_t)max * (size_t)ctl_slot || meta_count < (size_t)max * 4) return throw_errno(env, "recvmmsg", EINVAL);
  struct mmsghdr msgs[RECVMMSG_MAX];
  struct iovec iovs[RECVMMSG_MAX];
  memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)max);
  for (int i = 0; i < max; i++) {
    iovs[i].iov_base = (char *)data + (size_t)i * (size_t)slot;
    iovs[i].iov_len = (size_t)slot;
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = name_slot ? (char *)names + (size_t)i * (size_t)name_slot : NULL;
    msgs[i].msg_hdr.msg_namelen = (socklen_t)name_slot;
    msgs[i].msg_hdr.msg_control = ctl_slot ? (char *)ctl + (size_t)i * (size_t)ctl_slot : NULL;
    msgs[i].msg_hdr.msg_controllen = (size_t)ctl_slot;
  }
  int n;
  do n = recvmmsg(fd, msgs, (unsigned int)max, flags | MSG_DONTWAIT, NULL); while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) n = 0;
    else return throw_errno(env, "recvmmsg", errno);
  }
  for (int i = 0; i < n; i++) {
    unsigned int len = msgs[i].msg_len < (unsigned int)slot ? msgs[i].msg_len : (unsigned int)slot;
    meta[4 * i] = (int32_t)len;
    meta[4 * i + 1] = (int32_t)(msgs[i].msg_hdr.msg_namelen < (socklen_t)name_slot ? msgs[i].msg_hdr.msg_namelen : (socklen_t)name_slot);
    meta[4 * i + 2] = (int32_t)(msgs[i].msg_hdr.msg_controllen < (size_t)ctl_slot ? msgs[i].msg_hdr.msg_controllen : (size_t)ctl_slot);
    meta[4 * i + 3] = msgs[i].msg_hdr.msg_flags;
  }
  if (napi_create_int32(env, n, &r) != napi_ok) return NULL;
  return r;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return NULL;
}

/* setns(2): move the calling thread (the main thread: libuv's threadpool keeps its namespaces) into the namespace fd refers to. */
static napi_value js_setns(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, nstype;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &nstype)) return NULL;
  if (setns(fd, nstype) < 0) return throw_errno(env, "setns", errno);
  return NULL;
}

static napi_value js_if_name_to_index(napi_env env, napi_callback_info info) {
  napi_value argv[1], r;
  char name[IF_NAMESIZE + 1];
  size_t len;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a string");
    return NULL;
  }
  if (len >= IF_NAMESIZE) return throw_errno(env, "if_nametoindex", ENODEV);
  errno = 0;
  unsigned idx = if_nametoindex(name);
  if (idx == 0) return throw_errno(env, "if_nametoindex", errno ? errno : ENODEV);
  CHECK(napi_create_uint32(env, idx, &r));
  return r;
}

/* poll: a uv_poll_t on the Node loop. The state lives until the uv handle is closed and the JS stop function is collected. */
typedef struct {
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  uv_poll_t *poll;
  int stopped;
  int refs;
} poll_state;

static void poll_unref(poll_state *s) {
  if (--s->refs == 0) free(s);
}

static void on_closed(uv_handle_t *h) {
  poll_state *s = h->data;
  free(h);
  poll_unref(s);
}

static void cleanup_hook(void *arg);

static void poll_stop(poll_state *s) {
  if (s->stopped) return;
  s->stopped = 1;
  uv_poll_stop(s->poll);
  uv_close((uv_handle_t *)s->poll, on_closed);
  napi_delete_reference(s->env, s->cb);
  napi_async_destroy(s->env, s->ctx);
  napi_remove_env_cleanup_hook(s->env, cleanup_hook, s);
}

static void cleanup_hook(void *arg) { poll_stop(arg); }

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  poll_state *s = h->data;
  if (s->stopped) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_value cb, recv, arg, result, exc;
  bool pending = false;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_get_reference_value(env, s->cb, &cb);
  napi_get_global(env, &recv);
  if (status < 0) arg = make_errno_error(env, "poll", -status);
  else napi_get_null(env, &arg);
  napi_make_callback(env, s->ctx, recv, cb, 1, &arg, &result);
  napi_is_exception_pending(env, &pending);
  if (pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  napi_close_handle_scope(env, scope);
}

static napi_value js_poll_stop(napi_env env, napi_callback_info info) {
  void *data;
  CHECK(napi_get_cb_info(env, info, NULL, NULL, NULL, &data));
  poll_stop(data);
  return NULL;
}

static void on_stop_collected(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  poll_unref(data);
}

static napi_value js_poll(napi_env env, napi_callback_info info) {
  napi_value argv[2], handle, stop, name;
  napi_valuetype t;
  uv_loop_t *loop;
  int fd, rc;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd)) return NULL;
  napi_typeof(env, argv[1], &t);
  if (t != napi_function) { napi_throw_type_error(env, NULL, "expected a callback"); return NULL; }
  CHECK(napi_get_uv_event_loop(env, &loop));
  poll_state *s = calloc(1, sizeof *s);
  uv_poll_t *p = calloc(1, sizeof *p);
  if (s == NULL || p == NULL) { free(s); free(p); return throw_errno(env, "poll", ENOMEM); }
  if ((rc = uv_poll_init(loop, p, fd)) < 0) { free(s); free(p); return throw_errno(env, "poll", -rc); }
  s->env = env;
  s->poll = p;
  s->refs = 1; /* the uv handle */
  p->data = s;
  if ((rc = uv_poll_start(p, UV_READABLE, on_readable)) < 0) {
    s->stopped = 1;
    uv_close((uv_handle_t *)p, on_closed);
    return throw_errno(env, "poll", -rc);
  }
  napi_create_reference(env, argv[1], 1, &s->cb);
  napi_create_string_utf8(env, "vrrpd:poll", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->ctx);
  napi_add_env_cleanup_hook(env, cleanup_hook, s);
  if (napi_create_object(env, &handle) != napi_ok || napi_create_function(env, "stop", NAPI_AUTO_LENGTH, js_poll_stop, s, &stop) != napi_ok ||
      napi_set_named_property(env, handle, "stop", stop) != napi_ok) {
    poll_stop(s);
    return NULL;
  }
  s->refs++; /* the JS stop function */
  if (napi_add_finalizer(env, stop, s, on_stop_collected, NULL, NULL) != napi_ok) s->refs--;
  return handle;
}

#define CONST(name) do { napi_value v; CHECK(napi_create_int32(env, (int32_t)(name), &v)); \
    CHECK(napi_set_named_property(env, c, #name, v)); } while (0)

/* timerfd on CLOCK_MONOTONIC (the clock of process.hrtime): the daemon's one precise timer, polled like a socket. */
static napi_value js_timerfd_create(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, "timerfd_create", errno);
  napi_value r;
  CHECK(napi_create_int32(env, fd, &r));
  return r;
}

/* timerfdSet(fd, absMs): arm for an absolute CLOCK_MONOTONIC time in ms (fractional); absMs <= 0 disarms. */
static napi_value js_timerfd_set(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  double ms;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd)) return NULL;
  if (napi_get_value_double(env, argv[1], &ms) != napi_ok) {
    napi_throw_type_error(env, NULL, "absMs must be a number");
    return NULL;
  }
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  if (ms > 0) {
    double sec = floor(ms / 1000.0);
    its.it_value.tv_sec = (time_t)sec;
    its.it_value.tv_nsec = (long)((ms - sec * 1000.0) * 1e6);
    if (its.it_value.tv_nsec >= 1000000000L) its.it_value.tv_nsec = 999999999L;
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  }
  if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) return throw_errno(env, "timerfd_settime", errno);
  return NULL;
}

/* timerfdRead(fd): expirations since the last read, or 0 when none (EAGAIN). */
static napi_value js_timerfd_read(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  uint64_t n = 0;
  ssize_t got = read(fd, &n, sizeof n);
  if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return throw_errno(env, "read", errno);
  napi_value r;
  CHECK(napi_create_double(env, got == (ssize_t)sizeof n ? (double)n : 0.0, &r));
  return r;
}

/* clockOffsetNs(): CLOCK_REALTIME - CLOCK_MONOTONIC in ns (BigInt), to place SO_TIMESTAMPNS arrivals on the monotonic clock. */
static napi_value js_clock_offset_ns(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec m1, r, m2;
  clock_gettime(CLOCK_MONOTONIC, &m1);
  clock_gettime(CLOCK_REALTIME, &r);
  clock_gettime(CLOCK_MONOTONIC, &m2);
  int64_t mono = ((int64_t)m1.tv_sec * 1000000000LL + m1.tv_nsec + (int64_t)m2.tv_sec * 1000000000LL + m2.tv_nsec) / 2;
  int64_t real = (int64_t)r.tv_sec * 1000000000LL + r.tv_nsec;
  napi_value v;
  CHECK(napi_create_bigint_int64(env, real - mono, &v));
  return v;
}

/* sched_setscheduler(2) on one thread id (0: the calling thread); priority is ignored (0) for SCHED_OTHER. */
static napi_value js_sched_setscheduler(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int tid, policy, prio;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &tid) || !get_int(env, argv[1], &policy) ||
      !get_int(env, argv[2], &prio)) return NULL;
  struct sched_param sp = { .sched_priority = prio };
  if (sched_setscheduler(tid, policy, &sp) < 0) return throw_errno(env, "sched_setscheduler", errno);
  return NULL;
}

/* [policy, priority] of one thread id. */
static napi_value js_sched_getscheduler(napi_env env, napi_callback_info info) {
  napi_value argv[1], r, v;
  int tid;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &tid)) return NULL;
  int policy = sched_getscheduler(tid);
  if (policy < 0) return throw_errno(env, "sched_getscheduler", errno);
  struct sched_param sp;
  if (sched_getparam(tid, &sp) < 0) return throw_errno(env, "sched_getparam", errno);
  CHECK(napi_create_array_with_length(env, 2, &r));
  CHECK(napi_create_int32(env, policy, &v));
  CHECK(napi_set_element(env, r, 0, v));
  CHECK(napi_create_int32(env, sp.sched_priority, &v));
  CHECK(napi_set_element(env, r, 1, v));
  return r;
}

/* sched_setaffinity(2) of one thread id to the CPUs listed (an array of CPU numbers). */
static napi_value js_sched_setaffinity(napi_env env, napi_callback_info info) {
  napi_value argv[2], e;
  int tid;
  uint32_t n;
  bool is_array = false;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &tid)) return NULL;
  napi_is_array(env, argv[1], &is_array);
  if (!is_array) { napi_throw_type_error(env, NULL, "expected an array of CPU numbers"); return NULL; }
  CHECK(napi_get_array_length(env, argv[1], &n));
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < n; i++) {
    int cpu;
    CHECK(napi_get_element(env, argv[1], i, &e));
    if (!get_int(env, e, &cpu)) return NULL;
    if (cpu < 0 || cpu >= CPU_SETSIZE) return throw_errno(env, "sched_setaffinity", EINVAL);
    CPU_SET(cpu, &set);
  }
  if (sched_setaffinity(tid, sizeof set, &set) < 0) return throw_errno(env, "sched_setaffinity", errno);
  return NULL;
}

/* mlockall(2) with MCL_* flags. */
static napi_value js_mlockall(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int flags;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &flags)) return NULL;
  if (mlockall(flags) < 0) return throw_errno(env, "mlockall", errno);
  return NULL;
}

/* mlock2(start, length, flags): start and length as BigInt (addresses from /proc/self/maps), flags MLOCK_*. */
static napi_value js_mlock2(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint64_t start, length;
  bool lossless;
  int flags;
  if (!get_args(env, info, 3, argv)) return NULL;
  if (napi_get_value_bigint_uint64(env, argv[0], &start, &lossless) != napi_ok || !lossless ||
      napi_get_value_bigint_uint64(env, argv[1], &length, &lossless) != napi_ok || !lossless) {
    napi_throw_type_error(env, NULL, "mlock2: start and length must be BigInts");
    return NULL;
  }
  if (!get_int(env, argv[2], &flags)) return NULL;
  if (mlock2((const void *)(uintptr_t)start, (size_t)length, (unsigned int)flags) < 0) return throw_errno(env, "mlock2", errno);
  return NULL;
}

static napi_value make_constants(napi_env env) {
  napi_value c;
  CHECK(napi_create_object(env, &c));
  CONST(AF_INET); CONST(AF_INET6); CONST(AF_PACKET); CONST(AF_NETLINK); CONST(SOCK_RAW); CONST(SOCK_DGRAM);
  CONST(IPPROTO_IP); CONST(IPPROTO_IPV6); CONST(IPPROTO_ICMPV6);
  CONST(SOL_SOCKET); CONST(SO_BINDTODEVICE); CONST(SO_RCVBUF); CONST(SO_SNDBUF); CONST(SO_PRIORITY);
  CONST(SO_TIMESTAMPNS); CONST(SCM_TIMESTAMPNS); CONST(SO_RCVBUFFORCE); CONST(SO_MEMINFO);
  CONST(IP_HDRINCL); CONST(IP_TTL); CONST(IP_TOS); CONST(IP_MULTICAST_TTL); CONST(IP_MULTICAST_LOOP);
  CONST(IP_MULTICAST_IF); CONST(IP_MULTICAST_ALL); CONST(IP_ADD_MEMBERSHIP); CONST(IP_DROP_MEMBERSHIP);
  CONST(IP_PKTINFO); CONST(IP_RECVTTL);
  CONST(IPV6_MULTICAST_HOPS); CONST(IPV6_UNICAST_HOPS); CONST(IPV6_MULTICAST_LOOP); CONST(IPV6_MULTICAST_IF);
  CONST(IPV6_JOIN_GROUP); CONST(IPV6_LEAVE_GROUP); CONST(IPV6_ADD_MEMBERSHIP); CONST(IPV6_DROP_MEMBERSHIP);
  CONST(IPV6_RECVHOPLIMIT); CONST(IPV6_HOPLIMIT); CONST(IPV6_RECVPKTINFO); CONST(IPV6_PKTINFO);
  CONST(IPV6_CHECKSUM); CONST(IPV6_V6ONLY);
  CONST(NETLINK_ROUTE); CONST(NETLINK_GENERIC); CONST(SOL_NETLINK); CONST(NETLINK_ADD_MEMBERSHIP);
  CONST(NETLINK_EXT_ACK); CONST(NETLINK_CAP_ACK);
  CONST(MSG_DONTWAIT); CONST(MSG_TRUNC); CONST(MSG_CTRUNC); CONST(MSG_DONTROUTE);
  CONST(ETH_P_ARP); CONST(ETH_P_IP); CONST(ETH_P_IPV6); CONST(ETH_P_ALL);
  CONST(CLONE_NEWNET);
  CONST(AF_UNIX);
  CONST(SCHED_OTHER); CONST(SCHED_FIFO); CONST(SCHED_RR); CONST(SCHED_RESET_ON_FORK);
  CONST(MCL_CURRENT); CONST(MCL_FUTURE); CONST(MLOCK_ONFAULT);
  napi_value v;
  CHECK(napi_create_int32(env, (int32_t)sizeof(size_t), &v));
  CHECK(napi_set_named_property(env, c, "sizeof_size_t", v));
  return c;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "socket", NULL, js_socket, NULL, NULL, NULL, napi_enumerable, NULL },
    { "bind", NULL, js_bind, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setsockopt", NULL, js_setsockopt, NULL, NULL, NULL, napi_enumerable, NULL },
    { "getsockoptInt", NULL, js_getsockopt_int, NULL, NULL, NULL, napi_enumerable, NULL },
    { "getsockopt", NULL, js_getsockopt, NULL, NULL, NULL, napi_enumerable, NULL },
    { "attachFilter", NULL, js_attach_filter, NULL, NULL, NULL, napi_enumerable, NULL },
    { "sendmsg", NULL, js_sendmsg, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recvmsg", NULL, js_recvmsg, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recvmmsg", NULL, js_recvmmsg, NULL, NULL, NULL, napi_enumerable, NULL },
    { "poll", NULL, js_poll, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setns", NULL, js_setns, NULL, NULL, NULL, napi_enumerable, NULL },
    { "ifNameToIndex", NULL, js_if_name_to_index, NULL, NULL, NULL, napi_enumerable, NULL },
    { "timerfdCreate", NULL, js_timerfd_create, NULL, NULL, NULL, napi_enumerable, NULL },
    { "timerfdSet", NULL, js_timerfd_set, NULL, NULL, NULL, napi_enumerable, NULL },
    { "timerfdRead", NULL, js_timerfd_read, NULL, NULL, NULL, napi_enumerable, NULL },
    { "clockOffsetNs", NULL, js_clock_offset_ns, NULL, NULL, NULL, napi_enumerable, NULL },
    { "schedSetscheduler", NULL, js_sched_setscheduler, NULL, NULL, NULL, napi_enumerable, NULL },
    { "schedGetscheduler", NULL, js_sched_getscheduler, NULL, NULL, NULL, napi_enumerable, NULL },
    { "schedSetaffinity", NULL, js_sched_setaffinity, NULL, NULL, NULL, napi_enumerable, NULL },
    { "mlockall", NULL, js_mlockall, NULL, NULL, NULL, napi_enumerable, NULL },
    { "mlock2", NULL, js_mlock2, NULL, NULL, NULL, napi_enumerable, NULL },
    { "constants", NULL, NULL, NULL, NULL, make_constants(env), napi_enumerable, NULL },
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
