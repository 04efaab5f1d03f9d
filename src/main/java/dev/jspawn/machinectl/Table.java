package dev.jspawn.machinectl;

import java.util.ArrayList;
import java.util.List;

/** systemd's table layout: columns left-aligned, one space apart, the last one not padded, empty as "-". */
final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
        rows.add(header);
    }

    void add(String... cells) {
        for (int i = 0; i < cells.length; i++) if (cells[i] == null || cells[i].isEmpty()) cells[i] = "-";
        rows.add(cells);
    }

    int size() {
        return rows.size() - 1;
    }

    String render(boolean header) {
        int n = rows.get(0).length;
        int[] w = new int[n];
        for (String[] r : rows) for (int i = 0; i < n; i++) w[i] = Math.max(w[i], r[i].length());
        StringBuilder b = new StringBuilder();
        for (int k = header ? 0 : 1; k < rows.size(); k++) {
            String[] r = rows.get(k);
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < n; i++) {
                line.append(r[i]);
                if (i < n - 1) line.append(" ".repeat(w[i] - r[i].length() + 1));
            }
            b.append(line.toString().stripTrailing()).append('\n');
        }
        return b.toString();
    }
}
