package io.siphon.cli.domain;

import io.siphon.cli.CliException;
import java.util.Optional;

/** virsh's arguments that may be given by position or by option name, but not both. */
final class PositionalOrOption {
    private PositionalOrOption() {}

    /** The value given either way; refused when given both ways. */
    static Optional<String> of(String name, Optional<String> positional, Optional<String> option) throws CliException {
        if (positional.isPresent() && option.isPresent()) {
            throw new CliException(name + " given twice: as an argument and as --" + name);
        }
        return option.or(() -> positional);
    }
}
