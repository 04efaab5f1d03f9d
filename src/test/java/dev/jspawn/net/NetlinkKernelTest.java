package dev.jspawn.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jspawn.testing.KernelTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The netlink socket against the real kernel, in a network namespace of its own. */
@KernelTest
class NetlinkKernelTest {
    private final String ns = "jst-nl-" + ProcessHandle.current().pid();

    @BeforeEach
    void createNamespace() throws Exception {
        run("ip", "netns", "add", ns);
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        run("ip", "netns", "delete", ns);
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError(String.join(" ", cmd) + " failed");
    }

    @Test
    void dumpsLinksOfAnotherNamespaceAndReportsErrors() throws Exception {
        assertThat(Files.exists(Path.of("/run/netns", ns))).isTrue();
        try (Netlink nl = Netlink.openIn(Netlink.NETLINK_ROUTE, "/run/netns/" + ns)) {
            List<NetlinkReply> links = nl.request(NetlinkMessage.request(18 /* RTM_GETLINK */, NetlinkMessage.NLM_F_DUMP)
                    .describe("list links").header(new byte[16]));
            assertThat(links).extracting(r -> r.attributes(16).string(3 /* IFLA_IFNAME */)).containsExactly("lo");
            // RTM_DELLINK of a link that does not exist: ENODEV, with the request's description
            byte[] ifi = new byte[16];
            ifi[4] = 99; // ifi_index 99
            assertThatThrownBy(() -> nl.request(NetlinkMessage.request(17 /* RTM_DELLINK */, NetlinkMessage.NLM_F_ACK)
                    .describe("delete link 99").header(ifi)))
                    .isInstanceOf(NetlinkException.class)
                    .hasMessageStartingWith("failed to delete link 99: No such device");
            // the socket keeps working after an error
            assertThat(nl.request(NetlinkMessage.request(18, NetlinkMessage.NLM_F_DUMP).header(new byte[16]))).hasSize(1);
        }
    }
}
