package dev.jspawn.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jspawn.spec.ContainerSpec.Network;
import dev.jspawn.spec.ContainerSpec.Port;
import dev.jspawn.spec.ContainerSpec.VethExtra;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The network options as nspawn v252 parses and checks them. */
@Tag("unit")
class NetworkOptionsTest {
    private static ContainerSpec spec(String... args) throws SpecException {
        String[] all = new String[args.length + 2];
        all[0] = "-D";
        all[1] = "/srv/web";
        System.arraycopy(args, 0, all, 2, args.length);
        Path none = Path.of("/nonexistent-jspawn-test");
        return SpawnCommandLine.parse(all, Map.of(), new SpawnCommandLine.Context(Path.of("/"), "h", List.of(none),
                List.of(none), none)).spec();
    }

    private static void fails(String message, String... args) {
        assertThatThrownBy(() -> spec(args)).isInstanceOf(SpecException.class).hasMessage(message);
    }

    @Test
    void everyLinkOptionImpliesAPrivateNetwork() throws Exception {
        assertThat(spec().network()).isEqualTo(Network.NONE);
        assertThat(spec().privateNetwork()).isFalse();
        for (String o : List.of("-n", "--network-veth", "--network-bridge=br0", "--network-zone=web",
                "--network-veth-extra=a:b", "--network-interface=eth1", "--network-macvlan=eth0", "--network-ipvlan=eth0",
                "--private-network")) {
            ContainerSpec s = spec(o);
            assertThat(s.privateNetwork()).as(o).isTrue();
            assertThat(s.capabilitiesAdded() & 1L << Values.CAP_NET_ADMIN).as(o).isNotZero();
        }
        assertThat(spec("-n").network().veth()).isTrue();
        assertThat(spec("--network-bridge=br0").network().veth()).isTrue();
        assertThat(spec("--network-zone=web").network().zone()).isEqualTo("vz-web");
        assertThat(spec("--network-zone=web").network().veth()).isTrue();
        assertThat(spec("--network-macvlan=eth0").network().veth()).isFalse();
        assertThat(spec("--network-macvlan=eth0", "--network-macvlan=eth1").network().macvlan()).containsExactly("eth0", "eth1");
        assertThat(spec("--network-veth-extra=a:b", "--network-veth-extra=c").network().vethExtra())
                .containsExactly(new VethExtra("a", "b"), new VethExtra("c", "c"));
        assertThat(spec("--network-namespace-path=/run/netns/x").network().namespacePath()).isEqualTo(Path.of("/run/netns/x"));
        assertThat(spec("--network-namespace-path=/run/netns/x").privateNetwork()).isFalse();
    }

    @Test
    void ports() throws Exception {
        assertThat(spec("-n", "-p", "80", "-p", "udp:53:5353", "--port=tcp:8080:80").network().ports()).containsExactly(
                new Port("tcp", 80, 80), new Port("udp", 53, 5353), new Port("tcp", 8080, 80));
        fails("Duplicate port specification: tcp:80:81", "-n", "-p80", "-ptcp:80:81");
        fails("Failed to parse host port 0: Invalid argument", "-n", "-p0");
        fails("Failed to parse host port 80:70000: Invalid argument", "-n", "-p80:70000");
        fails("Failed to parse host port sctp:1: Invalid argument", "-n", "-psctp:1");
        fails("Cannot use --port= without private networking.", "-p80");
    }

    @Test
    void badNamesAndContradictions() {
        fails("Network zone name not valid: vz-" + "z".repeat(13), "--network-zone=" + "z".repeat(13));
        fails("Network zone name not valid: vz-a/b", "--network-zone=a/b");
        fails("Bridge interface name not valid: 123", "--network-bridge=123");
        fails("Network interface name not valid: a:b", "--network-interface=a:b");
        fails("MACVLAN network interface name not valid: " + "e".repeat(16), "--network-macvlan=" + "e".repeat(16));
        fails("IPVLAN network interface name not valid: ..", "--network-ipvlan=..");
        fails("Failed to parse --network-veth-extra= parameter: a:", "--network-veth-extra=a:");
        fails("--network-namespace-path cannot be combined with other network options.",
                "--network-namespace-path=/run/netns/x", "-n");
        fails("--network-namespace-path cannot be combined with other network options.",
                "--private-network", "--network-namespace-path=/run/netns/x");
        fails("--network-bridge= and --network-zone= may not be combined.", "--network-bridge=br0", "--network-zone=z");
    }

    @Test
    void ifnameRules() {
        assertThat(NetworkOptions.ifnameValid("ve-abcdefghijkl")).isTrue();
        assertThat(NetworkOptions.ifnameValid("ve-abcdefghijklm")).isFalse();
        assertThat(NetworkOptions.ifnameValid("a b")).isFalse();
        assertThat(NetworkOptions.ifnameValid("0x1")).isTrue();
        assertThat(NetworkOptions.ifnameValid("")).isFalse();
    }
}
