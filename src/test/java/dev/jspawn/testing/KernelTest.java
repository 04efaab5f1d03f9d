package dev.jspawn.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test (class or method) that needs the real kernel as root: namespaces, mounts, cgroups.
 * Tagged {@code kernel}, so {@code -Dgroups=unit} or {@code -DexcludedGroups=kernel} leave it out.
 *
 * <p>Run as non-root, such a test <em>fails</em> with "kernel tests must run as root" rather than
 * being skipped, so that a CI that lost its privileges cannot go green by testing nothing. With the
 * environment variable {@code JSPAWN_SKIP_KERNEL_TESTS=1} they are skipped instead.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Tag("kernel")
@ExtendWith(KernelTestExtension.class)
public @interface KernelTest {
}
