package dev.jspawn.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** The behaviour of {@link KernelTest}: skip on JSPAWN_SKIP_KERNEL_TESTS=1, else fail unless root. */
public final class KernelTestExtension implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback {
    public static final String MESSAGE = "kernel tests must run as root";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return "1".equals(System.getenv("JSPAWN_SKIP_KERNEL_TESTS"))
                ? ConditionEvaluationResult.disabled("JSPAWN_SKIP_KERNEL_TESTS=1")
                : ConditionEvaluationResult.enabled("kernel tests enabled");
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        requireRoot();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        requireRoot();
    }

    private static void requireRoot() {
        long euid = effectiveUid();
        if (euid != 0) {
            throw new AssertionError(MESSAGE + " (euid " + euid + "; set JSPAWN_SKIP_KERNEL_TESTS=1 to skip them)");
        }
    }

    /** The effective uid of this JVM, from /proc/self/status. */
    public static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read /proc/self/status", e);
        }
        throw new AssertionError("no Uid: line in /proc/self/status");
    }
}
