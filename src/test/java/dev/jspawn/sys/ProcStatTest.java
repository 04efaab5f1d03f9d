package dev.jspawn.sys;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcStatTest {
    private static final long SELF = ProcessHandle.current().pid();

    @Test
    void readsThisProcesssParentAndStartTime() {
        assertThat(ProcStat.parent(SELF)).isEqualTo(ProcessHandle.current().parent().orElseThrow().pid());
        assertThat(ProcStat.startTime(SELF)).isPositive().isEqualTo(ProcStat.startTime(SELF));
    }

    @Test
    void aMissingProcessHasNeither() {
        long none = 1L << 30; // above pid_max
        assertThat(ProcStat.fields(none)).isNull();
        assertThat(ProcStat.startTime(none)).isEqualTo(-1);
        assertThat(ProcStat.parent(none)).isZero();
    }
}
