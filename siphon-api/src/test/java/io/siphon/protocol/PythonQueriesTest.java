package io.siphon.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Python binding refuses a change on a read-only connection before it is sent, from its own
 * list of the queries: that list must be the protocol's {@link Command.Query} records, or a Python
 * client is refused a query the daemon allows (or sends a change the daemon then refuses).
 */
class PythonQueriesTest {
    private static final Path SESSION = Path.of("..", "python", "siphon", "session.py");

    @Test
    void thePythonBindingsReadOnlyListIsTheProtocolsQueries() throws IOException {
        Set<String> java = Arrays.stream(Command.Query.class.getPermittedSubclasses())
                .map(Command::wireName)
                .collect(Collectors.toCollection(TreeSet::new));
        Matcher list = Pattern.compile("QUERIES = frozenset\\(\\s*\\((.*?)\\)\\s*\\)", Pattern.DOTALL)
                .matcher(Files.readString(SESSION));
        if (!list.find()) {
            throw new AssertionError("no QUERIES = frozenset((...)) in " + SESSION);
        }
        Set<String> python = new TreeSet<>();
        Matcher name = Pattern.compile("\"([^\"]+)\"").matcher(list.group(1));
        while (name.find()) {
            python.add(name.group(1));
        }
        assertEquals(java, python, "Command.Query records against QUERIES in " + SESSION);
    }
}
