package io.siphon.api;

/** Which part of its work a pull is in. */
public enum PullPhase {
    /** Copying the clusters of the template's access profile. */
    PROFILE,
    /** Copying the rest in offset order. */
    OFFSET
}
