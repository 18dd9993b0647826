/*
 * The spawner (spawner.h): the rank-side API and the spawner process's main loop.
 *
 * Wire format. Every message on either socket starts with a spawn_msg header
 * {type, a, b}. A spawn request is a string table (u32 argc, u32 envc, u8 flags, then
 * each string as u32 length + bytes: argv, envp, cwd if flag 1, stderr_path if flag
 * 2) cut into chunks of at most SPAWN_CHUNK bytes, each sent as one REQ_PART message
 * with a = its length and the last as REQ_END, so an environment of any size fits
 * whatever the socket buffer. The control socket answers each request with one
 * SPAWNED {a = pid} carrying the stdout pipe's read end via SCM_RIGHTS, or one FAILED
 * {a = step, b = errno}. The notice socket carries EXIT {a = pid, b = wstatus}.
 *
 * The spawner never blocks on a send: replies and notices wait in an outgoing queue
 * that is flushed with MSG_DONTWAIT whenever poll says the socket is writable. So a
 * rank that does not reap for a while, or that is busy sending a large request,
 * cannot deadlock with it. It does block in exactly one place: reading a new child's
 * status pipe, which lasts until that child calls exec (or fails to).
 *
 * Signals in the spawner go through a signalfd (SIGCHLD and SIGTERM blocked), so the
 * main loop is a plain blocking poll over three fds and idles at no cost.
 *
 * The spawner is a child subreaper: a process a command moved out of its group
 * (setsid, a double fork) becomes the spawner's child when its parent exits, and is
 * killed when the last running command ends (strays.c) and at shutdown.
 */
#define _GNU_SOURCE

#include "core/grow.h"
#include "spawner.h"
#include "strays.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hpsweep/error.h"

extern char **environ;

enum {
    MSG_READY = 1,   /* spawner -> rank, ctl: set up; a = spawner pid */
    MSG_START_FAIL,  /* spawner -> rank, ctl: setup failed; a = step, b = errno */
    MSG_REQ_PART,    /* rank -> spawner, ctl: a chunk of a request; a = payload bytes */
    MSG_REQ_END,     /* rank -> spawner, ctl: the last chunk */
    MSG_SPAWNED,     /* spawner -> rank, ctl: a = pid, stdout read end attached */
    MSG_FAILED,      /* spawner -> rank, ctl: a = step, b = errno */
    MSG_EXIT,        /* spawner -> rank, ntf: a = pid, b = wstatus */
};

/* Where a spawn (or the spawner's setup) failed: selects the caller's message. */
enum {
    STEP_EXEC = 1, STEP_CHDIR, STEP_STDERR, STEP_CHILD_SETUP, /* in the child */
    STEP_PIPE, STEP_FORK, STEP_STATUS, STEP_PROTOCOL,         /* in the spawner */
};

typedef struct spawn_msg {
    uint32_t type;
    int32_t a;
    int32_t b;
} spawn_msg;

#define SPAWN_CHUNK 32768u
#define SPAWN_REQ_MAX (64u << 20) /* a request larger than this is refused */

struct hps_spawner {
    int ctl;   /* requests and replies */
    int ntf;   /* exit notices */
    pid_t pid; /* the spawner process */
    int dead;  /* the control socket failed: later spawns fail at once */
};

/* ---- shared helpers ------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen,
                                                          const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Send one message, fd attached when fd >= 0. Returns 0, or -errno (EAGAIN included
 * when flags has MSG_DONTWAIT). */
static int send_msg(int sock, const spawn_msg *m, const void *payload, size_t len, int fd,
                    int flags)
{
    struct iovec iov[2] = {{(void *)m, sizeof *m}, {(void *)payload, len}};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctrl;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    if (fd >= 0) {
        memset(&ctrl, 0, sizeof ctrl);
        mh.msg_control = ctrl.buf;
        mh.msg_controllen = sizeof ctrl.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    for (;;) {
        if (sendmsg(sock, &mh, flags | MSG_NOSIGNAL) >= 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

/* Receive one header-only message; an attached fd lands in *fd (else -1), with
 * close-on-exec set. Returns 1 for a message, 0 for EOF, -errno otherwise (-EPROTO for
 * a malformed one, whose fds are closed). */
static int recv_msg(int sock, spawn_msg *m, int *fd, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } ctrl;
    struct iovec iov = {m, sizeof *m};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
                        .msg_controllen = sizeof ctrl.buf};
    ssize_t n;
    *fd = -1;
    do
        n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == ECONNRESET ? 0 : -errno;
    int nfd = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int f;
            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
            if (nfd++ == 0)
                *fd = f;
            else
                close(f);
        }
    }
    if (n == 0 && nfd == 0)
        return 0;
    if (n != (ssize_t)sizeof *m || nfd > 1 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return -EPROTO;
    }
    return 1;
}

static int write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- the spawner process --------------------------------------------------------- */

typedef struct out_msg {
    int sock;
    spawn_msg m;
    int fd; /* closed once sent; -1 for none */
} out_msg;

typedef struct spawner_state {
    int ctl, ntf, sfd;
    pid_t self, parent;
    pid_t *live; /* children spawned and not reaped yet */
    size_t nlive, caplive;
    out_msg *out; /* queued replies and notices, oldest first */
    size_t nout, capout;
    char *req; /* the request being assembled */
    size_t reqlen, reqcap;
    int reqbad; /* a chunk of it was malformed: answer FAILED at its end */
} spawner_state;

/* SIGKILL every live child's group and every stray, reap every child, exit. */
static void spawner_shutdown(spawner_state *s)
{
    for (size_t i = 0; i < s->nlive; i++) {
        kill(-s->live[i], SIGKILL);
        kill(s->live[i], SIGKILL);
    }
    for (;;) {
        (void)hps_strays_kill(NULL, 0); /* each death may hand us its children */
        if (waitpid(-1, NULL, 0) < 0 && errno != EINTR)
            break;
    }
    _exit(0);
}

/* hps_grow on an array held through a void pointer: 0, or -1 (unchanged) when out
 * of memory. */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    void *q = hps_grow(*p, cap, need, elem, 16);
    if (!q)
        return -1;
    *p = q;
    return 0;
}

static void queue_msg(spawner_state *s, int sock, uint32_t type, int32_t a, int32_t b, int fd)
{
    if (grow((void **)&s->out, &s->capout, s->nout + 1, sizeof *s->out) < 0)
        spawner_shutdown(s); /* out of memory: the rank sees EOF, its spawns fail */
    s->out[s->nout++] = (out_msg){sock, {type, a, b}, fd};
}

/* Send queued messages in order, each socket until it is full. A socket that is full
 * holds back only its own messages: a reply must not wait behind notices the rank is
 * not reading while it waits for that reply. A peer that is gone ends the spawner. */
static void flush_out(spawner_state *s)
{
    int full_ctl = 0, full_ntf = 0;
    size_t kept = 0;
    for (size_t i = 0; i < s->nout; i++) {
        out_msg *o = &s->out[i];
        int *full = o->sock == s->ctl ? &full_ctl : &full_ntf;
        if (!*full) {
            int rc = send_msg(o->sock, &o->m, NULL, 0, o->fd, MSG_DONTWAIT);
            if (rc == 0) {
                if (o->fd >= 0)
                    close(o->fd);
                continue;
            }
            if (rc != -EAGAIN)
                spawner_shutdown(s);
            *full = 1;
        }
        s->out[kept++] = *o;
    }
    s->nout = kept;
}

static int queued_on(const spawner_state *s, int sock)
{
    for (size_t i = 0; i < s->nout; i++)
        if (s->out[i].sock == sock)
            return 1;
    return 0;
}

/* Reap every exited child. Its process group is SIGKILLed while the child is still a
 * zombie (waitid WNOWAIT), so the pgid cannot have been reused yet. */
static void reap_children(spawner_state *s)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
            if (errno == EINTR)
                continue;
            return; /* ECHILD: none left */
        }
        pid_t pid = si.si_pid;
        if (pid == 0)
            return;
        kill(-pid, SIGKILL);
        /* The last trial is done: what it left outside its group (setsid) is ours
         * now (we are a subreaper), and nothing else of ours runs: kill it, so it
         * neither outlives the trial nor holds its stdout open. */
        if (s->nlive == 1 && s->live[0] == pid)
            (void)hps_strays_kill(s->live, s->nlive);
        int st;
        pid_t r;
        do
            r = waitpid(pid, &st, 0);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return;
        int was_live = 0;
        for (size_t i = 0; i < s->nlive && !was_live; i++) {
            if (s->live[i] == pid) {
                s->live[i] = s->live[--s->nlive];
                queue_msg(s, s->ntf, MSG_EXIT, pid, st, -1);
                was_live = 1;
            }
        }
        /* A stray died and left its own children to us: those go too. */
        if (!was_live && s->nlive == 0)
            (void)hps_strays_kill(NULL, 0);
    }
}

typedef struct spawn_args {
    char **argv, **envp;
    char *cwd, *stderr_path;
} spawn_args;

static int get_u32(const char **p, const char *end, uint32_t *v)
{
    if ((size_t)(end - *p) < sizeof *v)
        return -1;
    memcpy(v, *p, sizeof *v);
    *p += sizeof *v;
    return 0;
}

/* Point the strings of a into the request buffer, NUL-terminated in place: each
 * string slides left over its own 4-byte length prefix, which leaves room for its
 * NUL. a->argv (and a->envp, which shares its allocation) is freed by the caller. */
static int decode_req(char *buf, size_t len, spawn_args *a)
{
    const char *p = buf, *end = buf + len;
    uint32_t argc, envc;
    memset(a, 0, sizeof *a);
    if (get_u32(&p, end, &argc) < 0 || get_u32(&p, end, &envc) < 0 || p == end)
        return -1;
    unsigned flags = (unsigned char)*p++;
    if (argc == 0 || argc > len || envc > len)
        return -1;
    /* argv[0..argc-1], NULL, envp[0..envc-1], NULL */
    char **arr = calloc((size_t)argc + envc + 2, sizeof *arr);
    if (!arr)
        return -1;
    a->argv = arr;
    a->envp = arr + argc + 1;
    size_t nstr = (size_t)argc + envc + !!(flags & 1) + !!(flags & 2);
    for (size_t i = 0; i < nstr; i++) {
        uint32_t n;
        char *str = (char *)p;
        if (get_u32(&p, end, &n) < 0 || (size_t)(end - p) < n || memchr(p, 0, n))
            return -1;
        memmove(str, p, n);
        str[n] = '\0';
        p += n;
        if (i < argc)
            a->argv[i] = str;
        else if (i < (size_t)argc + envc)
            a->envp[i - argc] = str;
        else if ((flags & 1) && !a->cwd)
            a->cwd = str;
        else
            a->stderr_path = str;
    }
    return p == end ? 0 : -1;
}

/* Runs in the fresh child: set it up and exec, or report {step, errno} and exit. */
static void child_exec(const spawn_args *a, int out_w, int st_w, pid_t spawner)
{
    int32_t rep[2] = {STEP_CHILD_SETUP, 0};
    if (setpgid(0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        goto fail;
    if (getppid() != spawner)
        _exit(127); /* the spawner died already: nobody to report to */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* EINVAL for SIGKILL, SIGSTOP, libc's own: fine */
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
        goto fail;
    /* fd 0 and 2 are the spawner's /dev/null already; pipe fds are >= 3. */
    if (dup2(out_w, STDOUT_FILENO) < 0)
        goto fail;
    if (a->cwd && chdir(a->cwd) < 0) {
        rep[0] = STEP_CHDIR;
        goto fail;
    }
    if (a->stderr_path) {
        rep[0] = STEP_STDERR;
        int fd = open(a->stderr_path, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0644);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
            goto fail;
        close(fd);
    }
    rep[0] = STEP_EXEC;
    environ = a->envp; /* execvp searches the child's PATH and passes environ on */
    execvp(a->argv[0], a->argv);
fail:
    rep[1] = errno;
    write_full(st_w, rep, sizeof rep);
    _exit(127);
}

static void spawn_one(spawner_state *s, const spawn_args *a)
{
    int out[2], st[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        queue_msg(s, s->ctl, MSG_FAILED, STEP_PIPE, errno, -1);
        return;
    }
    if (pipe2(st, O_CLOEXEC) < 0) {
        queue_msg(s, s->ctl, MSG_FAILED, STEP_PIPE, errno, -1);
        close(out[0]);
        close(out[1]);
        return;
    }
    /* O_NONBLOCK is per open file: set on the read end only, the child writes blocking. */
    int fl = fcntl(out[0], F_GETFL);
    if (fl < 0 || fcntl(out[0], F_SETFL, fl | O_NONBLOCK) < 0) {
        queue_msg(s, s->ctl, MSG_FAILED, STEP_PIPE, errno, -1);
        goto out;
    }
    if (grow((void **)&s->live, &s->caplive, s->nlive + 1, sizeof *s->live) < 0) {
        queue_msg(s, s->ctl, MSG_FAILED, STEP_FORK, ENOMEM, -1);
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        queue_msg(s, s->ctl, MSG_FAILED, STEP_FORK, errno, -1);
        goto out;
    }
    if (pid == 0)
        child_exec(a, out[1], st[1], s->self);
    /* Both sides set the group, so it is in place whichever runs first. The child may
     * have exec'd already (EACCES) or died (ESRCH): both are fine. */
    setpgid(pid, pid);
    close(out[1]);
    close(st[1]);
    out[1] = st[1] = -1;
    int32_t rep[2];
    size_t got = 0;
    while (got < sizeof rep) {
        ssize_t n = read(st[0], (char *)rep + got, sizeof rep - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rep[0] = STEP_STATUS;
            rep[1] = errno;
            got = sizeof rep;
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got == 0) { /* EOF: the status pipe closed on exec */
        s->live[s->nlive++] = pid;
        queue_msg(s, s->ctl, MSG_SPAWNED, pid, 0, out[0]);
        out[0] = -1; /* the queue owns it now */
        goto out;
    }
    if (got != sizeof rep) {
        rep[0] = STEP_STATUS;
        rep[1] = EIO;
    }
    /* Failed before exec: the child exits by itself (kill it in case the status read
     * failed); reap it here so no exit notice is sent. */
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    queue_msg(s, s->ctl, MSG_FAILED, rep[0], rep[1], -1);
out:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (st[i] >= 0)
            close(st[i]);
    }
}

/* One message from the control socket. */
static void handle_ctl(spawner_state *s)
{
    union {
        spawn_msg m;
        char buf[sizeof(spawn_msg) + SPAWN_CHUNK];
    } in;
    struct iovec iov = {in.buf, sizeof in.buf};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;
    do
        n = recvmsg(s->ctl, &mh, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0)
        spawner_shutdown(s); /* EOF: the rank closed its end or died */
    int end = n >= (ssize_t)sizeof in.m && in.m.type == MSG_REQ_END;
    if ((size_t)n < sizeof in.m || (mh.msg_flags & MSG_TRUNC) ||
        (in.m.type != MSG_REQ_PART && in.m.type != MSG_REQ_END) || in.m.a < 0 ||
        (size_t)n != sizeof in.m + (size_t)in.m.a || s->reqlen + (size_t)in.m.a > SPAWN_REQ_MAX ||
        grow((void **)&s->req, &s->reqcap, s->reqlen + (size_t)in.m.a + 1, 1) < 0) {
        s->reqbad = 1;
    } else {
        memcpy(s->req + s->reqlen, in.buf + sizeof in.m, (size_t)in.m.a);
        s->reqlen += (size_t)in.m.a;
    }
    if (!end)
        return;
    spawn_args a = {0};
    if (s->reqbad || decode_req(s->req, s->reqlen, &a) < 0)
        queue_msg(s, s->ctl, MSG_FAILED, STEP_PROTOCOL, EPROTO, -1);
    else
        spawn_one(s, &a);
    free(a.argv);
    s->reqlen = 0;
    s->reqbad = 0;
}

/* SIGCHLD: reap. SIGTERM: clean up if it is the parent-death signal (we have been
 * reparented), ignore it otherwise. */
static void handle_signals(spawner_state *s)
{
    struct signalfd_siginfo si[8];
    ssize_t n = read(s->sfd, si, sizeof si);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0)
        spawner_shutdown(s);
    for (size_t i = 0; i < (size_t)n / sizeof si[0]; i++) {
        if (si[i].ssi_signo == SIGTERM && getppid() != s->parent)
            spawner_shutdown(s);
    }
    reap_children(s);
}

/* Move fd above 2 if needed (close-on-exec either way). -1 on error. */
static int lift_fd(int fd)
{
    if (fd > 2)
        return fd;
    return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* Close every fd >= 3 except a and b (3 <= a < b): close_range where the kernel has
 * it, else whatever /proc/self/fd lists. */
static int close_others(int a, int b)
{
#ifdef SYS_close_range
    if ((a == 3 || syscall(SYS_close_range, 3u, (unsigned)a - 1, 0u) == 0) &&
        (b == a + 1 || syscall(SYS_close_range, (unsigned)a + 1, (unsigned)b - 1, 0u) == 0) &&
        syscall(SYS_close_range, (unsigned)b + 1, ~0u, 0u) == 0)
        return 0;
    if (errno != ENOSYS)
        return -1;
#endif
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd < 3 || fd == a || fd == b || fd == self)
            continue;
        close((int)fd);
    }
    closedir(d);
    return 0;
}

/* Set up the process and serve until the rank goes away. Never returns. */
static void spawner_main(int ctl, int ntf, pid_t parent)
{
    spawner_state s = {.parent = parent, .self = getpid(), .sfd = -1};
    int32_t step = 0;
    if ((s.ctl = lift_fd(ctl)) < 0 || (s.ntf = lift_fd(ntf)) < 0)
        _exit(1);
    step = 1;
    int dn = open("/dev/null", O_RDWR); /* not CLOEXEC: it may land on 0-2 itself */
    if (dn < 0 || dup2(dn, 0) < 0 || dup2(dn, 1) < 0 || dup2(dn, 2) < 0)
        goto fail;
    step = 2;
    if (close_others(s.ctl < s.ntf ? s.ctl : s.ntf, s.ctl < s.ntf ? s.ntf : s.ctl) < 0)
        goto fail;
    step = 3;
    if (setpgid(0, 0) < 0)
        goto fail;
    step = 4;
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    const int ignored[] = {SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE,
                           SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGXCPU, SIGXFSZ};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        if (sigaction(ignored[i], &ign, NULL) < 0)
            goto fail;
    /* SIGCHLD and SIGTERM must not be ignored (the rank may have done so): an ignored
     * signal never reaches the signalfd, and an ignored SIGCHLD auto-reaps children. */
    struct sigaction dfl = ign;
    dfl.sa_handler = SIG_DFL;
    if (sigaction(SIGCHLD, &dfl, NULL) < 0 || sigaction(SIGTERM, &dfl, NULL) < 0)
        goto fail;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    if (sigprocmask(SIG_SETMASK, &mask, NULL) < 0)
        goto fail;
    step = 5;
    if ((s.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
        goto fail;
    step = 6;
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        goto fail;
    if (getppid() != parent)
        _exit(0);
    spawn_msg ready = {MSG_READY, (int32_t)s.self, 0};
    if (send_msg(s.ctl, &ready, NULL, 0, -1, 0) < 0)
        _exit(0);

    for (;;) {
        struct pollfd p[3] = {
            {s.ctl, (short)(POLLIN | (queued_on(&s, s.ctl) ? POLLOUT : 0)), 0},
            {s.ntf, (short)(queued_on(&s, s.ntf) ? POLLOUT : 0), 0},
            {s.sfd, POLLIN, 0},
        };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            spawner_shutdown(&s);
        }
        if (p[2].revents & POLLIN)
            handle_signals(&s);
        if (p[0].revents & POLLIN)
            handle_ctl(&s);
        else if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL))
            spawner_shutdown(&s);
        if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL))
            spawner_shutdown(&s);
        flush_out(&s);
    }

fail:;
    spawn_msg m = {MSG_START_FAIL, step, errno};
    send_msg(s.ctl, &m, NULL, 0, -1, 0);
    _exit(1);
}

/* ---- the rank side ------------------------------------------------------------------- */

static const char *const start_steps[] = {"lift fds", "/dev/null", "close fds", "setpgid",
                                          "signals", "signalfd", "prctl"};

int hps_spawner_start(hps_spawner **out, char *err, size_t errlen)
{
    *out = NULL;
    hps_spawner *sp = calloc(1, sizeof *sp);
    if (!sp) {
        set_err(err, errlen, "spawner: %s", "out of memory");
        return HPS_ENOMEM;
    }
    int ctl[2], ntf[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
        set_err(err, errlen, "spawner: socketpair: %s", strerror(errno));
        free(sp);
        return HPS_EIO;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ntf) < 0) {
        set_err(err, errlen, "spawner: socketpair: %s", strerror(errno));
        close(ctl[0]);
        close(ctl[1]);
        free(sp);
        return HPS_EIO;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        set_err(err, errlen, "spawner: fork: %s", strerror(errno));
        close(ctl[0]);
        close(ctl[1]);
        close(ntf[0]);
        close(ntf[1]);
        free(sp);
        return HPS_EIO;
    }
    if (pid == 0)
        spawner_main(ctl[1], ntf[1], parent);
    close(ctl[1]);
    close(ntf[1]);
    *sp = (hps_spawner){.ctl = ctl[0], .ntf = ntf[0], .pid = pid};
    spawn_msg m;
    int fd;
    int rc = recv_msg(sp->ctl, &m, &fd, 0);
    if (fd >= 0)
        close(fd);
    if (rc == 1 && m.type == MSG_READY && m.a == pid) {
        *out = sp;
        return HPS_OK;
    }
    if (rc == 1 && m.type == MSG_START_FAIL && m.a >= 0 &&
        (size_t)m.a < sizeof start_steps / sizeof start_steps[0])
        set_err(err, errlen, "spawner: %s: %s", start_steps[m.a], strerror(m.b));
    else
        set_err(err, errlen, "spawner: %s", "exited during setup");
    hps_spawner_stop(sp);
    return HPS_EIO;
}

static int put_str(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (n > UINT32_MAX || grow((void **)buf, cap, *len + 4 + n, 1) < 0)
        return -1;
    uint32_t n32 = (uint32_t)n;
    memcpy(*buf + *len, &n32, 4);
    memcpy(*buf + *len + 4, s, n);
    *len += 4 + n;
    return 0;
}

/* The request as one buffer (see the file comment). NULL when out of memory. */
static char *encode_req(const hps_spawn_req *req, size_t *len)
{
    static const char *const empty[] = {NULL};
    const char *const *envp = req->envp ? req->envp : empty;
    uint32_t argc = 0, envc = 0;
    while (req->argv[argc])
        argc++;
    while (envp[envc])
        envc++;
    char *buf = NULL;
    size_t cap = 0;
    *len = 9;
    if (grow((void **)&buf, &cap, 9, 1) < 0)
        return NULL;
    memcpy(buf, &argc, 4);
    memcpy(buf + 4, &envc, 4);
    buf[8] = (char)((req->cwd ? 1 : 0) | (req->stderr_path ? 2 : 0));
    int bad = 0;
    for (uint32_t i = 0; i < argc && !bad; i++)
        bad = put_str(&buf, len, &cap, req->argv[i]);
    for (uint32_t i = 0; i < envc && !bad; i++)
        bad = put_str(&buf, len, &cap, envp[i]);
    if (!bad && req->cwd)
        bad = put_str(&buf, len, &cap, req->cwd);
    if (!bad && req->stderr_path)
        bad = put_str(&buf, len, &cap, req->stderr_path);
    if (bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int spawner_gone(hps_spawner *sp, char *err, size_t errlen)
{
    sp->dead = 1;
    set_err(err, errlen, "spawner: %s", "the spawner process is gone");
    return HPS_EIO;
}

int hps_spawner_spawn(hps_spawner *sp, const hps_spawn_req *req, hps_child *child, char *err,
                      size_t errlen)
{
    child->pid = -1;
    child->stdout_fd = -1;
    if (!sp || !req || !req->argv || !req->argv[0] || !req->argv[0][0]) {
        set_err(err, errlen, "spawn: %s", "empty argv");
        return HPS_EINVAL;
    }
    if (sp->dead)
        return spawner_gone(sp, err, errlen);
    size_t len;
    char *buf = encode_req(req, &len);
    if (!buf) {
        set_err(err, errlen, "spawn: %s", "out of memory");
        return HPS_ENOMEM;
    }
    if (len > SPAWN_REQ_MAX) {
        free(buf);
        set_err(err, errlen, "spawn: %s", "arguments and environment too large");
        return HPS_EINVAL;
    }
    for (size_t off = 0; off < len;) {
        size_t n = len - off < SPAWN_CHUNK ? len - off : SPAWN_CHUNK;
        spawn_msg m = {off + n == len ? MSG_REQ_END : MSG_REQ_PART, (int32_t)n, 0};
        if (send_msg(sp->ctl, &m, buf + off, n, -1, 0) < 0) {
            free(buf);
            return spawner_gone(sp, err, errlen);
        }
        off += n;
    }
    free(buf);

    spawn_msg m;
    int fd;
    int rc = recv_msg(sp->ctl, &m, &fd, 0);
    if (rc <= 0)
        return spawner_gone(sp, err, errlen);
    if (m.type == MSG_SPAWNED && fd >= 0 && m.a > 0) {
        child->pid = m.a;
        child->stdout_fd = fd;
        return HPS_OK;
    }
    if (fd >= 0)
        close(fd);
    if (m.type != MSG_FAILED)
        return spawner_gone(sp, err, errlen);
    const char *why = strerror(m.b);
    switch (m.a) {
    case STEP_EXEC:
        set_err(err, errlen, "exec: %s", why);
        return HPS_EEXEC;
    case STEP_CHDIR:
        set_err(err, errlen, "exec: %s (chdir '%s')", why, req->cwd ? req->cwd : "");
        return HPS_EEXEC;
    case STEP_STDERR:
        set_err(err, errlen, "exec: %s (open '%s')", why,
                req->stderr_path ? req->stderr_path : "");
        return HPS_EEXEC;
    case STEP_CHILD_SETUP:
        set_err(err, errlen, "exec: %s (child setup)", why);
        return HPS_EEXEC;
    case STEP_PIPE:
        set_err(err, errlen, "spawn: pipe: %s", why);
        return HPS_EEXEC;
    case STEP_FORK:
        set_err(err, errlen, "spawn: fork: %s", why);
        return HPS_EEXEC;
    case STEP_STATUS:
        set_err(err, errlen, "spawn: status pipe: %s", why);
        return HPS_EEXEC;
    default:
        set_err(err, errlen, "spawner: %s", "protocol error");
        return HPS_EIO;
    }
}

int hps_spawner_fd(const hps_spawner *sp)
{
    return sp ? sp->ntf : -1;
}

int hps_spawner_reap(hps_spawner *sp, pid_t *pid, int *wstatus)
{
    if (!sp)
        return HPS_EINVAL;
    spawn_msg m; /* notices already sent still come out after the spawner died */
    int fd;
    int rc = recv_msg(sp->ntf, &m, &fd, MSG_DONTWAIT);
    if (rc == -EAGAIN)
        return HPS_EAGAIN;
    if (fd >= 0)
        close(fd);
    if (rc <= 0 || m.type != MSG_EXIT)
        return HPS_EIO;
    *pid = m.a;
    *wstatus = m.b;
    return HPS_OK;
}

int hps_child_signal(const hps_child *child, int sig)
{
    if (!child || child->pid <= 1 || sig < 0 || sig >= NSIG)
        return HPS_EINVAL;
    if (kill(-child->pid, sig) == 0)
        return HPS_OK;
    return errno == ESRCH ? HPS_ENOENT : HPS_EINVAL;
}

void hps_spawner_stop(hps_spawner *sp)
{
    if (!sp)
        return;
    close(sp->ctl);
    close(sp->ntf);
    while (waitpid(sp->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    free(sp);
}
