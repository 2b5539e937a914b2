package io.siphon.protocol;

import java.util.Optional;

/** The control protocol's commands, by wire name; docs/protocol.md describes each. */
public enum Command {
    QMP_CAPABILITIES("qmp_capabilities", true),
    DOMAIN_DEFINE("domain-define", false),
    DOMAIN_UNDEFINE("domain-undefine", false),
    DOMAIN_LIST("domain-list", true),
    DOMAIN_INFO("domain-info", true),
    DOMAIN_START("domain-start", false),
    DOMAIN_SHUTDOWN("domain-shutdown", false),
    DOMAIN_DESTROY("domain-destroy", false),
    DOMAIN_DISKS("domain-disks", true),
    BLOCK_PULL("block-pull", false),
    BLOCK_PULL_STEP("block-pull-step", false),
    BLOCK_JOB_INFO("block-job-info", true),
    BLOCK_JOB_ABORT("block-job-abort", false),
    BLOCK_JOB_SET_SPEED("block-job-set-speed", false),
    BLOCK_JOB_PAUSE("block-job-pause", false),
    BLOCK_JOB_RESUME("block-job-resume", false);

    private final String wireName;
    private final boolean query;

    Command(String wireName, boolean query) {
        this.wireName = wireName;
        this.query = query;
    }

    /** The name in {@code "execute"}. */
    public String wireName() {
        return wireName;
    }

    /** Whether the command only queries (and so is allowed on a read-only connection). */
    public boolean isQuery() {
        return query;
    }

    /** The command named {@code wireName}, if any. */
    public static Optional<Command> byWireName(String wireName) {
        for (Command command : values()) {
            if (command.wireName.equals(wireName)) {
                return Optional.of(command);
            }
        }
        return Optional.empty();
    }
}
