package io.siphon.cli.image;

import io.siphon.cli.CliException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * qemu-img's {@code -o name=value,name=value} lists, repeatable, later values winning; a comma inside
 * a value is written twice ({@code ,,}), as qemu-img does.
 */
final class OptionList {
    private OptionList() {}

    /** The options in the order first named. */
    static Map<String, String> parse(List<String> lists) throws CliException {
        Map<String, String> options = new LinkedHashMap<>();
        for (String list : lists) {
            for (String item : splitOnSingleCommas(list)) {
                int equals = item.indexOf('=');
                if (equals <= 0) {
                    throw new CliException(
                            "invalid option list '" + list + "': expected name=value, got '" + item + "'");
                }
                options.put(item.substring(0, equals), item.substring(equals + 1));
            }
        }
        return options;
    }

    private static List<String> splitOnSingleCommas(String list) {
        List<String> items = new java.util.ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < list.length(); i++) {
            char c = list.charAt(i);
            if (c == ',' && i + 1 < list.length() && list.charAt(i + 1) == ',') {
                current.append(',');
                i++;
            } else if (c == ',') {
                items.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        items.add(current.toString());
        return items;
    }
}
