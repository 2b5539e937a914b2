package io.siphon.daemon.service;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The daemon's configuration file: one {@code key = value} a line, the keys being the long options
 * of {@code siphon daemon} without their dashes; {@code #} starts a comment line; a value may be
 * in double quotes (to keep spaces at its ends). Each entry is checked by a {@link Checker} when
 * read, so that an error names the file, the line and the key.
 */
public final class ConfigFile {
    private static final Pattern KEY = Pattern.compile("[a-z][a-z0-9-]*");

    /** One setting, and the line it came from. */
    public record Entry(String key, String value, int line) {}

    /** Checks one entry against the command's options; says why it cannot be used, or nothing. */
    @FunctionalInterface
    public interface Checker {
        /** Empty when {@code key} names an option that takes {@code value}; else the reason it does not. */
        Optional<String> problem(String key, String value);
    }

    private final Path file;
    private final List<Entry> entries;

    private ConfigFile(Path file, List<Entry> entries) {
        this.file = file;
        this.entries = List.copyOf(entries);
    }

    /** Reads and checks {@code file}; a missing file, a bad line, an unknown key or a bad value is a {@link ConfigFileException}. */
    public static ConfigFile read(Path file, Checker checker) {
        Objects.requireNonNull(checker, "checker");
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigFileException(file, 0, "no such file");
        } catch (CharacterCodingException e) {
            throw new ConfigFileException(file, 0, "not UTF-8 text");
        } catch (IOException e) {
            throw new ConfigFileException(file, 0, "cannot read it: " + e.getMessage());
        }
        List<Entry> entries = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            int number = i + 1;
            String text = lines.get(i).strip();
            if (text.isEmpty() || text.startsWith("#")) {
                continue;
            }
            int equals = text.indexOf('=');
            if (equals < 0) {
                throw new ConfigFileException(file, number, "expected 'key = value', found '" + text + "'");
            }
            String key = text.substring(0, equals).strip();
            String value = unquote(file, number, key, text.substring(equals + 1).strip());
            if (!KEY.matcher(key).matches()) {
                throw new ConfigFileException(file, number, "'" + key + "' is not a key (lower case, digits, '-')");
            }
            Integer earlier = seen.putIfAbsent(key, number);
            if (earlier != null) {
                throw new ConfigFileException(file, number, "key '" + key + "' is already set on line " + earlier);
            }
            Optional<String> problem = checker.problem(key, value);
            if (problem.isPresent()) {
                throw new ConfigFileException(file, number, "key '" + key + "': " + problem.get());
            }
            entries.add(new Entry(key, value, number));
        }
        return new ConfigFile(file, entries);
    }

    private static String unquote(Path file, int line, String key, String value) {
        if (!value.startsWith("\"")) {
            return value;
        }
        if (value.length() < 2 || !value.endsWith("\"")) {
            throw new ConfigFileException(file, line, "key '" + key + "': the value's closing '\"' is missing");
        }
        return value.substring(1, value.length() - 1);
    }

    /** The file read. */
    public Path file() {
        return file;
    }

    /** The settings, in file order. */
    public List<Entry> entries() {
        return entries;
    }

    /**
     * The settings as command-line arguments, to be followed by the real ones: {@code --key=value}
     * (one word, so that a value may start with a dash), and for a flag ({@code isFlag}) {@code
     * --key} when its value is {@code true}, nothing when {@code false}.
     */
    public List<String> asArguments(Predicate<String> isFlag) {
        List<String> arguments = new ArrayList<>();
        for (Entry entry : entries) {
            if (!isFlag.test(entry.key())) {
                arguments.add("--" + entry.key() + "=" + entry.value());
            } else if (entry.value().equals("true")) {
                arguments.add("--" + entry.key());
            }
        }
        return arguments;
    }
}
