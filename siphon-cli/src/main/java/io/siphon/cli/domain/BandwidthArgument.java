package io.siphon.cli.domain;

import java.math.BigInteger;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A block-job bandwidth as virsh reads it: a plain number is in the command's unit (MiB/s, or bytes/s
 * with {@code --bytes}); a number with a suffix (K, KiB, KB, M, MiB, MB … E, B) is a byte rate,
 * converted to MiB/s (rounded down) unless {@code --bytes}. Stateless.
 */
final class BandwidthArgument {
    private static final Pattern SCALED = Pattern.compile("([0-9]+)([a-zA-Z]*)");
    private static final Map<String, BigInteger> UNITS = units();

    private BandwidthArgument() {}

    private static Map<String, BigInteger> units() {
        java.util.HashMap<String, BigInteger> units = new java.util.HashMap<>();
        units.put("", BigInteger.ONE);
        units.put("b", BigInteger.ONE);
        String prefixes = "kmgtpe";
        for (int i = 0; i < prefixes.length(); i++) {
            String prefix = String.valueOf(prefixes.charAt(i));
            BigInteger binary = BigInteger.ONE.shiftLeft(10 * (i + 1));
            units.put(prefix, binary);
            units.put(prefix + "ib", binary);
            units.put(prefix + "b", BigInteger.valueOf(1000).pow(i + 1));
        }
        return Map.copyOf(units);
    }

    /**
     * The value to hand the API for {@code text}: MiB/s, or bytes/s when {@code bytes}.
     *
     * @throws IllegalArgumentException naming {@code text} when it is negative, malformed or too large
     */
    static long parse(String text, boolean bytes) {
        Matcher m = SCALED.matcher(text.strip());
        if (!m.matches()) {
            throw malformed(text);
        }
        String suffix = m.group(2).toLowerCase(Locale.ROOT);
        BigInteger unit = UNITS.get(suffix);
        if (unit == null) {
            throw malformed(text);
        }
        BigInteger value = new BigInteger(m.group(1));
        if (!suffix.isEmpty()) {
            value = value.multiply(unit);
            if (!bytes) {
                value = value.shiftRight(20);
            }
        }
        if (value.bitLength() > 63) {
            throw malformed(text);
        }
        return value.longValueExact();
    }

    private static IllegalArgumentException malformed(String text) {
        return new IllegalArgumentException(
                "Scaled numeric value '" + text + "' for <--bandwidth> option is malformed or out of range");
    }
}
