package dev.jspawn.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jspawn.net.nft.NftOwner;
import dev.jspawn.spec.ContainerSpec.Port;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Which -p claims collide: same host namespace, family, protocol and host port; nothing else. */
class PortClaimsTest {
    private static final String NS = "net:[4026531840]", OTHER_NS = "net:[4026532001]";

    private static Map<String, Map<String, String>> held(String netns, String family, Port... ports) {
        NftOwner web = new NftOwner("web1", 4242, 777);
        Map<String, Map<String, String>> records = new TreeMap<>();
        records.put(PortClaims.recordName(web), PortClaims.record(web, netns, family, List.of(ports)));
        records.put("link-ve-web1", Map.of("owner", "4243", "netns", NS, "subnet", "10.0.0.0/28"));
        return records;
    }

    @Test
    void recordNamesTheOwnerAndListsThePorts() {
        NftOwner o = new NftOwner("web1", 4242, 777);
        assertThat(PortClaims.recordName(o)).isEqualTo("forward-4242-777");
        assertThat(PortClaims.record(o, NS, PortClaims.IPV4, List.of(new Port("tcp", 8080, 80), new Port("udp", 53, 53))))
                .containsEntry("owner", "4242").containsEntry("start", "777").containsEntry("machine", "web1")
                .containsEntry("netns", NS).containsEntry("family", "ipv4").containsEntry("ports", "tcp:8080,udp:53");
        // NetState reads it back the same way (and takes owner/start for its liveness check)
        assertThat(NetState.parse("owner=4242\nstart=777\nports=tcp:8080,udp:53\n")).containsEntry("ports", "tcp:8080,udp:53");
    }

    @Test
    void sameProtocolPortNamespaceAndFamilyConflictsAndNamesTheMachine() {
        var records = held(NS, "ipv4", new Port("tcp", 8080, 80), new Port("udp", 53, 53));
        assertThat(PortClaims.conflict(records, NS, "ipv4", List.of(new Port("tcp", 9000, 1), new Port("tcp", 8080, 81))))
                .isEqualTo("Port tcp:8080 is already forwarded to machine 'web1'");
        assertThat(PortClaims.conflict(records, NS, "ipv4", List.of(new Port("udp", 53, 5353))))
                .isEqualTo("Port udp:53 is already forwarded to machine 'web1'");
    }

    @Test
    void otherProtocolPortNamespaceOrFamilyIsFree() {
        var records = held(NS, "ipv4", new Port("tcp", 8080, 80));
        assertThat(PortClaims.conflict(records, NS, "ipv4", List.of(new Port("udp", 8080, 80)))).isNull();
        assertThat(PortClaims.conflict(records, NS, "ipv4", List.of(new Port("tcp", 80, 80)))).isNull();
        assertThat(PortClaims.conflict(records, NS, "ipv4", List.of(new Port("tcp", 18080, 80)))).isNull();
        assertThat(PortClaims.conflict(records, OTHER_NS, "ipv4", List.of(new Port("tcp", 8080, 80)))).isNull();
        assertThat(PortClaims.conflict(records, NS, "ipv6", List.of(new Port("tcp", 8080, 80)))).isNull();
        assertThat(PortClaims.conflict(Map.of(), NS, "ipv4", List.of(new Port("tcp", 8080, 80)))).isNull();
    }
}
