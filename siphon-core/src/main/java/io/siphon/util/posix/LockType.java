package io.siphon.util.posix;

/** The kind of a byte-range lock: shared ({@code F_RDLCK}) or exclusive ({@code F_WRLCK}). */
public enum LockType {
    SHARED(LibC.F_RDLCK),
    EXCLUSIVE(LibC.F_WRLCK);

    final short cValue;

    LockType(short cValue) {
        this.cValue = cValue;
    }
}
