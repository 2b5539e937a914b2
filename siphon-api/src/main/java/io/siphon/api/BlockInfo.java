package io.siphon.api;

/**
 * A disk's sizes, as {@code virDomainGetBlockInfo} and {@code virsh domblkinfo} give them.
 *
 * @param capacityBytes the disk's size as the guest sees it (the top image's virtual size)
 * @param allocationBytes the host storage the top image file holds (its allocated blocks)
 * @param physicalBytes the top image file's size on the host
 */
public record BlockInfo(long capacityBytes, long allocationBytes, long physicalBytes) {
    public BlockInfo {
        if (capacityBytes < 0 || allocationBytes < 0 || physicalBytes < 0) {
            throw new IllegalArgumentException("negative size in capacity " + capacityBytes + ", allocation "
                    + allocationBytes + ", physical " + physicalBytes);
        }
    }
}
