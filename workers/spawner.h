/*
 * The spawner: a small helper process that starts trial commands for an MPI rank.
 *
 * An MPI process must never fork (Open MPI warns, and a fork can corrupt the state
 * of its network stack), yet an external-command objective has to run the user's
 * training program. So each rank forks one spawner before MPI_Init and later asks it,
 * over two AF_UNIX SOCK_SEQPACKET socketpairs, to start commands: a control socket
 * carries requests and their replies (a pid plus the stdout pipe as SCM_RIGHTS, or
 * an exec error), a notice socket carries one exit notice per child. Keeping notices
 * on their own socket means a caller polling hps_spawner_fd() never misses a notice
 * that arrived while it waited for a reply.
 *
 * Every child leads its own process group, never runs through a shell, has stdin on
 * /dev/null, stdout on a pipe to the caller and stderr appended to a file. When a
 * child exits, whatever is left of its process group is SIGKILLed before the child is
 * reaped, so nothing a trial started outlives it. When the rank goes away (returns,
 * crashes, kill -9) the spawner sees its sockets close, SIGKILLs every running
 * child's group, reaps them and exits; children also carry PR_SET_PDEATHSIG SIGKILL
 * in case the spawner itself is killed.
 *
 * The spawner ignores SIGINT, SIGTERM, SIGUSR1 and the like sent to the job: it stops
 * only when its sockets close (or, as a second line, on the SIGTERM that
 * PR_SET_PDEATHSIG delivers when its parent dies).
 *
 * Linux only (SOCK_SEQPACKET, signalfd, prctl). Not thread-safe: one thread of the
 * rank owns the spawner.
 */
#ifndef HPS_WORKERS_SPAWNER_H
#define HPS_WORKERS_SPAWNER_H

#include <stddef.h>
#include <sys/types.h>

typedef struct hps_spawner hps_spawner;

/*
 * Fork the spawner and wait until it is ready. Call before MPI_Init and before any
 * thread exists: the fork copies this process as it is. The spawner puts itself in
 * its own process group (so a kill -9 of the job's process group does not kill it
 * before it can clean up), points fds 0-2 at /dev/null, closes every other fd but
 * its two sockets and serves until the sockets close. Its working directory, and so
 * the default working directory of every child, is the caller's at this call.
 * The caller must not ignore SIGCHLD (hps_spawner_stop() waits for the spawner).
 *
 * On success *out owns the spawner (free it with hps_spawner_stop()) and HPS_OK is
 * returned. On failure *out is NULL, err holds a message and the code is HPS_EIO
 * (socketpair, fork or the spawner's own setup failed) or HPS_ENOMEM.
 */
int hps_spawner_start(hps_spawner **out, char *err, size_t errlen);

typedef struct hps_spawn_req {
    const char *const *argv;     /* argv[0] looked up in PATH (execvp semantics), NULL-terminated; never a shell */
    const char *const *envp;     /* the complete environment for the child, NULL-terminated */
    const char *cwd;             /* working directory (NULL: the spawner's) */
    const char *stderr_path;     /* stderr is appended to this file (created 0644); NULL: /dev/null */
} hps_spawn_req;

typedef struct hps_child {
    pid_t pid;                   /* also the process group id: the child leads its own group */
    int stdout_fd;               /* read end of a pipe carrying the child's stdout (O_CLOEXEC, non-blocking); caller closes */
} hps_child;

/*
 * Start a command and wait until it has exec'd (or failed to).
 *
 * argv[0] is looked up in the PATH of req->envp (as env(1) does), or taken as a path
 * when it contains a '/'; a relative path, like a relative stderr_path, resolves
 * against req->cwd. envp NULL means an empty environment. All strings are copied;
 * req may be freed on return.
 *
 * Returns HPS_OK with *child filled: the child is running (or has already exited: its
 * exit notice then comes through hps_spawner_reap()), and the caller owns
 * child->stdout_fd. Returns HPS_EEXEC with err = "exec: <strerror>" when the
 * program cannot be run: not found, not executable, cwd missing or stderr_path not
 * writable (the latter two add the path in parentheses). The spawner learns this
 * through a CLOEXEC status pipe and reaps the failed child itself, so the caller never
 * gets a pid, an fd or an exit notice for a failed exec. Also HPS_EEXEC, with
 * err = "spawn: <what>: <strerror>", when the spawner could not create the child
 * (fork or pipe failed: out of processes or fds). HPS_EINVAL for an empty argv,
 * HPS_EIO (err set) when the spawner itself is gone.
 */
int hps_spawner_spawn(hps_spawner *sp, const hps_spawn_req *req, hps_child *child, char *err,
                      size_t errlen);

/*
 * The fd to poll (POLLIN) for exit notices; POLLIN or POLLHUP also when the spawner
 * died. Owned by the spawner: do not read or close it.
 */
int hps_spawner_fd(const hps_spawner *sp);

/*
 * Read one exit notice if available without blocking: HPS_OK with *pid and *wstatus
 * (as from waitpid), HPS_EAGAIN when none is pending, HPS_EIO if the spawner died.
 * Every successfully spawned child yields exactly one notice; by then its process
 * group has been killed and it has been reaped, so its pid may be reused at once.
 */
int hps_spawner_reap(hps_spawner *sp, pid_t *pid, int *wstatus);

/*
 * Signal a child's whole process group (kill(-pgid, sig) from the caller; no spawner
 * round trip). Valid until the child's exit notice has been read: after that the pid
 * may belong to someone else. HPS_OK, HPS_ENOENT when the group is gone already,
 * HPS_EINVAL for a bad child or signal number.
 */
int hps_child_signal(const hps_child *child, int sig);

/*
 * Close the sockets: the spawner SIGKILLs the process groups of children still
 * running, reaps them and exits; then wait for it and free sp. Exit notices not read
 * yet are lost. NULL-safe.
 */
void hps_spawner_stop(hps_spawner *sp);

#endif
