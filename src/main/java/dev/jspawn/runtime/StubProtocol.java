package dev.jspawn.runtime;

/**
 * The control protocol between jspawn and jspawn-stub, documented once here and in the header comment
 * of src/main/c/stub.c (the numbers must match; a unit test checks them).
 *
 * <pre>
 *  #1 Java -> monitor  the plan (one SOCK_SEQPACKET message, {@link Plan#encode})
 *  #2 monitor -> Java  MSG_PID(pid): the init exists in its namespaces, id maps are written;
 *                      Java does the outside work now: cgroup placement, limits, (later) network
 *  #3 Java -> monitor  MSG_GO: the init runs its steps
 *  #4 init -> Java     MSG_PTY + descriptor: the console pty master, when planned;
 *                      MSG_NOTIFY + descriptor: the bound /run/host/notify socket
 *  #5 monitor -> Java  MSG_EXECED, or MSG_FAILED(step, errno): step -1 = clone, -2 = id maps
 *  #6 monitor -> Java  MSG_EXIT(wait status), then the monitor exits
 * </pre>
 *
 * <p>Managed mode (machines jmachined starts; the plan names a control socket): the monitor is detached
 * (own session, no parent-death signal), keeps the console pty master, logs it with timestamps, and
 * listens on its control socket for MSG_ADOPT (a restarted daemon: answered MSG_PID(leader), later
 * MSG_EXIT) and MSG_CONSOLE (then MSG_CONSOLE_DATA both ways, MSG_WINSIZE(u16 rows, u16 cols) in).
 * Without the daemon that started it, it cleans up the host side itself (see stub.c's header).
 *
 * <p>Client mode (the user's jspawn is the monitor, connected to the planner, see stub.c): #0 MSG_REQUEST
 * before the plan, MSG_OUT (text to print) and MSG_DONE (exit code) from the planner. A client that
 * fails before the go leaves the container's cgroup, sends MSG_FAILED and waits for MSG_OUT..MSG_DONE;
 * when the planner fails instead, it moves a client still in the cgroup out before removing the cgroup
 * ({@link Launcher.ContainerCgroupHandle#release}), so the client always prints why and exits with the
 * planner's code.
 *
 * <p>Enter mode ({@code jspawn-stub --enter FD}) starts with MSG_ENTER, the request of
 * dev.jspawn.machine.Enter, and reuses MSG_PID, MSG_PTY, MSG_EXECED, MSG_FAILED and MSG_EXIT (#E1..#E5,
 * documented at enter_main() in stub.c and in Enter).
 *
 * <p>jmachinectl's fast path ({@code jspawn-stub --ctl FALLBACK... -- ARGS...}): MSG_CTL_REQUEST, laid out as
 * MSG_REQUEST, on the planner socket; answered with MSG_OUT..., MSG_DONE, or MSG_FALLBACK
 * (dev.jspawn.daemon.CtlServer).
 */
public final class StubProtocol {
    private StubProtocol() {}

    static final int PLAN_MAGIC = 0x4c50534a; // "JSPL"
    static final int PLAN_VERSION = 3; // 2 + 2: managed mode (md) and the netns path (net) both added fields

    public static final int MSG_PID = 1, MSG_GO = 2, MSG_PTY = 3, MSG_EXECED = 4, MSG_FAILED = 5, MSG_EXIT = 6,
            MSG_REQUEST = 7, MSG_FALLBACK = 8, MSG_OUT = 9, MSG_DONE = 10,
            MSG_NOTIFY = 11, MSG_ENTER = 12, MSG_ADOPT = 13, MSG_CONSOLE = 14, MSG_CONSOLE_DATA = 15,
            MSG_WINSIZE = 16, MSG_CTL_REQUEST = 17;
}
