package dev.jspawn.daemon;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonTest {
    @Test
    void parsesEveryKind() throws Exception {
        Object v = Json.parse(" {\"a\": [1, -2, 3.5, 1e3, true, false, null], \"b\": {\"c\": \"x\\\"y\\n\\u00e9\\/\"}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertThat(m.get("a")).isEqualTo(java.util.Arrays.asList(1L, -2L, 3.5, 1000.0, true, false, null));
        assertThat(((Map<?, ?>) m.get("b")).get("c")).isEqualTo("x\"y\né/");
        assertThat(Json.parse("[]")).isEqualTo(List.of());
        assertThat(Json.parse("{}")).isEqualTo(Map.of());
        assertThat(Json.parse("0")).isEqualTo(0L);
        assertThat(Json.parse("99999999999999999999")).isEqualTo(1e20);
    }

    @Test
    void writesAndReadsBack() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "a\tb\u0001\"\\");
        m.put("n", 42L);
        m.put("i", 7);
        m.put("list", List.of("x", true));
        m.put("none", null);
        String text = Json.write(m);
        assertThat(text).isEqualTo("{\"name\":\"a\\tb\\u0001\\\"\\\\\",\"n\":42,\"i\":7,\"list\":[\"x\",true],\"none\":null}");
        Map<String, Object> back = Json.parseObject(text);
        assertThat(back.get("name")).isEqualTo(m.get("name"));
        assertThat(back.get("i")).isEqualTo(7L);
        assertThat(Json.str(back, "name")).isEqualTo(m.get("name"));
        assertThat(Json.num(back, "n", 0)).isEqualTo(42);
        assertThat(Json.num(back, "missing", -1)).isEqualTo(-1);
    }

    @Test
    void rejectsMalformedInput() {
        for (String bad : new String[] {"", "{", "[1,]", "{\"a\" 1}", "{a:1}", "\"abc", "01", "1.", "-", "tru",
                "[1] x", "\"\\q\"", "\"\u0001\"", "{\"a\":1,}", "1e"}) {
            assertThatThrownBy(() -> Json.parse(bad)).as(bad).isInstanceOf(Json.ParseException.class);
        }
        assertThatThrownBy(() -> Json.parseObject("[1]")).isInstanceOf(Json.ParseException.class);
        assertThatThrownBy(() -> Json.parse("[".repeat(100))).hasMessageContaining("deeply");
    }
}
