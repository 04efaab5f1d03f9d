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

    /** A cell may hold several lines (machinectl's addresses): the row then spans them, other cells blank. */
    String render(boolean header) {
        int n = rows.get(0).length;
        int[] w = new int[n];
        for (String[] r : rows) for (int i = 0; i < n; i++) for (String l : r[i].split("\n", -1)) w[i] = Math.max(w[i], l.length());
        StringBuilder b = new StringBuilder();
        for (int k = header ? 0 : 1; k < rows.size(); k++) {
            String[] r = rows.get(k);
            String[][] cells = new String[n][];
            int height = 1;
            for (int i = 0; i < n; i++) height = Math.max(height, (cells[i] = r[i].split("\n", -1)).length);
            for (int h = 0; h < height; h++) {
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < n; i++) {
                    String c = h < cells[i].length ? cells[i][h] : "";
                    line.append(c);
                    if (i < n - 1) line.append(" ".repeat(w[i] - c.length() + 1));
                }
                b.append(line.toString().stripTrailing()).append('\n');
            }
        }
        return b.toString();
    }
}
