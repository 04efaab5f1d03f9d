package dev.jspawn.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class CgroupNamesTest {

    @Test
    void unitNameEscape() {
        assertThat(CgroupLayout.unitNameEscape("foo")).isEqualTo("foo");
        assertThat(CgroupLayout.unitNameEscape("foo-bar")).isEqualTo("foo\\x2dbar");
        assertThat(CgroupLayout.unitNameEscape("a:b_c.d")).isEqualTo("a:b_c.d");
        assertThat(CgroupLayout.unitNameEscape(".hidden.x")).isEqualTo("\\x2ehidden.x");
        assertThat(CgroupLayout.unitNameEscape("a b\\c")).isEqualTo("a\\x20b\\x5cc");
        assertThat(CgroupLayout.unitNameEscape("\u00e4")).isEqualTo("\\xc3\\xa4");
        assertThat(CgroupLayout.unitNameEscape("a/b")).isEqualTo("a-b");
    }

    @Test
    void scopeName() throws Exception {
        assertThat(CgroupLayout.scopeName("foo")).isEqualTo("machine-foo.scope");
        assertThat(CgroupLayout.scopeName("my-box")).isEqualTo("machine-my\\x2dbox.scope");
        assertThatThrownBy(() -> CgroupLayout.scopeName("")).hasMessage("Invalid machine name ''");
        assertThatThrownBy(() -> CgroupLayout.scopeName("x".repeat(300))).hasMessageContaining("too long");
    }

    @Test
    void slicePaths() throws Exception {
        assertThat(CgroupLayout.slicePath("machine.slice")).isEqualTo("machine.slice");
        assertThat(CgroupLayout.slicePath("machine")).isEqualTo("machine.slice");
        assertThat(CgroupLayout.slicePath("a-b.slice")).isEqualTo("a.slice/a-b.slice");
        assertThat(CgroupLayout.slicePath("a-b-c.slice")).isEqualTo("a.slice/a-b.slice/a-b-c.slice");
        assertThat(CgroupLayout.slicePath("-.slice")).isEmpty();
        assertThat(CgroupLayout.slicePath("cpu.slice")).isEqualTo("_cpu.slice");
        assertThat(CgroupLayout.slicePath("system-cpu.slice")).isEqualTo("system.slice/system-cpu.slice");
        for (String bad : new String[] {"-a.slice", "a-.slice", "a--b.slice", "a/b.slice", ".slice", "a b.slice", "\u00e4.slice"})
            assertThatThrownBy(() -> CgroupLayout.slicePath(bad)).as(bad).hasMessage("Invalid slice name '" + bad + "'");
    }

    @Test
    void cgEscape() {
        assertThat(CgroupLayout.cgEscape("machine.slice")).isEqualTo("machine.slice");
        assertThat(CgroupLayout.cgEscape("memory.slice")).isEqualTo("_memory.slice");
        assertThat(CgroupLayout.cgEscape("tasks")).isEqualTo("_tasks");
        assertThat(CgroupLayout.cgEscape("cgroup.procs")).isEqualTo("_cgroup.procs");
        assertThat(CgroupLayout.cgEscape("_x")).isEqualTo("__x");
        assertThat(CgroupLayout.cgEscape("payload")).isEqualTo("payload");
    }
}
