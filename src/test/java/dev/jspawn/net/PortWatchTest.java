package dev.jspawn.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jspawn.net.PortWatch.Address;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** nspawn's choice of the container address to forward to (local_addresses() order, scope below link). */
class PortWatchTest {
    private static Address v4(String a, int scope, int flags, int ifindex) throws Exception {
        return new Address(PortWatch.AF_INET, InetAddress.getByName(a).getAddress(), scope, flags, ifindex);
    }

    private static Address v6(String a, int scope, int ifindex) throws Exception {
        return new Address(PortWatch.AF_INET6, InetAddress.getByName(a).getAddress(), scope, 0, ifindex);
    }

    @Test
    void loopbackAndLinkScopeAreNeverChosen() throws Exception {
        List<Address> only = List.of(v4("127.0.0.1", 254, 0, 1), v4("169.254.3.4", 253, 0, 2), v6("::1", 254, 1),
                v6("fe80::1", 253, 2));
        assertThat(PortWatch.pick(only, PortWatch.AF_INET)).isNull();
        assertThat(PortWatch.pick(only, PortWatch.AF_INET6)).isNull();
        assertThat(PortWatch.pick(List.of(), PortWatch.AF_INET)).isNull();
    }

    @Test
    void globalScopeThenLowestInterfaceIndexThenLowestAddress() throws Exception {
        List<Address> all = List.of(v4("127.0.0.1", 254, 0, 1), v4("10.9.0.7", 0, 0, 5), v4("10.9.0.3", 0, 0, 5),
                v4("192.168.1.2", 0, 0, 3), v4("169.254.3.4", 253, 0, 2), v6("fe80::1", 253, 2), v6("fd00::9", 0, 3),
                v6("fd00::2", 0, 4));
        assertThat(PortWatch.pick(all, PortWatch.AF_INET)).isEqualTo(InetAddress.getByName("192.168.1.2"));
        assertThat(PortWatch.pick(all, PortWatch.AF_INET6)).isEqualTo(InetAddress.getByName("fd00::9"));
        assertThat(PortWatch.pick(all.subList(0, 3), PortWatch.AF_INET)).isEqualTo(InetAddress.getByName("10.9.0.3"));
    }

    @Test
    void deprecatedAddressesAreSkipped() throws Exception {
        List<Address> all = List.of(v4("10.0.0.2", 0, PortWatch.IFA_F_DEPRECATED, 2), v4("10.0.0.9", 0, 0, 2));
        assertThat(PortWatch.pick(all, PortWatch.AF_INET)).isEqualTo(InetAddress.getByName("10.0.0.9"));
    }

    @Test
    void claimFamiliesOverlap() {
        assertThat(PortClaims.overlap("ipv4", "ipv4,ipv6")).isTrue();
        assertThat(PortClaims.overlap("ipv4,ipv6", "ipv6")).isTrue();
        assertThat(PortClaims.overlap("ipv4", "ipv6")).isFalse();
    }
}
