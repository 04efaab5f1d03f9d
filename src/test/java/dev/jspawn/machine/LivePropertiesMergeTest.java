package dev.jspawn.machine;

import dev.jspawn.cgroup.CgroupException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LivePropertiesMergeTest {
    @Test
    void laterAssignmentsOfOneSettingReplaceEarlierOnes() throws CgroupException {
        assertThat(LiveProperties.merge(List.of("TasksMax=100", "MemoryLimit=1G", "CPUQuota=50%"),
                List.of("MemoryMax=2G", "TasksMax=200", "IOWeight=10")))
                .containsExactly("CPUQuota=50%", "MemoryMax=2G", "TasksMax=200", "IOWeight=10");
    }

    @Test
    void normaliseValidatesEverything() throws CgroupException {
        assertThat(LiveProperties.normalise(List.of("CPUQuota=20%", "MemoryMax=512M"))).containsExactly("CPUQuota=20%", "MemoryMax=512M");
        assertThatThrownBy(() -> LiveProperties.normalise(List.of("TasksMax=10", "Bogus=1")))
                .hasMessage("Unknown or unsupported property 'Bogus'");
        assertThatThrownBy(() -> LiveProperties.normalise(List.of())).hasMessage("No properties given");
    }
}
