package dev.jspawn.runtime;

/** Step opcodes of jspawn-stub; the numbers mirror the OP_* enum in src/main/c/stub.c (checked by a test). */
enum StubOp {
    MOUNT(1), MKDIR(2), MKNOD(3), SYMLINK(4), WRITE_FILE(5), TOUCH(6), CHOWN(7), PIVOT_ROOT(8), UMOUNT(9),
    REMOUNT_RO(10), MASK(11), SETHOSTNAME(12), CONSOLE_PTY(13), STDIO_CONSOLE(14), SETSID(15), RLIMIT(16),
    OOM_SCORE(17), AFFINITY(18), PERSONALITY(19), CHDIR(20), CAPBSET(21), KEEPCAPS(22), SETGROUPS(23),
    SETGID(24), SETUID(25), CAPS(26), AMBIENT(27), NO_NEW_PRIVS(28), SECCOMP(29), FORK_INIT(30), EXEC(31),
    SETRESID0(33), UMASK(34), UNLINK(37), ATTACH_TREE(38), LINK_UP(39), NOTIFY_SOCKET(40);

    final int code;

    StubOp(int code) {
        this.code = code;
    }
}
