package io.siphon.cli;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as qemu-img reads and prints them: {@code 10G}, {@code 1.5M}, {@code 512}; suffixes K, M,
 * G, T, P, E are powers of 1024 (either case), B means bytes. Stateless and thread-safe.
 */
public final class Sizes {
    private static final Pattern DECIMAL = Pattern.compile("\\s*([0-9]+)(\\.[0-9]+)?([bBkKmMgGtTpPeE])?");
    private static final Pattern HEX = Pattern.compile("\\s*0[xX]([0-9a-fA-F]+)");
    private static final String SUFFIXES = "BKMGTPE";
    private static final String[] HUMAN_SUFFIXES = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    private static final BigInteger MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private Sizes() {}

    /**
     * Parses {@code text} into bytes; a fraction needs a unit suffix and is rounded to the nearest byte, as qemu-img rounds it.
     *
     * @throws IllegalArgumentException naming the text when it is not a size or exceeds 2^63-1 bytes
     */
    public static long parse(String text) {
        Matcher hex = HEX.matcher(text);
        if (hex.matches()) {
            return requireInRange(text, new BigDecimal(new BigInteger(hex.group(1), 16)));
        }
        Matcher m = DECIMAL.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid size '" + text
                    + "': use a number with an optional K, M, G, T, P or E suffix (powers of 1024)");
        }
        int power = m.group(3) == null
                ? 0
                : SUFFIXES.indexOf(m.group(3).toUpperCase(Locale.ROOT).charAt(0));
        if (m.group(2) != null && power == 0) {
            throw new IllegalArgumentException(
                    "invalid size '" + text + "': a fraction needs a K, M, G, T, P or E suffix");
        }
        BigDecimal number = new BigDecimal(m.group(1) + (m.group(2) == null ? "" : m.group(2)));
        return requireInRange(text, number.multiply(new BigDecimal(BigInteger.ONE.shiftLeft(10 * power))));
    }

    private static long requireInRange(String text, BigDecimal bytes) {
        BigInteger whole = bytes.setScale(0, RoundingMode.HALF_UP).toBigIntegerExact();
        if (whole.compareTo(MAX) > 0) {
            throw new IllegalArgumentException(
                    "invalid size '" + text + "': must be between 0 and " + Long.MAX_VALUE + " bytes");
        }
        return whole.longValueExact();
    }

    /**
     * Formats {@code bytes} as qemu-img's human output does: three significant digits and a binary
     * unit, switching to the next unit from 1000 on ({@code 10 MiB}, {@code 1.25 MiB}, {@code 0 B}).
     */
    public static String human(long bytes) {
        int exponent = bytes == 0 ? 0 : Math.getExponent(bytes / (1000.0 / 1024.0)) + 1;
        int unit = Math.min((exponent - 1) / 10, HUMAN_SUFFIXES.length - 1);
        double value = (double) bytes / (1L << (unit * 10));
        return threeSignificantDigits(value) + " " + HUMAN_SUFFIXES[unit] + "B";
    }

    /** C's {@code %0.3g}, for the non-negative values {@link #human} produces. */
    private static String threeSignificantDigits(double value) {
        if (value == 0) {
            return "0";
        }
        BigDecimal rounded = new BigDecimal(value).round(new MathContext(3, RoundingMode.HALF_EVEN));
        int decimalExponent = rounded.precision() - rounded.scale() - 1;
        if (decimalExponent >= 3) {
            String mantissa =
                    rounded.movePointLeft(decimalExponent).stripTrailingZeros().toPlainString();
            return mantissa + String.format(Locale.ROOT, "e+%02d", decimalExponent);
        }
        return rounded.stripTrailingZeros().toPlainString();
    }
}
