"""The sandbox's seccomp filter: Docker's default profile, an allow list, as a classic-BPF program.

The profile is moby's profiles/seccomp/default.json (read at moby commit 00f3d189, February 2024), applied
as Docker and runc apply it to a container with Docker's default capabilities (sandbox_init.DOCKER_CAPS):
Docker keeps the rules whose conditions the container meets, runc compiles them. For each architecture
(x86-64, arm64) a call is:

- allowed if its name is in the profile's unconditional rule (DOCKER_NAMES, verbatim), less
  io_uring_setup/enter/register (Docker 25 removed them from the default profile: io_uring is a steady
  source of kernel exploits) and less name_to_handle_at (see REFUSED); or in a conditional rule a default
  container meets: ptrace, process_vm_readv and process_vm_writev (minKernel 4.8), chroot (CAP_SYS_CHROOT
  is a default capability), arch_prctl and modify_ldt (x86-64 only). The arm rule's names
  (arm_fadvise64_64, sync_file_range2, breakpoint, cacheflush, set_tls, ...) are 32-bit ARM calls that
  arm64 lacks. Names an architecture does not have (chown32, mmap2, ...: 32-bit ones) change nothing.
- decided by its arguments, as the profile's argument rules: clone only without a CLONE_NEW* flag (no
  nested namespaces: in a user namespace of its own a process is root, with CAP_NET_ADMIN and the kernel
  code only root used to reach); socket with any domain but AF_VSOCK (moby#44562: vsock is not namespaced
  and reaches the host's and hypervisor's vsock services); personality with Docker's values only (0,
  PER_LINUX32, UNAME26, both, and the 0xffffffff query); clone3 ENOSYS, so libc falls back to clone, whose
  flags a filter can read (clone3's are behind a pointer).
- refused with EPERM (the profile's defaultErrnoRet) otherwise, up to the highest number the allowed
  calls use (futex_waitv, 449, on both): unshare, setns, mount and the new mount API, keyctl, bpf,
  perf_event_open, userfaultfd, kexec, modules, kcmp, the NUMA policy calls (Docker allows them with
  CAP_SYS_NICE only), and every call the profile does not name.
- ENOSYS above that number, as runc answers calls newer than the profile (libcontainer/seccomp/patchbpf),
  so that libc's fallbacks for an older kernel run (fchmodat2, cachestat, ...). moby's later profile
  (kernel 6.13, 2025) allows a few of these (fchmodat2, listmount, statmount, mseal, ...); here they stay
  ENOSYS, which every caller must already handle.
On x86-64 every x32-ABI call (bit 30 of the number) is EPERM: the number checks above are x86-64's. A call
of another architecture (i386 through int 0x80 on x86-64, arm32 on arm64) kills the process.
The kernel runs x86-64's uretprobe and uprobe (335, 336) before any filter sees them (measured on 6.18:
SIGILL and ENXIO outside a probe's trampoline), so no filter refuses them, Docker's included.

The numbers per architecture are SYSCALLS at the end of this file, from the kernel's UAPI headers
(asm/unistd_64.h; asm-generic/unistd.h with arm64's __ARCH_WANT_* choices) and checked against
libseccomp 2.5.4's tables. The program is a binary search over runs of numbers with one verdict: about
ten comparisons a call. Checked once against the profile as libseccomp 2.5.4 compiles it, behind runc's
ENOSYS stub: the same verdict for every number up to 520 and the arguments tested, name_to_handle_at
aside. sandbox.py compiles it once; sandbox_init.py installs it with prctl(PR_SET_SECCOMP) in the agent's
shell and in every verifier process after no_new_privs, so it holds across execve and for every child (it
cannot be removed, only added to).

The agent's processes (every one but the verifier's) get one variant, program(agent=True): prlimit64,
setpriority, ioprio_set and sched_setaffinity/param/scheduler/attr act on the caller alone (AGENT_RULES).
These ask the kernel for a uid match only, and pid 1 and the verifier's processes have the agent's uid
(rt12a). The other calls that name a process are either scoped by the agent's Landlock domain (signals,
ptrace and what asks its permission: process_vm_*, /proc/PID/mem, pidfd_getfd, PR_SCHED_CORE), refused
here already (kcmp, migrate_pages, move_pages, process_madvise, pidfd_getfd), or act on the caller's own
children only (setpgid, waitid). The verifier's filter stays Docker's: the verifier may renice or stop a
service the agent started.
"""
import errno
import os
import struct

ARCHES = ("x86_64", "aarch64")                       # the columns of SYSCALLS
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# moby's default.json at 00f3d189, the rule with no condition, verbatim (so it can be diffed against it).
DOCKER_NAMES = """
    accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime
    clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
    clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create
    epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2
    execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark
    fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork
    fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex
    futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32
    getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority
    getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid
    getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch
    inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
    io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter io_uring_register
    io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32
    lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64
    madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall
    mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
    mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
    name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal
    pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2
    prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink
    readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename
    renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
    rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity
    sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler
    sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
    sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send
    sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
    setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
    setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area
    set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd
    signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink
    symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun
    timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
    timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask
    uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write
    writev
""".split()
# The rules whose conditions a default container meets: minKernel 4.8, CAP_SYS_CHROOT, the x86 arches.
DOCKER_CONDITIONAL = {"ptrace", "process_vm_readv", "process_vm_writev", "chroot", "arch_prctl", "modify_ldt"}
# Left out of DOCKER_NAMES here: io_uring (out of Docker's default profile since Docker 25), and
# name_to_handle_at, refused as before: the handle it returns (inode and generation) is half of Docker's
# "shocker" escape, whose other half, open_by_handle_at, Docker shuts with CAP_DAC_READ_SEARCH alone; here
# both halves stay shut, and nothing a task runs needs it (file servers and checkpoint tools use it).
REFUSED = {"io_uring_setup", "io_uring_enter", "io_uring_register", "name_to_handle_at"}
ALLOWED = (set(DOCKER_NAMES) | DOCKER_CONDITIONAL) - REFUSED
AF_VSOCK = 40
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET: Docker's mask for clone's flags.
CLONE_NS_FLAGS = 0x7E020000
PERSONALITY_OK = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
X32_BIT = 0x40000000

# Classic BPF opcodes and seccomp's return values (linux/filter.h, linux/seccomp.h).
LD_W_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
RET_ALLOW, RET_KILL_PROCESS = 0x7FFF0000, 0x80000000
RET_ERRNO = lambda e: 0x00050000 | e                                        # noqa: E731
NR, ARCH, ARG0 = 0, 4, 16              # offsets in struct seccomp_data (arg0's low 32 bits: little endian)
ALLOW = ((RET, 0, 0, RET_ALLOW),)                 # the verdicts, each a program of one instruction
EPERM = ((RET, 0, 0, RET_ERRNO(errno.EPERM)),)
ENOSYS = ((RET, 0, 0, RET_ERRNO(errno.ENOSYS)),)
# The argument rules, each a small program: the kernel reads socket's and personality's argument as an int
# (its low 32 bits are the whole value), and every CLONE_NEW* flag is in the low 32 bits of clone's.
CLONE = ((LD_W_ABS, 0, 0, ARG0), (JSET, 0, 1, CLONE_NS_FLAGS)) + EPERM + ALLOW
SOCKET = ((LD_W_ABS, 0, 0, ARG0), (JEQ, 0, 1, AF_VSOCK)) + EPERM + ALLOW
PERSONALITY = ((LD_W_ABS, 0, 0, ARG0),) + tuple((JEQ, len(PERSONALITY_OK) - i, 0, v)
                                                for i, v in enumerate(PERSONALITY_OK)) + EPERM + ALLOW
ARGUMENT_RULES = {"clone": CLONE, "socket": SOCKET, "personality": PERSONALITY, "clone3": ENOSYS}

# The agent's processes only (agent=True): the calls that act on another process by its pid under the
# kernel's uid-match rule, not a capability, each allowed on the caller alone (pid or who 0). Same uid as
# the verifier's processes and pid 1, the agent's shell would otherwise set their rlimits (RLIMIT_NPROC=1:
# a check's os.system() returns -1, a negative check passes; RLIMIT_CPU kills a reference run), their nice
# value, I/O priority, CPUs and scheduling policy; Landlock scopes only signals, ptrace and abstract
# sockets (rt12a p01, p04, p13, p20). A filter sees no pid but the argument, so the caller's own pid, a
# child's or a thread's tid is refused too (renice -p, taskset -p, prlimit --pid, chrt -p, psutil's
# Process().nice(), pthread_setaffinity_np): EPERM. The verifier's filter keeps Docker's rules.
ARG = lambda n: ARG0 + 8 * n                  # noqa: E731 - arg n's low 32 bits; +4: its high 32 bits
# prlimit64(pid, resource, new, old): pid 0, or no new limit (reading another's limits, as /proc/PID/limits)
PRLIMIT = ((LD_W_ABS, 0, 0, ARG(0)), (JEQ, 4, 0, 0), (LD_W_ABS, 0, 0, ARG(2)), (JEQ, 0, 3, 0),
           (LD_W_ABS, 0, 0, ARG(2) + 4), (JEQ, 0, 1, 0)) + ALLOW + EPERM
SELF = ((LD_W_ABS, 0, 0, ARG(0)), (JEQ, 0, 1, 0)) + ALLOW + EPERM         # sched_set*(pid 0, ...)


def process_zero(which: int) -> tuple:
    """(which, who 0, ...): the caller alone. Not a process group's or a user's: the agent's shell shares pid
    1's process group with the verifier's processes, and its uid with all of them."""
    return ((LD_W_ABS, 0, 0, ARG(0)), (JEQ, 0, 3, which), (LD_W_ABS, 0, 0, ARG(1)), (JEQ, 0, 1, 0)) \
        + ALLOW + EPERM


AGENT_RULES = {"prlimit64": PRLIMIT, "setpriority": process_zero(0),          # PRIO_PROCESS
               "ioprio_set": process_zero(1),                                 # IOPRIO_WHO_PROCESS
               "sched_setaffinity": SELF, "sched_setparam": SELF, "sched_setscheduler": SELF,
               "sched_setattr": SELF}


# A build step's processes only (build=True): fallocate takes gigabytes of the cache's disk in one call,
# writing nothing, so the layer's disk walk (images._DiskWatch, every 0.5 s) saw it only after the host's
# disk was gone (rt13b p15); RLIMIT_FSIZE bounds one file, not `fallocate -n` past its end nor many files.
# Refused as a filesystem without it refuses it, EOPNOTSUPP: glibc's posix_fallocate then writes the
# zeros, at a write rate the walk bounds, and dpkg and the like already go on without it.
BUILD_RULES = {"fallocate": ((RET, 0, 0, RET_ERRNO(errno.EOPNOTSUPP)),)}


def verdicts(machine: str, agent: bool = False, build: bool = False) -> list[tuple[int, tuple]]:
    """Runs of consecutive numbers with one verdict, [(first number, verdict's program)], in order."""
    col = ARCHES.index(machine)
    nr = {name: nrs[col] for name, nrs in SYSCALLS.items() if nrs[col] is not None}
    leaf = {nr[name]: ALLOW for name in ALLOWED if name in nr}
    leaf |= {nr[name]: rule for name, rule in (ARGUMENT_RULES | (AGENT_RULES if agent else {})
                                               | (BUILD_RULES if build else {})).items()}
    last = max(leaf)                                 # the highest number the rules name: futex_waitv, 449
    runs = []
    for n in range(last + 1):
        if not runs or runs[-1][1] != leaf.get(n, EPERM):
            runs.append((n, leaf.get(n, EPERM)))
    return runs + [(last + 1, ENOSYS)]


def search(runs: list[tuple[int, tuple]]) -> list[tuple[int, int, int, int]]:
    """A binary search over the runs, the number in A: each JGE splits them in two; the verdicts are inline,
    so every jump is forward and shorter than the program."""
    if len(runs) == 1:
        return list(runs[0][1])
    m = len(runs) // 2
    low, high = search(runs[:m]), search(runs[m:])
    return [(JGE, len(low), 0, runs[m][0])] + low + high


def program(machine: str, agent: bool = False, build: bool = False) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions; jumps are relative to the next instruction. agent: the
    agent's processes' (AGENT_RULES), else the verifier's; build: a build step's (BUILD_RULES) too."""
    p = [(LD_W_ABS, 0, 0, ARCH), (JEQ, 1, 0, AUDIT_ARCH[machine]), (RET, 0, 0, RET_KILL_PROCESS),
         (LD_W_ABS, 0, 0, NR)]
    if machine == "x86_64":
        p += [(JGE, 0, 1, X32_BIT), *EPERM]
    p += search(verdicts(machine, agent, build))
    if max(max(jt, jf) for _, jt, jf, _ in p) > 255:   # classic BPF's jumps are 8 bits
        raise ValueError(f"seccomp: a jump in the {machine} program is longer than 255 instructions")
    return p


def compiled(machine: str | None = None, agent: bool = False, build: bool = False) -> bytes:
    """The program as an array of struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}."""
    machine = machine or os.uname().machine
    if machine not in AUDIT_ARCH:
        raise OSError(f"no seccomp filter for architecture {machine!r} (only {', '.join(AUDIT_ARCH)}); "
                      "the sandbox refuses to start without one")
    return b"".join(struct.pack("HBBI", *ins) for ins in program(machine, agent, build))


# name -> (x86-64, arm64) number, None where the architecture lacks the call: every name of the profile's
# rules that either has, the refused calls the tests name, and the calls from 451 to 469 (newer than the
# headers read). Numbers from 424 on are the same on every architecture.
SYSCALLS = {
    "_sysctl": (156, None), "accept": (43, 202), "accept4": (288, 242), "access": (21, None),
    "acct": (163, 89), "add_key": (248, 217), "adjtimex": (159, 171), "alarm": (37, None),
    "arch_prctl": (158, None), "bind": (49, 200), "bpf": (321, 280), "brk": (12, 214),
    "cachestat": (451, 451), "capget": (125, 90), "capset": (126, 91), "chdir": (80, 49), "chmod": (90, None),
    "chown": (92, None), "chroot": (161, 51), "clock_adjtime": (305, 266), "clock_getres": (229, 114),
    "clock_gettime": (228, 113), "clock_nanosleep": (230, 115), "clock_settime": (227, 112),
    "clone": (56, 220), "clone3": (435, 435), "close": (3, 57), "close_range": (436, 436),
    "connect": (42, 203), "copy_file_range": (326, 285), "creat": (85, None), "create_module": (174, None),
    "delete_module": (176, 106), "dup": (32, 23), "dup2": (33, None), "dup3": (292, 24),
    "epoll_create": (213, None), "epoll_create1": (291, 20), "epoll_ctl": (233, 21),
    "epoll_ctl_old": (214, None), "epoll_pwait": (281, 22), "epoll_pwait2": (441, 441),
    "epoll_wait": (232, None), "epoll_wait_old": (215, None), "eventfd": (284, None), "eventfd2": (290, 19),
    "execve": (59, 221), "execveat": (322, 281), "exit": (60, 93), "exit_group": (231, 94),
    "faccessat": (269, 48), "faccessat2": (439, 439), "fadvise64": (221, 223), "fallocate": (285, 47),
    "fanotify_init": (300, 262), "fanotify_mark": (301, 263), "fchdir": (81, 50), "fchmod": (91, 52),
    "fchmodat": (268, 53), "fchmodat2": (452, 452), "fchown": (93, 55), "fchownat": (260, 54),
    "fcntl": (72, 25), "fdatasync": (75, 83), "fgetxattr": (193, 10), "file_getattr": (468, 468),
    "file_setattr": (469, 469), "finit_module": (313, 273), "flistxattr": (196, 13), "flock": (73, 32),
    "fork": (57, None), "fremovexattr": (199, 16), "fsconfig": (431, 431), "fsetxattr": (190, 7),
    "fsmount": (432, 432), "fsopen": (430, 430), "fspick": (433, 433), "fstat": (5, 80), "fstatfs": (138, 44),
    "fsync": (74, 82), "ftruncate": (77, 46), "futex": (202, 98), "futex_requeue": (456, 456),
    "futex_wait": (455, 455), "futex_waitv": (449, 449), "futex_wake": (454, 454), "futimesat": (261, None),
    "get_kernel_syms": (177, None), "get_mempolicy": (239, 236), "get_robust_list": (274, 100),
    "get_thread_area": (211, None), "getcpu": (309, 168), "getcwd": (79, 17), "getdents": (78, None),
    "getdents64": (217, 61), "getegid": (108, 177), "geteuid": (107, 175), "getgid": (104, 176),
    "getgroups": (115, 158), "getitimer": (36, 102), "getpeername": (52, 205), "getpgid": (121, 155),
    "getpgrp": (111, None), "getpid": (39, 172), "getppid": (110, 173), "getpriority": (140, 141),
    "getrandom": (318, 278), "getresgid": (120, 150), "getresuid": (118, 148), "getrlimit": (97, 163),
    "getrusage": (98, 165), "getsid": (124, 156), "getsockname": (51, 204), "getsockopt": (55, 209),
    "gettid": (186, 178), "gettimeofday": (96, 169), "getuid": (102, 174), "getxattr": (191, 8),
    "getxattrat": (464, 464), "init_module": (175, 105), "inotify_add_watch": (254, 27),
    "inotify_init": (253, None), "inotify_init1": (294, 26), "inotify_rm_watch": (255, 28),
    "io_cancel": (210, 3), "io_destroy": (207, 1), "io_getevents": (208, 4), "io_pgetevents": (333, 292),
    "io_setup": (206, 0), "io_submit": (209, 2), "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427), "io_uring_setup": (425, 425), "ioctl": (16, 29), "ioperm": (173, None),
    "iopl": (172, None), "ioprio_get": (252, 31), "ioprio_set": (251, 30), "kcmp": (312, 272),
    "kexec_file_load": (320, 294), "kexec_load": (246, 104), "keyctl": (250, 219), "kill": (62, 129),
    "landlock_add_rule": (445, 445), "landlock_create_ruleset": (444, 444),
    "landlock_restrict_self": (446, 446), "lchown": (94, None), "lgetxattr": (192, 9), "link": (86, None),
    "linkat": (265, 37), "listen": (50, 201), "listmount": (458, 458), "listxattr": (194, 11),
    "listxattrat": (465, 465), "llistxattr": (195, 12), "lookup_dcookie": (212, 18),
    "lremovexattr": (198, 15), "lseek": (8, 62), "lsetxattr": (189, 6), "lsm_get_self_attr": (459, 459),
    "lsm_list_modules": (461, 461), "lsm_set_self_attr": (460, 460), "lstat": (6, None), "madvise": (28, 233),
    "map_shadow_stack": (453, 453), "mbind": (237, 235), "membarrier": (324, 283), "memfd_create": (319, 279),
    "memfd_secret": (447, 447), "migrate_pages": (256, 238), "mincore": (27, 232), "mkdir": (83, None),
    "mkdirat": (258, 34), "mknod": (133, None), "mknodat": (259, 33), "mlock": (149, 228),
    "mlock2": (325, 284), "mlockall": (151, 230), "mmap": (9, 222), "modify_ldt": (154, None),
    "mount": (165, 40), "mount_setattr": (442, 442), "move_mount": (429, 429), "move_pages": (279, 239),
    "mprotect": (10, 226), "mq_getsetattr": (245, 185), "mq_notify": (244, 184), "mq_open": (240, 180),
    "mq_timedreceive": (243, 183), "mq_timedsend": (242, 182), "mq_unlink": (241, 181), "mremap": (25, 216),
    "mseal": (462, 462), "msgctl": (71, 187), "msgget": (68, 186), "msgrcv": (70, 188), "msgsnd": (69, 189),
    "msync": (26, 227), "munlock": (150, 229), "munlockall": (152, 231), "munmap": (11, 215),
    "name_to_handle_at": (303, 264), "nanosleep": (35, 101), "newfstatat": (262, 79), "nfsservctl": (180, 42),
    "open": (2, None), "open_by_handle_at": (304, 265), "open_tree": (428, 428), "open_tree_attr": (467, 467),
    "openat": (257, 56), "openat2": (437, 437), "pause": (34, None), "perf_event_open": (298, 241),
    "personality": (135, 92), "pidfd_getfd": (438, 438), "pidfd_open": (434, 434),
    "pidfd_send_signal": (424, 424), "pipe": (22, None), "pipe2": (293, 59), "pivot_root": (155, 41),
    "pkey_alloc": (330, 289), "pkey_free": (331, 290), "pkey_mprotect": (329, 288), "poll": (7, None),
    "ppoll": (271, 73), "prctl": (157, 167), "pread64": (17, 67), "preadv": (295, 69), "preadv2": (327, 286),
    "prlimit64": (302, 261), "process_madvise": (440, 440), "process_mrelease": (448, 448),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271), "pselect6": (270, 72),
    "ptrace": (101, 117), "pwrite64": (18, 68), "pwritev": (296, 70), "pwritev2": (328, 287),
    "query_module": (178, None), "quotactl": (179, 60), "quotactl_fd": (443, 443), "read": (0, 63),
    "readahead": (187, 213), "readlink": (89, None), "readlinkat": (267, 78), "readv": (19, 65),
    "reboot": (169, 142), "recvfrom": (45, 207), "recvmmsg": (299, 243), "recvmsg": (47, 212),
    "remap_file_pages": (216, 234), "removexattr": (197, 14), "removexattrat": (466, 466),
    "rename": (82, None), "renameat": (264, 38), "renameat2": (316, 276), "request_key": (249, 218),
    "restart_syscall": (219, 128), "rmdir": (84, None), "rseq": (334, 293), "rt_sigaction": (13, 134),
    "rt_sigpending": (127, 136), "rt_sigprocmask": (14, 135), "rt_sigqueueinfo": (129, 138),
    "rt_sigreturn": (15, 139), "rt_sigsuspend": (130, 133), "rt_sigtimedwait": (128, 137),
    "rt_tgsigqueueinfo": (297, 240), "sched_get_priority_max": (146, 125),
    "sched_get_priority_min": (147, 126), "sched_getaffinity": (204, 123), "sched_getattr": (315, 275),
    "sched_getparam": (143, 121), "sched_getscheduler": (145, 120), "sched_rr_get_interval": (148, 127),
    "sched_setaffinity": (203, 122), "sched_setattr": (314, 274), "sched_setparam": (142, 118),
    "sched_setscheduler": (144, 119), "sched_yield": (24, 124), "seccomp": (317, 277), "select": (23, None),
    "semctl": (66, 191), "semget": (64, 190), "semop": (65, 193), "semtimedop": (220, 192),
    "sendfile": (40, 71), "sendmmsg": (307, 269), "sendmsg": (46, 211), "sendto": (44, 206),
    "set_mempolicy": (238, 237), "set_mempolicy_home_node": (450, 450), "set_robust_list": (273, 99),
    "set_thread_area": (205, None), "set_tid_address": (218, 96), "setdomainname": (171, 162),
    "setfsgid": (123, 152), "setfsuid": (122, 151), "setgid": (106, 144), "setgroups": (116, 159),
    "sethostname": (170, 161), "setitimer": (38, 103), "setns": (308, 268), "setpgid": (109, 154),
    "setpriority": (141, 140), "setregid": (114, 143), "setresgid": (119, 149), "setresuid": (117, 147),
    "setreuid": (113, 145), "setrlimit": (160, 164), "setsid": (112, 157), "setsockopt": (54, 208),
    "settimeofday": (164, 170), "setuid": (105, 146), "setxattr": (188, 5), "setxattrat": (463, 463),
    "shmat": (30, 196), "shmctl": (31, 195), "shmdt": (67, 197), "shmget": (29, 194), "shutdown": (48, 210),
    "sigaltstack": (131, 132), "signalfd": (282, None), "signalfd4": (289, 74), "socket": (41, 198),
    "socketpair": (53, 199), "splice": (275, 76), "stat": (4, None), "statfs": (137, 43),
    "statmount": (457, 457), "statx": (332, 291), "swapoff": (168, 225), "swapon": (167, 224),
    "symlink": (88, None), "symlinkat": (266, 36), "sync": (162, 81), "sync_file_range": (277, 84),
    "syncfs": (306, 267), "sysfs": (139, None), "sysinfo": (99, 179), "syslog": (103, 116), "tee": (276, 77),
    "tgkill": (234, 131), "time": (201, None), "timer_create": (222, 107), "timer_delete": (226, 111),
    "timer_getoverrun": (225, 109), "timer_gettime": (224, 108), "timer_settime": (223, 110),
    "timerfd_create": (283, 85), "timerfd_gettime": (287, 87), "timerfd_settime": (286, 86),
    "times": (100, 153), "tkill": (200, 130), "truncate": (76, 45), "umask": (95, 166), "umount2": (166, 39),
    "uname": (63, 160), "unlink": (87, None), "unlinkat": (263, 35), "unshare": (272, 97),
    "uselib": (134, None), "userfaultfd": (323, 282), "ustat": (136, None), "utime": (132, None),
    "utimensat": (280, 88), "utimes": (235, None), "vfork": (58, None), "vhangup": (153, 58),
    "vmsplice": (278, 75), "wait4": (61, 260), "waitid": (247, 95), "write": (1, 64), "writev": (20, 66),
}
