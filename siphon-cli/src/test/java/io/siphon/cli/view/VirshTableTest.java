package io.siphon.cli.view;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class VirshTableTest {
    @Test
    void columnsArePaddedAndRuledAsVirshList() {
        StringWriter text = new StringWriter();
        new VirshTable("Id", "Name", "State")
                .row("1", "fedora", "running")
                .row("-", "rhel", "shut off")
                .print(new PrintWriter(text, true));
        assertEquals("""
                 Id   Name     State
                -------------------------
                 1    fedora   running
                 -    rhel     shut off

                """, text.toString());
    }
}
