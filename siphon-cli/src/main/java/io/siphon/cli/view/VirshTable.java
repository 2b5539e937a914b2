package io.siphon.cli.view;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A table printed as virsh prints {@code list} and {@code domblklist}: a space before each cell,
 * columns padded to their widest cell plus two spaces, and a dashed rule under the header. Not
 * thread-safe.
 */
public final class VirshTable {
    private final List<List<String>> rows = new ArrayList<>();

    public VirshTable(String... header) {
        rows.add(List.of(header));
    }

    public VirshTable row(String... cells) {
        if (cells.length != rows.getFirst().size()) {
            throw new IllegalArgumentException("row of " + cells.length + " cells in a table of "
                    + rows.getFirst().size() + " columns");
        }
        rows.add(List.of(cells));
        return this;
    }

    /** Prints the header, the rule, the rows and the blank line virsh ends a table with. */
    public void print(PrintWriter out) {
        int columns = rows.getFirst().size();
        int[] widths = new int[columns];
        for (List<String> row : rows) {
            for (int i = 0; i < columns; i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        printRow(out, rows.getFirst(), widths);
        int rule = 0;
        for (int width : widths) {
            rule += width + 3;
        }
        out.println("-".repeat(rule));
        for (List<String> row : rows.subList(1, rows.size())) {
            printRow(out, row, widths);
        }
        out.println();
    }

    private static void printRow(PrintWriter out, List<String> row, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < row.size(); i++) {
            line.append(' ').append(row.get(i));
            if (i < row.size() - 1) {
                line.append(" ".repeat(widths[i] - row.get(i).length() + 2));
            }
        }
        out.println(line);
    }
}
