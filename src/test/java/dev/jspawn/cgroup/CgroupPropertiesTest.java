package dev.jspawn.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.BitSet;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.jspawn.cgroup.CgroupProperties.Kind;
import dev.jspawn.cgroup.CgroupProperties.Property;

@Tag("unit")
class CgroupPropertiesTest {

    private static Property p(String s) throws CgroupException {
        return CgroupProperties.parse(s);
    }

    @Test
    void weightsAndShares() throws Exception {
        assertThat(p("CPUWeight=1").number()).isEqualTo(1);
        assertThat(p("CPUWeight=10000").number()).isEqualTo(10000);
        assertThat(p("CPUWeight=idle").number()).isEqualTo(CgroupProperties.IDLE);
        assertThat(p("CPUWeight=").number()).isEqualTo(CgroupProperties.RESET);
        assertThat(p("CPUShares=2").number()).isEqualTo(2);
        assertThat(p("CPUShares=262144").number()).isEqualTo(262144);
        assertThat(p("IOWeight=500").kind()).isEqualTo(Kind.IO_WEIGHT);
        assertThatThrownBy(() -> p("CPUWeight=0")).hasMessage("Failed to parse CPUWeight= value '0': out of range 1..10000");
        assertThatThrownBy(() -> p("CPUWeight=10001")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> p("CPUShares=1")).hasMessage("Failed to parse CPUShares= value '1': out of range 2..262144");
        assertThatThrownBy(() -> p("CPUShares=262145")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> p("IOWeight=idle")).hasMessage("Failed to parse IOWeight= value 'idle': not a number");
        assertThatThrownBy(() -> p("CPUWeight=-5")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> p("CPUWeight=99999999999999999999")).hasMessageContaining("too large");
    }

    @Test
    void conversionsAsSystemd() {
        assertThat(CgroupProperties.weightToShares(100)).isEqualTo(1024);
        assertThat(CgroupProperties.weightToShares(1)).isEqualTo(10);
        assertThat(CgroupProperties.weightToShares(10000)).isEqualTo(102400);
        assertThat(CgroupProperties.weightToShares(CgroupProperties.IDLE)).isEqualTo(2);
        assertThat(CgroupProperties.sharesToWeight(1024)).isEqualTo(100);
        assertThat(CgroupProperties.sharesToWeight(2)).isEqualTo(1);
        assertThat(CgroupProperties.sharesToWeight(512)).isEqualTo(50);
        assertThat(CgroupProperties.sharesToWeight(262144)).isEqualTo(10000);
        assertThat(CgroupProperties.ioWeightToBlkio(100)).isEqualTo(500);
        assertThat(CgroupProperties.ioWeightToBlkio(1)).isEqualTo(10);
        assertThat(CgroupProperties.ioWeightToBlkio(10000)).isEqualTo(1000);
        assertThat(CgroupProperties.ioWeightToBfq(1)).isEqualTo(1);
        assertThat(CgroupProperties.ioWeightToBfq(50)).isEqualTo(50);
        assertThat(CgroupProperties.ioWeightToBfq(100)).isEqualTo(100);
        assertThat(CgroupProperties.ioWeightToBfq(200)).isEqualTo(109);
        assertThat(CgroupProperties.ioWeightToBfq(10000)).isEqualTo(1000);
    }

    @Test
    void cpuQuota() throws Exception {
        assertThat(p("CPUQuota=50%").number()).isEqualTo(500_000);
        assertThat(p("CPUQuota=150%").number()).isEqualTo(1_500_000);
        assertThat(p("CPUQuota=12.5%").number()).isEqualTo(125_000);
        assertThat(p("CPUQuota=12.34%").number()).isEqualTo(123_400);
        assertThat(p("CPUQuota=").number()).isEqualTo(CgroupProperties.RESET);
        assertThatThrownBy(() -> p("CPUQuota=abc")).hasMessage("Failed to parse CPUQuota= value 'abc': not a percentage");
        assertThatThrownBy(() -> p("CPUQuota=50")).hasMessageContaining("not a percentage");
        assertThatThrownBy(() -> p("CPUQuota=0%")).hasMessageContaining("greater than 0%");
        assertThatThrownBy(() -> p("CPUQuota=1.234%")).hasMessageContaining("not a percentage");
        // period and quota as systemd writes them
        assertThat(CgroupProperties.quotaPeriod(500_000)).isEqualTo(100_000);
        assertThat(CgroupProperties.quotaPerPeriod(500_000, 100_000)).isEqualTo(50_000);
        assertThat(CgroupProperties.quotaPerPeriod(1_500_000, 100_000)).isEqualTo(150_000);
        assertThat(CgroupProperties.quotaPeriod(5_000)).isEqualTo(200_000); // 0.5%: 1 ms per 200 ms
        assertThat(CgroupProperties.quotaPerPeriod(5_000, 200_000)).isEqualTo(1_000);
        assertThat(CgroupProperties.quotaPeriod(100)).isEqualTo(1_000_000); // 0.01%: period capped at 1 s
        assertThat(CgroupProperties.quotaPerPeriod(100, 1_000_000)).isEqualTo(1_000);
    }

    @Test
    void memory() throws Exception {
        assertThat(p("MemoryMax=1G").number()).isEqualTo(1L << 30);
        assertThat(p("MemoryMax=512M").number()).isEqualTo(512L << 20);
        assertThat(p("MemoryMax=1.5G").number()).isEqualTo(3L << 29);
        assertThat(p("MemoryMax=1G 512M").number()).isEqualTo((1L << 30) + (512L << 20));
        assertThat(p("MemoryMax=4096").number()).isEqualTo(4096);
        assertThat(p("MemoryMax=4096B").number()).isEqualTo(4096);
        assertThat(p("MemoryMax=2T").number()).isEqualTo(2L << 40);
        assertThat(p("MemoryMax=infinity").number()).isEqualTo(CgroupProperties.INFINITY);
        Property pct = p("MemoryMax=25%");
        assertThat(pct.percent()).isTrue();
        assertThat(pct.number()).isEqualTo(2500);
        Property alias = p("MemoryLimit=1K");
        assertThat(alias.kind()).isEqualTo(Kind.MEMORY_MAX);
        assertThat(alias.name()).isEqualTo("MemoryLimit");
        assertThat(alias.number()).isEqualTo(1024);
        assertThat(p("MemoryHigh=2G").kind()).isEqualTo(Kind.MEMORY_HIGH);
        assertThat(p("MemorySwapMax=0").number()).isZero();
        assertThatThrownBy(() -> p("MemoryMax=0")).hasMessage("Failed to parse MemoryMax= value '0': limit must be greater than 0");
        assertThatThrownBy(() -> p("MemoryMax=1X")).hasMessageContaining("unknown unit 'X'");
        assertThatThrownBy(() -> p("MemoryMax=1k")).hasMessageContaining("unknown unit 'k'");
        assertThatThrownBy(() -> p("MemoryMax=512M 1G")).hasMessageContaining("decreasing order");
        assertThatThrownBy(() -> p("MemoryMax=-1")).hasMessageContaining("not a valid size");
        assertThatThrownBy(() -> p("MemoryMax=101%")).hasMessageContaining("over 100%");
        assertThatThrownBy(() -> p("MemoryMax=99999999E")).hasMessageContaining("too large");
        assertThat(CgroupProperties.scaleMemory(8L << 30, 5000)).isEqualTo(4L << 30);
        assertThat(CgroupProperties.scaleMemory(1000L, 10000)).isEqualTo(1000L);
        assertThat(CgroupProperties.scaleMemory(10_000 * 4096L + 123, 3333) % 4096).isZero();
    }

    @Test
    void tasks() throws Exception {
        assertThat(p("TasksMax=100").number()).isEqualTo(100);
        assertThat(p("TasksMax=infinity").number()).isEqualTo(CgroupProperties.INFINITY);
        assertThat(p("TasksMax=15%").number()).isEqualTo(1500);
        assertThat(p("TasksMax=15%").percent()).isTrue();
        assertThatThrownBy(() -> p("TasksMax=0")).hasMessageContaining("greater than 0");
        assertThatThrownBy(() -> p("TasksMax=1K")).hasMessage("Failed to parse TasksMax= value '1K': not a number");
        assertThat(CgroupProperties.scaleTasks(32767, 1500)).isEqualTo(4915);
        assertThat(CgroupProperties.systemTasksMax()).isPositive();
    }

    @Test
    void cpuSets() throws Exception {
        BitSet s = p("AllowedCPUs=0-3,5 7").cpus();
        assertThat(CgroupProperties.formatCpuSet(s)).isEqualTo("0-3,5,7");
        assertThat(CgroupProperties.formatCpuSet(p("AllowedCPUs=3,1,2").cpus())).isEqualTo("1-3");
        assertThat(p("AllowedCPUs=").cpus().isEmpty()).isTrue();
        assertThatThrownBy(() -> p("AllowedCPUs=3-1")).hasMessage("Failed to parse AllowedCPUs= value '3-1': range '3-1' is backwards");
        assertThatThrownBy(() -> p("AllowedCPUs=a")).hasMessageContaining("invalid CPU 'a'");
        assertThatThrownBy(() -> p("AllowedCPUs=100000")).hasMessageContaining("out of range");
    }

    @Test
    void namesAndListParsing() throws Exception {
        assertThatThrownBy(() -> p("Foo=1")).isInstanceOf(CgroupException.class)
                .hasMessage("Unknown or unsupported property 'Foo'");
        assertThatThrownBy(() -> p("cpuquota=50%")).hasMessage("Unknown or unsupported property 'cpuquota'");
        assertThatThrownBy(() -> p("CPUQuota")).hasMessage("Not an assignment: 'CPUQuota'");
        List<Property> l = CgroupProperties.parse(List.of("CPUQuota=50%", "MemoryMax=1G", "TasksMax=10"));
        assertThat(l).extracting(Property::kind).containsExactly(Kind.CPU_QUOTA, Kind.MEMORY_MAX, Kind.TASKS_MAX);
        assertThat(l.get(0)).hasToString("CPUQuota=50%");
        assertThat(CgroupProperties.parse(CgroupProperties.NSPAWN_DEFAULTS)).hasSize(1);
    }

    @Test
    void controllers() {
        assertThat(Kind.IO_WEIGHT.controller(true)).isEqualTo("io");
        assertThat(Kind.IO_WEIGHT.controller(false)).isEqualTo("blkio");
        assertThat(Kind.ALLOWED_CPUS.controller(false)).isEqualTo("cpuset");
        assertThat(Kind.TASKS_MAX.controller(true)).isEqualTo("pids");
    }
}
