package io.siphon.block.filter;

/** Told of each guest read at a disk's front, before it runs; must be quick and must not throw. */
@FunctionalInterface
public interface GuestReadListener {
    void guestRead(long offsetBytes, long lengthBytes);
}
