package io.siphon.daemon.web;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format (0.0.4): HELP and TYPE lines, samples
 * with escaped label values and a float value. Anything else, a sample before its family's TYPE, a
 * family declared twice or a sample twice is an error naming the line.
 *
 * @param types each family's type (counter, gauge, histogram, summary, untyped)
 * @param samples each sample's value, keyed by its name and sorted labels: {@code name{a="1",b="2"}}
 */
record PrometheusText(Map<String, String> types, Map<String, Double> samples) {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE =
            Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)})? (\\S+)( -?[0-9]+)?");
    private static final Pattern LABEL =
            Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\",?");
    private static final Pattern VALUE = Pattern.compile("[-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf)|NaN");

    static PrometheusText parse(String text) {
        Map<String, String> types = new LinkedHashMap<>();
        Map<String, Double> samples = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        if (!lines[lines.length - 1].isEmpty()) {
            throw new IllegalArgumentException("the exposition does not end with a newline");
        }
        for (int n = 0; n < lines.length - 1; n++) {
            String line = lines[n];
            String where = "line " + (n + 1) + " '" + line + "'";
            if (line.startsWith("# HELP ")) {
                require(HELP.matcher(line).matches(), where, "malformed HELP");
            } else if (line.startsWith("# TYPE ")) {
                Matcher m = TYPE.matcher(line);
                require(m.matches(), where, "malformed TYPE");
                require(types.put(m.group(1), m.group(2)) == null, where, "family declared twice");
            } else if (line.startsWith("#")) {
                continue; // a comment
            } else {
                Matcher m = SAMPLE.matcher(line);
                require(m.matches(), where, "malformed sample");
                String name = m.group(1);
                require(family(name, types).isPresent(), where, "sample without a TYPE for its family");
                Map<String, String> labels = new TreeMap<>();
                if (m.group(3) != null && !m.group(3).isEmpty()) {
                    Matcher l = LABEL.matcher(m.group(3));
                    int at = 0;
                    while (at < m.group(3).length()) {
                        require(l.find(at) && l.start() == at, where, "malformed labels");
                        require(labels.put(l.group(1), l.group(2)) == null, where, "label repeated");
                        at = l.end();
                    }
                }
                require(VALUE.matcher(m.group(4)).matches(), where, "value is not a float");
                double value = m.group(4).endsWith("Inf")
                        ? (m.group(4).startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
                        : Double.parseDouble(m.group(4));
                require(samples.put(key(name, labels), value) == null, where, "sample repeated");
            }
        }
        return new PrometheusText(types, samples);
    }

    /** The family a sample belongs to: itself, or a histogram's or counter's base name. */
    private static Optional<String> family(String sample, Map<String, String> types) {
        if (types.containsKey(sample)) {
            return Optional.of(sample);
        }
        for (String suffix : new String[] {"_total", "_bucket", "_count", "_sum", "_created"}) {
            if (sample.endsWith(suffix)) {
                String base = sample.substring(0, sample.length() - suffix.length());
                if (types.containsKey(base)) {
                    return Optional.of(base);
                }
            }
        }
        return Optional.empty();
    }

    /** The type of the family {@code sampleKey} belongs to. */
    String typeOf(String sampleKey) {
        String name = sampleKey.contains("{") ? sampleKey.substring(0, sampleKey.indexOf('{')) : sampleKey;
        return family(name, types).map(types::get).orElseThrow();
    }

    static String key(String name, Map<String, String> labels) {
        if (labels.isEmpty()) {
            return name;
        }
        StringBuilder out = new StringBuilder(name).append('{');
        new TreeMap<>(labels)
                .forEach((k, v) -> out.append(k).append("=\"").append(v).append("\","));
        out.setLength(out.length() - 1);
        return out.append('}').toString();
    }

    /** The value of sample {@code name} with exactly {@code labels} (name, value, name, value...). */
    Optional<Double> value(String name, String... labels) {
        Map<String, String> map = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            map.put(labels[i], labels[i + 1]);
        }
        return Optional.ofNullable(samples.get(key(name, map)));
    }

    private static void require(boolean ok, String where, String what) {
        if (!ok) {
            throw new IllegalArgumentException(where + ": " + what);
        }
    }
}
